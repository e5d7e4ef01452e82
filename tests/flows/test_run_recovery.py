"""The recovery claims in the store: each death is claimed once, replays are bounded, the
give-up is told once, and a sweep of our own is closed rather than replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Notification, RunRecovery
from tasks.recovery import Stranded, claim_recovery

NOW = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)


def stranded(run_id: str = "run-1", **overrides) -> Stranded:
    data = dict(
        flow_run_id=run_id,
        flow_run_name="campaign 2026 中秋国庆 · signoff",
        deployment="campaign-pipeline",
        found_state="Running",
        problem="no heartbeat since 10:02:03 (Running)",
        last_seen_at=NOW - timedelta(minutes=3),
    )
    data.update(overrides)
    return Stranded(**data)


def claim(db_url, item: Stranded, minutes: int = 0):
    with session_scope(db_url) as session:
        return claim_recovery(
            session=session,
            stranded=item,
            now=NOW + timedelta(minutes=minutes),
            settings=get_settings(),
            by="recover-runs",
        )


def test_replays_are_bounded_then_given_up_once_with_one_notice(channels, db_url, settings_env):
    settings_env(recovery_max_replays=2)
    actions = [claim(db_url, stranded(), minutes=m) for m in (0, 5, 10, 15)]
    assert [(a.action, a.attempt) if a else None for a in actions] == [
        ("replayed", 1),
        ("replayed", 2),
        ("gave_up", 3),
        None,  # given up: never again
    ]
    woken = claim(db_url, stranded("run-2", found_state="Suspended", problem="no form"))
    assert (woken.action, woken.attempt) == ("woken", 1)
    with session_scope(db_url) as session:
        notices = session.execute(
            select(Notification.recipient, Notification.template, Notification.urgent)
        ).all()
        rows = session.execute(select(func.count()).select_from(RunRecovery)).scalar_one()
    assert notices == [("role:it", "run_recovery_gave_up", True)]
    assert rows == 4


def test_a_dead_sweep_of_our_own_is_closed_not_replayed(channels, db_url):
    first = claim(db_url, stranded("sweep-1", housekeeping=True))
    assert (first.action, first.attempt) == ("closed", 1)
    assert claim(db_url, stranded("sweep-1", housekeeping=True), minutes=3) is None
