"""The member's own page, the same view for staff, and a club admin registering a member."""

from __future__ import annotations

from html import unescape

import pytest
from portal_client import csrf_of
from sqlalchemy import select
from support_checkin import CODE, activity, members_of, roomy, sign_in_member  # noqa: F401

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.activities import CheckinRow
from domain.models import Club, Member, PointsEntry
from domain.models_audit import Refusal
from tasks.activities.checkin import check_in
from tasks.activities.points import issue_activity_points

pytestmark = pytest.mark.usefixtures("roomy")


def _refusals(db_url, action: str) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return [
            (r.actor, r.subject)
            for r in session.execute(
                select(Refusal).where(Refusal.action == action).order_by(Refusal.id)
            ).scalars()
        ]


def test_a_club_admin_registers_a_member_and_the_activation_code_goes_out(portal, db_url):
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = admin.get("/members/new")
    assert page.status_code == 200 and "登记新会员" in page.text
    done = admin.post(
        "/members/new",
        data={
            "csrf": csrf_of(page.text),
            "name": "李雷",
            "phone": "138 1234 5678",
            "birthday": "1988-05-20",
        },
    )
    assert done.status_code == 200, done.text
    with session_scope(db_url) as session:
        member = session.execute(
            select(Member).where(Member.phone == "+8613812345678")
        ).scalar_one()
        club = session.get(Club, member.club_id)
        number, status, birthday = member.member_no, member.status, str(member.birthday)
    assert (club.code, status, birthday) == ("C-CH001", "registered", "1988-05-20")
    assert f"已登记会员 {number}（李雷），激活码已发送到 +86138****5678" in done.text
    assert "13812345678" not in done.text
    [message] = portal.sink.to("sms/13812345678")
    assert number in message.body

    # The same phone again merges: no second member, no second code.
    again = admin.post(
        "/members/new",
        data={"csrf": csrf_of(page.text), "name": "李雷", "phone": "+86 13812345678"},
    )
    assert f"已是会员 {number}" in again.text
    assert len(portal.sink.to("sms/13812345678")) == 1


def test_bad_fields_get_one_clear_line_each_and_nothing_is_registered(portal, db_url):
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = admin.get("/members/new")
    with session_scope(db_url) as session:
        before = len(session.execute(select(Member.id)).all())
    bad = admin.post(
        "/members/new",
        data={"csrf": csrf_of(page.text), "name": "", "phone": "12345", "birthday": "1988-13-01"},
    )
    assert bad.status_code == 400
    text = unescape(bad.text)
    assert text.count('class="error"') == 3
    assert "请填写姓名" in text and "手机号" in text and "生日 '1988-13-01' 不是日期" in text
    assert "手机号 12345 is not a valid number" in text
    with session_scope(db_url) as session:
        assert len(session.execute(select(Member.id)).all()) == before


def test_only_club_staff_register_members(portal, db_url):
    for username in ("specialist.chengdu", "hq.manager"):
        page = portal.sign_in(username, f"person/{username}").get("/members/new")
        assert page.status_code == 403 and "不能登记会员" in page.text
    _no, phone = members_of(db_url, "C-CH001")[0]
    assert sign_in_member(portal, phone).get("/members/new").status_code == 403
    assert [a for a, _ in _refusals(db_url, "member.register")] == [
        "specialist.chengdu",
        "hq.manager",
        f"member:{_no}",
    ]


@pytest.mark.usefixtures("activity")
def test_my_page_shows_the_ledger_after_points(portal, db_url):
    (a, phone_a), (b, _phone_b) = members_of(db_url, "C-CH001")[:2]
    settings = get_settings()
    with session_scope(db_url) as session:
        check_in(
            session=session,
            code=CODE,
            rows=[CheckinRow(member_no=a)],
            now=portal.clock(),
            source="qr",
        )
    with session_scope(db_url) as session:
        issue_activity_points(session=session, code=CODE, now=portal.clock(), settings=settings)
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == a)).scalar_one()
        [entry] = session.execute(
            select(PointsEntry).where(PointsEntry.member_id == member.id)
        ).scalars()
        points, amount, rank = member.points, entry.amount, member.rank
    assert points == amount > 0
    portal.app.state.portal.deliver()  # what the points step queued goes out before sign-in

    client = sign_in_member(portal, phone_a)
    page = client.get("/me")
    assert page.status_code == 200
    assert a in page.text and "普通会员" in page.text and rank in page.text
    assert f"<strong>{points}</strong>" in page.text
    assert f"参加活动：雨林穿越 冬季站</td>\n      <td>+{amount}</td>" in page.text
    assert "已签到" in page.text and "2026-12-01 09:00" in page.text
    assert phone_a not in page.text and phone_a[-4:] in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/me"
    assert client.get(f"/members/{a}", follow_redirects=False).headers["location"] == "/me"

    # Another member's page is refused, and recorded.
    other = client.get(f"/members/{b}")
    assert other.status_code == 403 and b in other.text
    assert _refusals(db_url, "member.view") == [(f"member:{a}", f"member:{b}")]


def test_staff_see_the_members_they_look_after(portal, db_url):
    a, _ = members_of(db_url, "C-CH001")[0]
    x, _ = members_of(db_url, "C-SH001")[0]
    for username in ("admin.ch001", "specialist.chengdu", "hq.manager"):
        page = portal.sign_in(username, f"person/{username}").get(f"/members/{a}")
        assert page.status_code == 200 and "积分明细" in page.text and "暂无积分记录" in page.text
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    assert admin.get(f"/members/{x}").status_code == 403
    assert admin.get("/members/M999999").status_code == 403
    assert _refusals(db_url, "member.view") == [
        ("admin.ch001", f"member:{x}"),
        ("admin.ch001", "member:M999999"),
    ]
