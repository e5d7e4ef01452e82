"""/tiers: a member sees their tier, its privileges and what is missing to the next tier; HQ
edits a privilege; a club admin is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from portal_client import csrf_of
from sqlalchemy import select, update
from support_checkin import sign_in_member

from clubflow.core.db import session_scope
from domain.models import Member
from domain.models_audit import Refusal
from domain.models_points import MemberTransaction
from domain.models_tiers import TierPrivilege

SH = ZoneInfo("Asia/Shanghai")


def test_a_member_sees_their_tier_and_what_is_missing(portal, db_url):
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == "M000001")).scalar_one()
        session.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(tier="silver", points=6000, service_visits=4)
        )
        session.add(
            MemberTransaction(
                txn_id="DMS-1",
                member_id=member.id,
                kind="purchase",
                amount_yuan=100_000,
                occurred_at=datetime(2026, 11, 1, 10, tzinfo=SH),
            )
        )
        phone = member.phone
    page = sign_in_member(portal, phone).get("/tiers")
    assert page.status_code == 200, page.text
    assert "当前等级：<strong>银卡会员</strong>" in page.text
    assert "近一年消费 ¥100000" in page.text
    assert "距金卡会员还差（任一条件即可）：积分 9000，或近一年消费 ¥50000" in page.text
    assert "额外免费保养次数" in page.text and "1.2" in page.text
    assert "金卡会员" not in page.text.split("<table>")[1]  # only the member's own tier
    assert "/tiers/privileges" not in page.text


def test_hq_edits_a_privilege_and_a_club_admin_is_refused(portal, db_url):
    hq = portal.sign_in("hq.manager", "person/hq.manager")
    page = hq.get("/tiers")
    assert page.status_code == 200 and "积分倍率" in page.text and "1.5" in page.text
    done = hq.post(
        "/tiers/privileges",
        data={"csrf": csrf_of(page.text), "tier": "gold", "code": "extra_maintenance",
              "value": "3"},
    )  # fmt: skip
    assert done.status_code == 200 and "已保存：gold extra_maintenance" in done.text
    with session_scope(db_url) as session:
        row = session.execute(
            select(TierPrivilege.value, TierPrivilege.updated_by).where(
                TierPrivilege.tier == "gold", TierPrivilege.code == "extra_maintenance"
            )
        ).one()
    assert tuple(row) == ("3", "hq.manager")

    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    assert admin.get("/tiers").status_code == 403
    home = admin.get("/")
    refused = admin.post(
        "/tiers/privileges",
        data={"csrf": csrf_of(home.text), "tier": "gold", "code": "extra_maintenance",
              "value": "9"},
    )  # fmt: skip
    assert refused.status_code == 403
    with session_scope(db_url) as session:
        actions = session.execute(
            select(Refusal.action, Refusal.actor).where(Refusal.action.like("%privileges%"))
        ).all()
    assert [tuple(a) for a in actions] == [("members.privileges.set", "admin.ch001")]
