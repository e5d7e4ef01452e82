"""Check-in at the event: the QR poster, members scanning it on their phones, the club's
manual list, registration; refusals are one line and recorded."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import unquote

import pytest
from portal_client import csrf_of
from sqlalchemy import select
from support_checkin import CODE, activity, members_of, roomy, sign_in_member  # noqa: F401

from clubflow.core.db import session_scope
from domain.models import Activity, Member, Registration
from domain.models_audit import Refusal

pytestmark = pytest.mark.usefixtures("roomy", "activity")


def _qr_path(portal, client=None) -> str:
    client = client or portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get(f"/activities/{CODE}/qr")
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "签到码有效期：2026-12-01 至 2026-12-02" in page.text
    return re.search(rf"https?://[^/\s<]+(/checkin/{CODE}/[\w.\-]+)", page.text).group(1)


def _registrations(db_url) -> dict[str, tuple[str, bool]]:
    """member_no → (source, checked in) of the activity's registrations."""
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Member.member_no, Registration.source, Registration.checked_in_at)
            .join(Registration, Registration.member_id == Member.id)
            .join(Activity, Activity.id == Registration.activity_id)
            .where(Activity.code == CODE)
        ).all()
        return {no: (source, at is not None) for no, source, at in rows}


def _refusals(db_url, action="activity.checkin") -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return [
            (r.actor, r.reason)
            for r in session.execute(
                select(Refusal).where(Refusal.action == action).order_by(Refusal.id)
            ).scalars()
        ]


def _scan(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf": csrf_of(page.text)})


def test_members_check_in_by_scanning_the_poster_and_twice_counts_once(portal, db_url):
    path = _qr_path(portal)
    stranger = portal.client().get(path, follow_redirects=False)
    assert stranger.status_code == 303
    assert unquote(stranger.headers["location"]) == f"/login?next={path}"

    members = members_of(db_url, "C-CH001")[:4]
    for _no, phone in members[:3]:
        client = sign_in_member(portal, phone)
        page = client.get(path)
        assert "雨林穿越 冬季站" in page.text and ">签到</button>" in page.text
        done = client.post(path, data={"csrf": csrf_of(page.text)})
        assert done.status_code == 200
        assert "签到成功" in done.text and "已签到 · 2026-12-01 09:00" in done.text

    no, phone = members[3]
    client = sign_in_member(portal, phone)
    assert "签到成功" in _scan(client, path).text
    portal.clock.advance(minutes=30)
    again = client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert "已签到（此前已签到，不重复计）" in again.text
    # The first check-in time stays the record.
    assert "已签到 · 2026-12-01 09:00" in client.get(path).text

    assert _registrations(db_url) == {no: ("qr", True) for no, _ in members}


def test_a_member_who_scans_signs_in_and_lands_on_the_scan_page(portal, db_url):
    path = _qr_path(portal)
    _no, phone = members_of(db_url, "C-CH001")[0]
    client = portal.client()
    login = client.get(path)  # followed to the sign-in page, next= the scan page
    assert "登录" in login.text
    client.post(
        "/login/code", data={"identifier": phone, "csrf": csrf_of(login.text), "next": path}
    )
    page = client.get("/login")
    landed = client.post(
        "/login/verify",
        data={
            "identifier": phone,
            "code": portal.last_code(f"sms/{phone.removeprefix('+86')}"),
            "csrf": csrf_of(page.text),
            "next": path,
        },
    )
    assert landed.url.path == path
    assert "雨林穿越 冬季站" in landed.text and ">签到</button>" in landed.text


def test_an_expired_or_forged_code_is_refused_and_recorded(portal, db_url):
    path = _qr_path(portal)
    no, phone = members_of(db_url, "C-CH001")[0]
    client = sign_in_member(portal, phone)
    csrf = csrf_of(client.get(path).text)

    forged = client.post(path[:-3] + "xyz", data={"csrf": csrf})
    assert forged.status_code == 403
    assert "签到码无效" in forged.text and ">签到</button>" not in forged.text

    portal.clock.advance(days=2)  # 2026-12-03: the day after the day of grace
    client = sign_in_member(portal, phone)  # the first session is still fine; a fresh one too
    expired = client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert expired.status_code == 403
    assert "签到码已于 2026-12-02 过期" in expired.text

    refusals = _refusals(db_url)
    assert [actor for actor, _ in refusals] == [f"member:{no}", f"member:{no}"]
    assert "签到码无效" in refusals[0][1] and "过期" in refusals[1][1]
    assert _registrations(db_url) == {}


def test_the_day_after_the_end_still_checks_in(portal, db_url):
    path = _qr_path(portal)
    portal.clock.advance(days=1)
    no, phone = members_of(db_url, "C-CH001")[1]
    assert "签到成功" in _scan(sign_in_member(portal, phone), path).text
    assert _registrations(db_url) == {no: ("qr", True)}


def test_a_cancelled_activity_refuses_the_scan(portal, db_url):
    path = _qr_path(portal)
    no, phone = members_of(db_url, "C-CH001")[0]
    client = sign_in_member(portal, phone)
    with session_scope(db_url) as session:
        session.execute(
            select(Activity).where(Activity.code == CODE)
        ).scalar_one().status = "cancelled"
    refused = client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert refused.status_code == 403 and "当前为 cancelled，不能签到" in refused.text
    assert len(_refusals(db_url)) == 1


def test_a_member_of_another_club_may_join(portal, db_url):
    """Check-in does not ask which club a member belongs to: anyone may join an event."""
    path = _qr_path(portal)
    no, phone = members_of(db_url, "C-SH001")[0]
    assert "签到成功" in _scan(sign_in_member(portal, phone), path).text
    assert _registrations(db_url) == {no: ("qr", True)}


def test_staff_who_scan_the_poster_are_sent_to_the_list(portal, db_url):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    path = _qr_path(portal, client)
    page = client.get(path)
    assert "请使用" in page.text and f'href="/activities/{CODE}/checkin"' in page.text
    assert ">签到</button>" not in page.text
    refused = client.post(path, data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert _refusals(db_url) == [
        ("admin.ch001", "admin.ch001 是工作人员：请在签到名单中签到 (staff use the list)")
    ]
    assert _registrations(db_url) == {}


def test_who_may_print_the_poster(portal, db_url):
    for username in ("specialist.chengdu", "hq.manager", "dealer.ch001"):
        assert (
            portal.sign_in(username, f"person/{username}").get(f"/activities/{CODE}/qr").status_code
            == 200
        )
    for username in ("admin.ch002", "specialist.shenyang"):
        page = portal.sign_in(username, f"person/{username}").get(f"/activities/{CODE}/qr")
        assert page.status_code == 403 and "不能打印活动" in page.text
    _no, phone = members_of(db_url, "C-CH001")[0]
    assert sign_in_member(portal, phone).get(f"/activities/{CODE}/qr").status_code == 403
    assert len(_refusals(db_url, "checkin.qr")) == 3


def _list(client, q=""):
    page = client.get(f"/activities/{CODE}/checkin", params={"q": q} if q else None)
    assert page.status_code == 200, page.text
    return page


def test_staff_register_then_check_in_from_the_list(portal, db_url):
    members = members_of(db_url, "C-CH001")
    (a, phone_a), (b, _), (c, _), (d, phone_d) = members[:4]
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")

    page = admin.get(f"/activities/{CODE}/register")
    done = admin.post(
        f"/activities/{CODE}/register",
        data={"csrf": csrf_of(page.text), "members": f"{a}\n{b}, {c}"},
    )
    assert "已报名 3 人（0 人此前已报名）" in done.text
    again = admin.post(
        f"/activities/{CODE}/register", data={"csrf": csrf_of(page.text), "members": a}
    )
    assert "已报名 0 人（1 人此前已报名）" in again.text
    unknown = admin.post(
        f"/activities/{CODE}/register", data={"csrf": csrf_of(page.text), "members": "M999999"}
    )
    assert unknown.status_code == 400 and "'M999999' is not a member" in unescape(unknown.text)
    assert _refusals(db_url, "activity.register")[0][0] == "admin.ch001"

    page = _list(admin)
    assert "已报名 3 人 · 已签到 0 人" in page.text
    assert phone_a not in page.text and phone_a[-4:] in page.text  # masked
    found = _list(admin, a)
    assert a in found.text and b not in found.text
    assert a in _list(admin, phone_a[-4:]).text

    # Tick a and b; add d by phone (not registered: registered on the spot).
    done = admin.post(
        f"/activities/{CODE}/checkin",
        data={"csrf": csrf_of(page.text), f"m-{a}": "1", f"m-{b}": "1", "add": phone_d[3:]},
    )
    assert "签到 3 人（其中现场报名 1 人）" in done.text
    assert "已报名 4 人 · 已签到 3 人" in done.text
    twice = admin.post(
        f"/activities/{CODE}/checkin", data={"csrf": csrf_of(page.text), f"m-{a}": "1"}
    )
    assert "签到 0 人，1 人此前已签到（不重复计）" in twice.text
    assert _registrations(db_url) == {
        a: ("app", True),
        b: ("app", True),
        c: ("app", False),
        d: ("portal", True),
    }

    nobody = admin.post(
        f"/activities/{CODE}/checkin", data={"csrf": csrf_of(page.text), "add": "M999999"}
    )
    assert nobody.status_code == 400 and "'M999999' is not a member" in unescape(nobody.text)
    assert _refusals(db_url)[-1][0] == "admin.ch001"


def test_the_list_is_the_clubs_own(portal, db_url):
    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    assert "已报名 0 人 · 已签到 0 人" in _list(dealer).text
    for username in ("admin.ch002", "specialist.chengdu"):
        client = portal.sign_in(username, f"person/{username}")
        page = client.get(f"/activities/{CODE}/checkin")
        assert page.status_code == 403 and "is the club's" in unescape(page.text)
    _no, phone = members_of(db_url, "C-CH001")[0]
    member = sign_in_member(portal, phone)
    assert member.get(f"/activities/{CODE}/checkin").status_code == 403
    assert member.get(f"/activities/{CODE}/register").status_code == 403
    assert [actor for actor, _ in _refusals(db_url, "checkin.list")] == [
        "admin.ch002",
        "specialist.chengdu",
        f"member:{_no}",
    ]


def test_check_in_before_the_start_day_is_refused(portal, db_url):
    with session_scope(db_url) as session:
        row = session.execute(select(Activity).where(Activity.code == CODE)).scalar_one()
        row.starts_on = row.ends_on = row.starts_on + timedelta(days=3)
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    path = _qr_path_at(admin)
    no, phone = members_of(db_url, "C-CH001")[0]
    member = sign_in_member(portal, phone)
    page = member.get(path)
    assert "签到从 2026-12-04 开始" in page.text and ">签到</button>" not in page.text
    listed = admin.post(
        f"/activities/{CODE}/checkin", data={"csrf": csrf_of(_list(admin).text), "add": no}
    )
    assert listed.status_code == 400 and "check-in opens then" in listed.text


def _qr_path_at(client) -> str:
    page = client.get(f"/activities/{CODE}/qr")
    return re.search(rf"(/checkin/{CODE}/[\w.\-]+)", page.text).group(1)
