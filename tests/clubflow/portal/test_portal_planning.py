"""Monthly plans in the portal as a club admin submits them: the quarter plan's message links
to the club's plans, the form stores the submission, a bad plan shows why with what was typed
kept, and someone else is refused."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from gate_runner import GateRunner
from portal_client import csrf_of
from quarter_support import plan_confirmed
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Club
from domain.models_audit import Refusal
from domain.models_planning import ClubSlot, MonthlyPlanSubmission
from domain.models_portal import PortalAudit


@pytest.fixture(scope="session")
def _quarter(prefect_server) -> GateRunner:
    return GateRunner(["plan-quarter"])


@pytest.fixture
def quarter_runner(_quarter, channels) -> GateRunner:
    _quarter.reset()
    return _quarter


def _plan_next_quarter(runner, portal, db_url, tmp_path) -> list[tuple[str, str, str]]:
    """The quarter plan HQ drafts and confirms on 1 December: C-CH001's 2027Q1 slots."""
    plan_confirmed(runner, quarter="2027Q1", now=portal.clock(), ics_dir=tmp_path)
    portal.app.state.portal.deliver()
    return _slots(db_url)


def _club_id(db_url) -> int:
    with session_scope(db_url) as session:
        return session.execute(select(Club.id).where(Club.code == "C-CH001")).scalar_one()


def _slots(db_url) -> list[tuple[str, str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(ClubSlot.month, ClubSlot.due_on, ClubSlot.status)
            .where(ClubSlot.club_id == _club_id(db_url))
            .order_by(ClubSlot.month)
        ).all()
    return [(f"{m:%Y-%m}", d.isoformat(), s) for m, d, s in rows]


def _form(page, **values) -> dict:
    return {"csrf": csrf_of(page.text), **values}


GOOD = {
    "title": "龙泉山 踏青自驾",
    "activity_class": "D",
    "starts_on": "2027-01-16",
    "ends_on": "2027-01-17",
    "place": "龙泉山",
    "expected_participants": "25",
    "budget": "场地 800\n餐饮，1200.5",
    "subsidy_requested": "1500",
}


def test_the_slot_message_links_to_the_plans_and_the_admin_submits_one(
    quarter_runner, portal, db_url, tmp_path
):
    slots = _plan_next_quarter(quarter_runner, portal, db_url, tmp_path)
    assert [s[0] for s in slots] == ["2027-01", "2027-02", "2027-03"]
    message = next(m for m in portal.sink.to("person/admin.ch001") if "请提报" in m.title)
    link = re.search(r"处理：(\S+)", message.body).group(1)
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    listing = client.get(urlsplit(link).path)
    assert str(listing.url).endswith("/plans")
    assert '待提报档期 <span class="muted">3 个</span>' in listing.text
    january, due = slots[0][0], slots[0][1]
    assert f"{due} 前提报" in listing.text and "尚未提报。" in listing.text

    tasks = client.get("/")
    assert f"提报 {january} 月度活动计划" in tasks.text
    assert f'href="/plans/new?month={january}"' in tasks.text

    form = client.get(f"/plans/new?month={january}")
    assert form.status_code == 200 and 'value="2027-01-01"' in form.text  # the slot's month
    done = client.post("/plans/new", data=_form(form, **GOOD))
    assert done.status_code == 200 and str(done.url).split("?")[0].endswith("/plans")
    assert "已提报：龙泉山 踏青自驾（2027-01）" in done.text
    assert '待提报档期 <span class="muted">2 个</span>' in done.text
    assert "¥1,500.00" in done.text and "admin.ch001" in done.text

    with session_scope(db_url) as session:
        row = session.execute(select(MonthlyPlanSubmission)).scalar_one()
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.outcome).where(
                PortalAudit.action == "plans.submit"
            )
        ).all()
    assert (row.title, row.klass, row.submitted_by, row.club_id) == (
        "龙泉山 踏青自驾",
        "D",
        "admin.ch001",
        _club_id(db_url),
    )
    assert row.budget == [{"item": "场地", "amount": 800.0}, {"item": "餐饮", "amount": 1200.5}]
    assert row.submitted_at == portal.clock() and row.status == "submitted"
    assert [tuple(a) for a in audit] == [("person:admin.ch001", "ok")]
    assert _slots(db_url)[0][2] == "submitted"
    assert f"提报 {january} 月度活动计划" not in client.get("/").text


def test_a_bad_plan_shows_the_error_and_keeps_what_was_typed(
    quarter_runner, portal, db_url, tmp_path
):
    _plan_next_quarter(quarter_runner, portal, db_url, tmp_path)
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    form = client.get("/plans/new")

    backwards = client.post("/plans/new", data=_form(form, **{**GOOD, "ends_on": "2027-01-10"}))
    assert backwards.status_code == 409
    assert "ends_on 2027-01-10 is before starts_on 2027-01-16" in backwards.text
    assert 'value="龙泉山 踏青自驾"' in backwards.text and 'value="2027-01-10"' in backwards.text
    assert "场地 800" in backwards.text

    no_slot = client.post("/plans/new", data=_form(form, **{**GOOD, "starts_on": "2027-05-02",
                                                            "ends_on": "2027-05-02"}))  # fmt: skip
    assert no_slot.status_code == 409 and "no planned slot for 2027-05" in no_slot.text

    budget = client.post("/plans/new", data=_form(form, **{**GOOD, "budget": "场地八百"}))
    assert budget.status_code == 400 and "预算第 1 行“场地八百”应为“项目 金额”" in budget.text

    untitled = client.post("/plans/new", data=_form(form, **{**GOOD, "title": ""}))
    assert untitled.status_code == 400 and "活动名称" in untitled.text

    with session_scope(db_url) as session:
        assert session.execute(select(MonthlyPlanSubmission)).first() is None
        refusals = session.execute(select(Refusal.action, Refusal.actor)).all()
    # The store's refusals (the two SubmissionErrors); typing errors are only audited.
    assert [tuple(r) for r in refusals] == [("plans.submit", "admin.ch001")] * 2


def test_only_a_club_admin_submits_plans(portal, db_url):
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    assert client.get("/plans").status_code == 403
    page = client.get("/")
    refused = client.post("/plans/new", data=_form(page, **GOOD))
    assert refused.status_code == 403 and "不是俱乐部管理员" in refused.text
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.actor)).all()
    assert [tuple(r) for r in rows] == [
        ("plans.list", "dealer:CH001"),
        ("plans.submit", "dealer:CH001"),
    ]
