"""Onboarding in the store: HQ adds a dealer and people, the dealer's staff register the club
and submit evidence, the specialist returns one item, approves all; refusals recorded."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.club_onboarding import ClubInputError
from domain.models import Club
from domain.models_audit import Refusal
from tasks.audit import Refused
from tasks.clubs.onboarding import (
    add_dealer,
    add_person,
    list_clubs,
    register_club,
    review_item,
    submit_evidence,
)

NOW = datetime(2027, 3, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
NAME = "坦克·羽林·300·成都·越野俱乐部"
OFFICERS = {"会长": "o.head", "军师": "o.adviser", "长史": "o.clerk"}


def onboard_people(session) -> None:
    add_dealer(
        session=session,
        username="hq.manager",
        code="CH900",
        name="成都新店",
        city="成都",
        region_code="chengdu",
        now=NOW,
    )
    add_person(
        session=session,
        username="hq.manager",
        person="staff.ch900",
        name="店员",
        role="dealer",
        phone="13800001111",
        dealer_code="CH900",
        now=NOW,
    )
    for n, who in enumerate(OFFICERS.values()):
        add_person(
            session=session,
            username="hq.manager",
            person=who,
            name=f"官{n}",
            role="club_admin",
            phone=f"1390000{n:04d}",
            region_code="chengdu",
            now=NOW,
        )


def evidence() -> dict[str, str]:
    s = get_settings()
    return {i: f"https://pan.example/{i}" for i in s.club_required_items + s.club_optional_items}


def test_a_club_onboards_from_registration_to_active(db_url, world):
    with session_scope(db_url) as session:
        onboard_people(session)
        club = register_club(
            session=session,
            username="staff.ch900",
            dealer_code="CH900",
            code="C-CH900",
            name=NAME,
            grade="营",
            officers=OFFICERS,
            settings=get_settings(),
            now=NOW,
        )
        assert club.status == "pending"
        assert (
            len(
                submit_evidence(
                    session=session,
                    username="staff.ch900",
                    club_code="C-CH900",
                    evidence=evidence(),
                    now=NOW,
                )
            )
            == 8
        )
        # The same evidence again while it waits: nothing new.
        assert (
            submit_evidence(
                session=session,
                username="staff.ch900",
                club_code="C-CH900",
                evidence=evidence(),
                now=NOW,
            )
            == []
        )
        review_item(
            session=session,
            username="specialist.chengdu",
            club_code="C-CH900",
            item="logo",
            approve=False,
            reason="队标分辨率太低",
            now=NOW,
        )
        assert submit_evidence(
            session=session,
            username="staff.ch900",
            club_code="C-CH900",
            evidence={"logo": "https://pan.example/logo-v2"},
            now=NOW,
        ) == ["logo"]
        status = "pending"
        for item in get_settings().club_required_items:
            status = review_item(
                session=session,
                username="specialist.chengdu",
                club_code="C-CH900",
                item=item,
                approve=True,
                reason="",
                now=NOW,
            )
        assert status == "active"  # the official account is optional: still waiting
        line = next(c for c in list_clubs(session=session) if c.code == "C-CH900")
        assert line.status == "active"
        assert ("会长", "官0", "139****0000") in line.officers
        logo = next(i for i in line.items if i[0] == "logo")
        assert logo[2] == "approved"
        account = next(i for i in line.items if i[0] == "official_account")
        assert account[2] == "submitted" and account[3] is False


def test_seeded_clubs_are_active_and_refusals_are_recorded(db_url, world):
    with session_scope(db_url) as session:
        assert {c.status for c in session.execute(select(Club)).scalars()} == {"active"}
        onboard_people(session)
        register_club(
            session=session,
            username="staff.ch900",
            dealer_code="CH900",
            code="C-CH900",
            name=NAME,
            grade="营",
            officers=OFFICERS,
            settings=get_settings(),
            now=NOW,
        )
    with session_scope(db_url) as session:
        with pytest.raises(Refused, match="not the regional specialist of chengdu"):
            review_item(
                session=session,
                username="specialist.beijing",
                club_code="C-CH900",
                item="logo",
                approve=True,
                reason="",
                now=NOW,
            )
    with session_scope(db_url) as session:
        with pytest.raises(Refused, match="add-dealer is for campaign_manager"):
            add_dealer(
                session=session,
                username="staff.ch900",
                code="X1",
                name="x",
                city="x",
                region_code="chengdu",
                now=NOW,
            )
    with session_scope(db_url) as session:
        actions = [r.action for r in session.execute(select(Refusal)).scalars()]
        assert actions == ["clubs.review", "clubs.add-dealer"]
        with pytest.raises(ClubInputError, match="^name: the alliance part must carry '羽林'"):
            register_club(
                session=session,
                username="staff.ch900",
                dealer_code="CH900",
                code="C-CH901",
                name="坦克·联盟·300·成都·俱乐部",
                grade="营",
                officers=OFFICERS,
                settings=get_settings(),
                now=NOW,
            )
