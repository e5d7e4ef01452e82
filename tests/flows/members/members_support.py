"""Helpers of the members flow tests (fixed Asia/Shanghai times, members by number)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Member
from tasks.retention.consent import record_registration_consent

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def add_member(db_url: str, no: str, phone: str, *, marketing: bool = True, **values) -> int:
    """A member who registered with the marketing consent asked (yes unless told otherwise)."""
    with session_scope(db_url) as session:
        row = Member(member_no=no, name=values.pop("name", f"车主{no}"), phone=phone, **values)
        session.add(row)
        session.flush()
        record_registration_consent(
            session=session, member_id=row.id, marketing=marketing, now=row.joined_at
        )
        return row.id


def member(db_url: str, no: str) -> Member:
    with session_scope(db_url) as session:
        return session.execute(select(Member).where(Member.member_no == no)).scalar_one()
