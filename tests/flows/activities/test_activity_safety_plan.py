"""The review refuses to approve a class C crossing without its safety plan and support vehicle;
the refusal names them and the gate waits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from support_activities import CODE, at, proposal

from clubflow.core.db import session_scope
from domain.models import Activity, Decision
from tasks.gates.decisions import decide

PROPOSED = at(date(2026, 9, 21))


def test_approval_without_safety_plan_is_refused(runner, db_url):
    runner.start(
        "activity-lifecycle",
        {
            "proposal": proposal(safety_plan="", support_vehicle=""),
            "now": PROPOSED.isoformat(),
        },
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=PROPOSED,
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # waits for an answer that may stand
    with session_scope(db_url) as session:
        activity = session.execute(select(Activity).where(Activity.code == CODE)).scalar_one()
        assert activity.status == "in_review" and activity.approved_at is None
        reasons = [r for r in session.execute(select(Decision.refusal_reason)).scalars() if r]
    assert any(
        "safety_plan: a class C activity needs a safety plan" in r
        and "support_vehicle: a crossing names its support vehicle" in r
        for r in reasons
    ), reasons
