"""Club onboarding in the portal: a new dealer's staff register their club and submit the
checklist, Chengdu's specialist returns one item with a reason and approves the rest after the
resubmission, and the club is active on /clubs; another dealer and another region's specialist
are refused (recorded). The ranking page shows the latest month's stored scores."""

from __future__ import annotations

from datetime import date

from browser_support import open_session_cookie
from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from clubflow.portal.web import COOKIE
from domain.models import Club
from domain.models_audit import Refusal
from domain.models_clubs import ClubChecklistItem, ClubScore
from tasks.clubs.onboarding import add_dealer, add_person

NAME = "坦克·羽林·300·成都·越野俱乐部"
OFFICERS = {"会长": "o.head", "军师": "o.adviser", "长史": "o.clerk"}
CODE = "C-CH900"


def _onboard_people(db_url, now) -> None:
    with session_scope(db_url) as session:
        add_dealer(
            session=session,
            username="hq.manager",
            code="CH900",
            name="成都新店",
            city="成都",
            region_code="chengdu",
            now=now,
        )
        add_person(
            session=session,
            username="hq.manager",
            person="staff.ch900",
            name="店员",
            role="dealer",
            phone="+8613800009000",
            dealer_code="CH900",
            now=now,
        )
        for n, who in enumerate(OFFICERS.values()):
            add_person(
                session=session,
                username="hq.manager",
                person=who,
                name=f"官{n}",
                role="club_admin",
                phone=f"+86139000{n:05d}",
                region_code="chengdu",
                now=now,
            )


def _items() -> list[str]:
    s = get_settings()
    return s.club_required_items + s.club_optional_items


def _states(db_url) -> dict[str, tuple[str, int, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(ClubChecklistItem)
            .join(Club, Club.id == ClubChecklistItem.club_id)
            .where(Club.code == CODE)
        ).scalars()
        return {r.item: (r.status, r.round, r.return_reason) for r in rows}


def _refusals(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def _register(portal, db_url):
    _onboard_people(db_url, portal.clock())
    # The new staff member has no message channel in the test block: a session is opened
    # for them as the sign-in would.
    dealer = portal.client()
    dealer.cookies.set(
        COOKIE,
        open_session_cookie(
            portal.app, database_url=db_url, who="person:staff.ch900", now=portal.clock()
        ),
    )
    page = dealer.get("/clubs")
    assert page.status_code == 200 and 'href="/clubs/new"' in page.text
    form = dealer.get("/clubs/new")
    data = {"csrf": csrf_of(form.text), "name": NAME, "grade": "营"}
    data |= {f"officer_{t}": who for t, who in OFFICERS.items()}
    bad = dealer.post("/clubs/new", data=data | {"name": "坦克 成都 俱乐部"})
    assert bad.status_code == 400 and "name: parts must be joined by" in bad.text
    done = dealer.post("/clubs/new", data=data)
    assert done.status_code == 200 and str(done.url).endswith(f"/clubs/{CODE}")
    required = len(get_settings().club_required_items)
    assert "待审核 (pending)" in done.text and f"必备项通过 0 / {required}" in done.text
    assert "+86139****0000" in done.text and "+8613900000000" not in done.text
    return dealer, done


def test_a_dealer_registers_and_the_specialist_reviews_until_the_club_is_active(portal, db_url):
    dealer, page = _register(portal, db_url)
    evidence = {f"evidence_{i}": f"https://pan.example/{i}" for i in _items()}
    sent = dealer.post(f"/clubs/{CODE}/evidence", data={"csrf": csrf_of(page.text)} | evidence)
    assert sent.status_code == 200 and "已提交材料" in sent.text
    assert {s for s, _r, _x in _states(db_url).values()} == {"submitted"}

    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    listed = specialist.get("/clubs")
    assert f'href="/clubs/{CODE}"' in listed.text
    review = specialist.get(f"/clubs/{CODE}")
    csrf = csrf_of(review.text)
    no_reason = specialist.post(
        f"/clubs/{CODE}/review", data={"csrf": csrf, "item": "logo", "decision": "return"}
    )
    assert no_reason.status_code == 400 and "a returned item needs a reason" in no_reason.text
    returned = specialist.post(
        f"/clubs/{CODE}/review",
        data={"csrf": csrf, "item": "logo", "decision": "return", "reason": "队标不清晰"},
    )
    assert returned.status_code == 200 and "<td>returned</td><td>队标不清晰</td>" in returned.text
    assert _states(db_url)["logo"] == ("returned", 1, "队标不清晰")

    again = dealer.get(f"/clubs/{CODE}")
    assert "队标不清晰" in again.text
    resent = dealer.post(
        f"/clubs/{CODE}/evidence",
        data={"csrf": csrf_of(again.text), "evidence_logo": "https://pan.example/logo-v2"},
    )
    assert resent.status_code == 200
    assert _states(db_url)["logo"] == ("submitted", 2, "")

    for item in _items():
        done = specialist.post(
            f"/clubs/{CODE}/review", data={"csrf": csrf, "item": item, "decision": "approve"}
        )
        assert done.status_code == 200, (item, done.text[:300])
    assert {s for s, _r, _x in _states(db_url).values()} == {"approved"}
    listed = dealer.get("/clubs")
    assert "已激活 (active)" in listed.text
    assert _refusals(db_url) == []


def test_another_dealer_and_another_regions_specialist_are_refused_and_recorded(portal, db_url):
    _dealer, page = _register(portal, db_url)
    other = portal.sign_in("dealer.ch002", "person/dealer.ch002")
    home = other.get("/")
    assert CODE not in other.get("/clubs").text
    refused = other.post(
        f"/clubs/{CODE}/evidence",
        data={"csrf": csrf_of(home.text), "evidence_logo": "https://pan.example/x"},
    )
    assert refused.status_code == 403
    beijing = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    page = beijing.get("/clubs")
    assert CODE not in page.text
    review = beijing.post(
        f"/clubs/{CODE}/review", data={"csrf": csrf_of(page.text), "item": "logo"}
    )
    assert review.status_code == 403
    assert _refusals(db_url) == [
        ("clubs.submit", f"club:{CODE}", "dealer:CH002"),
        ("clubs.review", f"club:{CODE}", "specialist.beijing"),
    ]
    assert {s for s, _r, _x in _states(db_url).values()} == {"missing"}


def test_the_ranking_shows_the_latest_months_scores(portal, db_url):
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        for month, score in ((date(2026, 10, 1), 10.0), (date(2026, 11, 1), 42.5)):
            session.add(
                ClubScore(
                    club_id=club.id,
                    month=month,
                    region_code=club.region_code,
                    score=score,
                    figures={},
                    region_place=1,
                    national_place=1,
                )
            )
        name = club.name
    agent = portal.sign_in("agent1", "person/agent1")
    page = agent.get("/clubs/ranking")
    assert page.status_code == 200 and "2026-11" in page.text
    assert f"<td>1</td><td>{name}（C-CH001）</td><td>chengdu</td><td>42.50</td>" in page.text
    assert "10.00" not in page.text
