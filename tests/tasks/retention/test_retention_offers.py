"""Sleeping members' monthly offers: once a month, capped, only with marketing consent."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.consent import ContactChannel, Purpose
from domain.models import Member, Notification
from domain.models_retention import MemberOffer
from tasks.retention.consent import set_consent
from tasks.retention.offers import offer_sleeping_members

SH = ZoneInfo("Asia/Shanghai")
SLEEPING = ["M000001", "M000002", "M000003"]


def _on(month: int, year: int = 2027) -> tuple[date, datetime]:
    return date(year, month, 5), datetime(year, month, 5, 10, tzinfo=SH)


@pytest.fixture
def sleeping(world, db_url, settings_env):
    settings_env(retention_offer_cap=2, retention_offer_window_months=3)
    with session_scope(db_url) as session:
        session.execute(update(Member).values(status="expired"))
        session.execute(
            update(Member)
            .where(Member.member_no.in_(SLEEPING))
            .values(status="active", segment="sleeping", segment_since=date(2026, 10, 1))
        )
        # M000003 withdrew the marketing consent given at registration.
        set_consent(
            session=session,
            member_no="M000003",
            channel=ContactChannel.sms,
            purpose=Purpose.marketing,
            allowed=False,
            actor="member:M000003",
            now=datetime(2026, 12, 1, tzinfo=SH),
        )


def _run(db_url, month: int, year: int = 2027):
    as_of, now = _on(month, year)
    with session_scope(db_url) as session:
        return offer_sleeping_members(
            session=session, as_of=as_of, now=now, settings=get_settings()
        )


def test_offers_go_monthly_to_consenting_sleeping_members_up_to_the_cap(sleeping, db_url):
    january = _run(db_url, 1)
    assert (january.offered, january.capped, january.no_consent) == (
        ["M000001", "M000002"], 0, 1
    )  # fmt: skip
    again = _run(db_url, 1)  # a re-run in the same month adds nothing
    assert again.offered == [] and again.capped == 0
    assert _run(db_url, 2).offered == ["M000001", "M000002"]
    march = _run(db_url, 3)  # two offers within three months: the cap
    assert (march.offered, march.capped) == ([], 2)
    assert _run(db_url, 4).offered == ["M000001", "M000002"]  # January left the window

    with session_scope(db_url) as session:
        offers = session.execute(
            select(Member.member_no, MemberOffer.month)
            .join(Member, Member.id == MemberOffer.member_id)
            .order_by(MemberOffer.month, Member.member_no)
        ).all()
        [first] = session.execute(
            select(Notification)
            .where(Notification.recipient == "member:M000001")
            .order_by(Notification.id)
            .limit(1)
        ).scalars()
        to_m3 = session.execute(
            select(Notification).where(Notification.recipient == "member:M000003")
        ).first()
    assert [(no, m.month) for no, m in offers] == [
        ("M000001", 1), ("M000002", 1), ("M000001", 2), ("M000002", 2),
        ("M000001", 4), ("M000002", 4),
    ]  # fmt: skip
    assert first.template == "member_offer" and first.purpose == "marketing"
    assert "会员专享回馈：本月到店保养享工时费八折" in first.body
    assert "2027年1月内有效" in first.body
    assert to_m3 is None
