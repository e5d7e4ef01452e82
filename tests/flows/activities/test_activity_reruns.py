"""Re-running any step after a crash changes nothing: no second row, no second message."""

from __future__ import annotations

from datetime import date

from prefect import task
from sqlalchemy import func, select
from support_activities import CODE, at, proposal

import flows.activities.lifecycle as lifecycle
from clubflow.core.db import session_scope
from domain.activities import CheckinRow, RecapInput
from domain.models import (
    Activity,
    Decision,
    Gate,
    Notification,
    PointsEntry,
    Recap,
    Registration,
    SubsidyClaim,
    SubsidyLine,
)
from domain.models_activities import ActivityArchive
from flows.activities.checkin import activity_checkin
from flows.activities.payment import activity_payment
from flows.activities.recap import activity_recap
from flows.sweep import sweep
from tasks.activities.points import issue_points_task
from tasks.gates.decisions import decide

TABLES = (
    Activity,
    Gate,
    Decision,
    Notification,
    Registration,
    Recap,
    SubsidyClaim,
    SubsidyLine,
    PointsEntry,
    ActivityArchive,
)
ROWS = [CheckinRow(member_no=f"M{n:06d}") for n in range(1, 11)]
RECAP = RecapInput(filed_by="admin.ch001", media_posts=1, feedback_score=4.0)
CLAIM = {
    "submitted_by": "admin.ch001",
    "lines": [{"category": "venue", "amount": 800, "evidence": ["收据 V-1"]}],
}


def _counts(db_url) -> dict[str, int]:
    with session_scope(db_url) as session:
        return {
            t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in TABLES
        }


def test_a_crash_right_after_approval_replays_without_a_second_review_or_message(
    runner, db_url, monkeypatch
):
    real = lifecycle.approve_activity_task

    @task(name="approve-activity")
    def approve_then_crash(code, now=None, settings=None):
        # committed: status, dates and notifications are stored
        real.fn(code=code, now=now, settings=settings)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(lifecycle, "approve_activity_task", approve_then_crash)
    parameters = {"proposal": proposal(), "now": at(date(2026, 9, 21))}
    runner.start("activity-lifecycle", parameters)
    runner.run_pending()
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=at(date(2026, 9, 21)),
    )
    [crashed] = runner.run_pending()
    assert crashed.state.name == "Failed"
    before = _counts(db_url)

    monkeypatch.undo()
    runner.start("activity-lifecycle", parameters)  # started again by hand
    [run] = runner.run_pending()

    assert run.state.name == "Completed"  # the decided gate answered: no second suspension
    assert _counts(db_url) == before
    with session_scope(db_url) as session:
        activity = session.execute(select(Activity)).scalar_one()
        templates = session.execute(select(Notification.template)).scalars().all()
    assert (activity.status, activity.warmup_on) == ("approved", date(2026, 10, 8))
    assert sorted(templates) == ["activity_approved", "activity_review_request"]


def test_every_step_run_again_changes_nothing(runner, db_url, reports_dir):
    def again(step) -> None:
        before = _counts(db_url)
        step()
        assert _counts(db_url) == before
        assert not runner.due_runs()

    def run(name: str, parameters: dict, expect: str = "Completed") -> None:
        runner.start(name, parameters)
        assert [r.state.name for r in runner.run_pending()] == [expect]

    proposed = {"proposal": proposal(), "now": at(date(2026, 9, 21))}
    claimed = {"code": CODE, "claim": CLAIM, "now": at(date(2026, 10, 13))}

    run("activity-lifecycle", proposed, "Suspended")
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=at(date(2026, 9, 21)),
    )
    runner.run_pending()
    again(lambda: run("activity-lifecycle", proposed))
    sweep(now=at(date(2026, 10, 8), 9))
    again(lambda: sweep(now=at(date(2026, 10, 8), 10)))
    activity_checkin(CODE, ROWS, "admin.ch001", now=at(date(2026, 10, 11), 18))
    again(lambda: activity_checkin(CODE, ROWS, "admin.ch001", now=at(date(2026, 10, 11), 19)))
    activity_recap(CODE, RECAP, now=at(date(2026, 10, 12)))
    again(lambda: activity_recap(CODE, RECAP, now=at(date(2026, 10, 13))))
    run("activity-claim", claimed, "Suspended")
    decide(
        f"claim:{CODE}",
        "claim_approval",
        decider="specialist.chengdu",
        outcome="approve",
        now=at(date(2026, 10, 13)),
    )
    runner.run_pending()
    again(lambda: run("activity-claim", claimed))
    activity_payment(CODE, "finance", "PAY-1", now=at(date(2026, 10, 16)))
    again(lambda: activity_payment(CODE, "finance", "PAY-1", now=at(date(2026, 10, 17))))
    sweep(now=at(date(2026, 10, 23), 9))  # points: 10 ledger rows
    assert _counts(db_url)["pointsentry"] == 10
    again(lambda: issue_points_task(code=CODE, now=at(date(2026, 10, 24))))
    sweep(now=at(date(2026, 10, 23), 10))  # the archive
    assert _counts(db_url)["activity_archive"] == 1
    again(lambda: sweep(now=at(date(2026, 10, 26), 9)))
