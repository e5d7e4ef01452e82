"""Materials and preparation of a class C activity as the hourly sweep and the people see
them: the record with its dates, the organiser's reminder, the preparation notice, HQ's
escalation, each once; submit, return with a reason, submit again, confirm."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Activity, Club, Notification, Person
from domain.models_quarter import ActivityMaterials
from tasks.audit import actor_of
from tasks.gates.dated_steps import run_dated_step
from tasks.quarter.hooks import materials_due, materials_ladder
from tasks.quarter.materials import (
    decide_materials,
    reviewer_refusal,
    submit_materials,
    submitter_refusal,
)

SH = ZoneInfo("Asia/Shanghai")
CODE = "C-CH001-20261016"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=SH)


@pytest.fixture
def activity(db_url, world, channels) -> str:
    """A class C activity of C-CH001 starting Friday 16 Oct 2026, approved."""
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(
                code=CODE,
                title="龙泉山 秋季穿越",
                klass="C",
                region_code="chengdu",
                club_id=club.id,
                starts_on=date(2026, 10, 16),
                ends_on=date(2026, 10, 17),
                status="approved",
                proposed_by="admin.ch001",
            )
        )
    return CODE


def sweep(db_url, day: date) -> list[str]:
    """One hourly sweep of the materials step; the idempotency keys it queued."""
    with session_scope(db_url) as session:
        runs = run_dated_step(
            session=session, step=materials_ladder, now=at(day), settings=get_settings()
        )
    return [r.idem_key.rsplit(":", 1)[1] for run in runs for r in run.notifications]


def outbox(db_url) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return session.execute(
            select(Notification.recipient, Notification.template).order_by(Notification.id)
        ).all()


def test_the_dates_follow_the_working_calendar_and_each_level_is_sent_once(activity, db_url):
    assert sweep(db_url, date(2026, 9, 1)) == []
    with session_scope(db_url) as session:
        row = session.execute(select(ActivityMaterials)).scalar_one()
        # 25 Sep is Mid-Autumn: due Thursday 24 Sep; 2 Oct is National Day: prepare by 30 Sep.
        assert (row.due_on, row.preparation_on, row.status) == (
            date(2026, 9, 24),
            date(2026, 9, 30),
            "due",
        )
        admin = session.execute(select(Person).where(Person.username == "admin.ch001")).scalar_one()
        [item] = materials_due(session=session, person=admin, today=date(2026, 9, 1))
    assert (item.title, item.due_on, item.link) == (
        "提交活动手册与运营物料：龙泉山 秋季穿越（2026-10-16）",
        date(2026, 9, 24),
        f"/materials/{CODE}",
    )

    assert sweep(db_url, date(2026, 9, 18)) == []  # Friday: four working days before
    assert sweep(db_url, date(2026, 9, 21)) == ["reminder"]  # three working days before
    assert sweep(db_url, date(2026, 9, 22)) == []
    # Monday 28 Sep: two working days before 30 Sep (the 25th–27th are off).
    assert sweep(db_url, date(2026, 9, 28)) == ["preparation"]
    with session_scope(db_url) as session:
        admin = session.execute(select(Person).where(Person.username == "admin.ch001")).scalar_one()
        kinds = [
            i.kind for i in materials_due(session=session, person=admin, today=date(2026, 9, 28))
        ]
    assert kinds == ["materials", "preparation"]
    # Two working days after the 24th: the 28th, the 29th.
    assert sweep(db_url, date(2026, 9, 29)) == ["escalation"]
    assert sweep(db_url, date(2026, 9, 30)) == []
    assert outbox(db_url) == [
        ("person:admin.ch001", "quarter_materials_reminder"),
        ("person:admin.ch001", "quarter_preparation"),
        ("role:campaign_manager", "quarter_materials_escalation"),
    ]


def test_the_organiser_submits_the_specialist_returns_with_a_reason_then_confirms(activity, db_url):
    sweep(db_url, date(2026, 9, 1))
    settings = get_settings()
    now = at(date(2026, 9, 10))
    with session_scope(db_url) as session:
        assert "not the organiser" in submitter_refusal(
            session=session,
            code=CODE,
            actor=actor_of(session=session, username="specialist.chengdu"),
        )
        assert (
            submitter_refusal(
                session=session, code=CODE, actor=actor_of(session=session, username="admin.ch001")
            )
            is None
        )
        assert reviewer_refusal(
            session=session,
            code=CODE,
            actor=actor_of(session=session, username="specialist.beijing"),
        ).endswith("or the regional specialist of chengdu")
        view, requests = submit_materials(
            session=session,
            code=CODE,
            handbook="https://pan.example.com/handbook.pdf",
            operations="https://pan.example.com/ops.xlsx",
            by="admin.ch001",
            now=now,
            settings=settings,
        )
        assert view.status == "submitted"
        assert [(r.recipient, r.template) for r in requests] == [
            ("role:regional_specialist:chengdu", "quarter_materials_submitted")
        ]
        with pytest.raises(ValueError, match="needs a reason"):
            decide_materials(
                session=session, code=CODE, outcome="return", by="specialist.chengdu",
                now=now, settings=settings,
            )  # fmt: skip
        view, requests = decide_materials(
            session=session, code=CODE, outcome="return", reason="缺少安全预案",
            by="specialist.chengdu", now=now, settings=settings,
        )  # fmt: skip
        assert (view.status, view.return_reason) == ("returned", "缺少安全预案")
        assert requests[0].recipient == "person:admin.ch001"
        assert requests[0].idem_key.endswith(":materials:r1:return")
        view, requests = submit_materials(
            session=session, code=CODE, handbook="https://pan.example.com/handbook-v2.pdf",
            operations="https://pan.example.com/ops.xlsx", by="admin.ch001", now=now,
            settings=settings,
        )  # fmt: skip
        assert requests[0].idem_key.endswith(":materials:r2:submitted")
        view, _ = decide_materials(
            session=session, code=CODE, outcome="confirm", by="specialist.chengdu",
            now=now, settings=settings,
        )  # fmt: skip
        assert view.status == "confirmed"
    # Confirmed materials owe no reminder or escalation.
    assert sweep(db_url, date(2026, 9, 29)) == ["preparation"]
