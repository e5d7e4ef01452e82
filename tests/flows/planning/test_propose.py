"""Submitted monthly plans enter the activity lifecycle, each exactly once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from gate_runner import GateRunner
from quarter_support import draft_quarter
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity
from domain.models_planning import MonthlyPlanSubmission
from domain.planning import MonthlyPlan
from flows.planning.propose import propose_monthly_plans
from tasks.planning.submissions import submit_monthly_plan

MARCH_1 = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_submitted_plan_starts_one_lifecycle_run_and_becomes_an_activity(
    prefect_server, channels, db_url, tmp_path
):
    runner = GateRunner(["activity-lifecycle", "plan-quarter"])
    runner.reset()
    draft_quarter(runner, quarter="2027Q2", now=MARCH_1, ics_dir=tmp_path)  # slots are stored
    with session_scope(db_url) as session:
        submit_monthly_plan(
            session=session,
            club_code="C-CH001",
            plan=MonthlyPlan(
                title="龙泉山 踏青自驾",
                activity_class="D",
                starts_on=date(2027, 4, 10),
                ends_on=date(2027, 4, 10),
                place="龙泉山",
                expected_participants=25,
            ),
            submitted_by="admin.ch001",
            now=MARCH_1,
        )

    assert propose_monthly_plans(quarter="2027Q2", now=MARCH_1) == ["C-CH001-20270410"]
    assert propose_monthly_plans(quarter="2027Q2", now=MARCH_1) == []  # a re-run starts nothing
    [run] = runner.run_pending()

    assert run.state.name == "Completed"
    with session_scope(db_url) as session:
        activity = session.execute(select(Activity)).scalar_one()
        submission = session.execute(select(MonthlyPlanSubmission)).scalar_one()
    assert (activity.code, activity.klass, activity.title) == (
        "C-CH001-20270410",
        "D",
        "龙泉山 踏青自驾",
    )
    assert activity.status == "approved"  # class D needs no review
    assert (submission.status, submission.activity_code) == ("proposed", "C-CH001-20270410")
    assert runner.due_runs() == []
