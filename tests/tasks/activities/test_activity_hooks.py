"""The activities' dated steps as the hourly sweep calls them: each on its day, each once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from clock import WORLD_NOW

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import Settings
from clubflow.world import WorldSize, seed_demo_world
from domain.activities import ActivityProposal, CheckinRow
from tasks.activities.checkin import check_in
from tasks.activities.hooks import (
    archive_finished,
    issue_due_points,
    remind_missing_recaps,
    send_due_warmups,
)
from tasks.activities.store import approve_activity, register_proposal
from tasks.gates.dated_steps import registered_steps
from tasks.outbox import queue_notifications

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(_env_file=None)
CODE = "C-CH001-20261011"


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def store(sqlite_url) -> str:
    migrate(sqlite_url)
    with session_scope(sqlite_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=40, leads=0), now=WORLD_NOW
        )
        proposal = ActivityProposal(
            title="雨林穿越",
            activity_class="C",
            region="chengdu",
            club="C-CH001",
            starts_on=date(2026, 10, 11),
            ends_on=date(2026, 10, 11),
            proposed_by="admin.ch001",
        )
        register_proposal(
            session=session, proposal=proposal, now=at(date(2026, 9, 21)), settings=SETTINGS
        )
        approve_activity(session=session, code=CODE, now=at(date(2026, 9, 21)), settings=SETTINGS)
    return sqlite_url


def _step(url: str, step, day: date, hour: int = 9):
    with session_scope(url) as session:
        return step(session=session, now=at(day, hour), today=day, settings=SETTINGS)


def test_the_sweep_knows_the_activity_steps():
    assert {
        "activity-warmup",
        "activity-recap-ladder",
        "activity-points",
        "activity-archive",
    } <= set(registered_steps())


def test_the_warm_up_goes_on_its_day_once(store):
    assert _step(store, send_due_warmups, date(2026, 10, 7)) == []
    [run] = _step(store, send_due_warmups, date(2026, 10, 8))
    assert run.subject == f"activity:{CODE}"
    assert {n.template for n in run.notifications} == {"activity_warmup"}
    assert _step(store, send_due_warmups, date(2026, 10, 8), 10) == []


def test_a_missing_recap_reminds_the_organiser_then_escalates_to_the_specialist(store):
    _step(store, send_due_warmups, date(2026, 10, 8))
    assert _step(store, remind_missing_recaps, date(2026, 10, 17)) == []

    [reminder] = _step(store, remind_missing_recaps, date(2026, 10, 18))  # due end + 7
    [request] = reminder.notifications
    assert (request.recipient, request.template) == (
        "person:admin.ch001",
        "activity_recap_reminder",
    )
    with session_scope(store) as session:  # the sweep queues what the step returns
        queue_notifications(
            session=session,
            requests=reminder.notifications,
            now=at(date(2026, 10, 18)),
            settings=SETTINGS,
        )
    assert _step(store, remind_missing_recaps, date(2026, 10, 19)) == []
    [escalation] = _step(store, remind_missing_recaps, date(2026, 10, 20))  # 2 working days on
    [request] = escalation.notifications
    assert request.recipient == "role:regional_specialist:chengdu"
    assert request.urgent


def test_points_on_their_working_day_then_the_archive(store):
    _step(store, send_due_warmups, date(2026, 10, 8))
    with session_scope(store) as session:
        check_in(
            session=session,
            code=CODE,
            rows=[CheckinRow(member_no="M000001")],
            now=at(date(2026, 10, 11), 18),
        )
    assert _step(store, issue_due_points, date(2026, 10, 22)) == []
    [run] = _step(store, issue_due_points, date(2026, 10, 23))
    assert run.detail.startswith("1 ledger rows for 1 participants")
    assert _step(store, issue_due_points, date(2026, 10, 23), 10) == []
    [archived] = _step(store, archive_finished, date(2026, 10, 23), 10)
    assert archived.detail == "archived"
    assert _step(store, archive_finished, date(2026, 10, 23), 11) == []
