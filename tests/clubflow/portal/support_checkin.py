"""Helpers of the check-in and member page tests (a unique module name: tests/ dirs share
one sys.path): an activity of C-CH001 running on the world's day, members by club."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity, ActivityClass, Club, Member

CODE = "C-CH001-20261201"
DAY = date(2026, 12, 1)  # the world's day (tests/clock.py WORLD_NOW)


@pytest.fixture
def roomy(settings_env, db_url):
    """More sign-ins from the test client's one address than the default limit allows."""
    settings_env(portal_signin_limit=200)


@pytest.fixture
def activity(world, db_url) -> str:
    """An announced class C activity of C-CH001 on the world's day."""
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(
                code=CODE,
                title="雨林穿越 冬季站",
                klass=ActivityClass.C,
                region_code=club.region_code,
                club_id=club.id,
                starts_on=DAY,
                ends_on=DAY,
                place="四川雅安",
                status="announced",
                proposed_by="admin.ch001",
            )
        )
    return CODE


def members_of(db_url, club_code: str) -> list[tuple[str, str]]:
    """(member_no, phone) of a club's members, by number."""
    with session_scope(db_url) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Member.member_no, Member.phone)
                .join(Club, Club.id == Member.club_id)
                .where(Club.code == club_code)
                .order_by(Member.member_no)
            ).all()
        ]


def sign_in_member(portal, phone: str):
    """The code arrives by SMS at the national number (the sink's path sms/<number>)."""
    return portal.sign_in(phone, f"sms/{phone.removeprefix('+86')}")
