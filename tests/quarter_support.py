"""Drive the plan-quarter deployment through HQ's confirmation gate in tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gate_runner import GateRunner

from tasks.gates.decisions import decide
from tasks.planning.plans import next_quarter


def draft_quarter(runner: GateRunner, *, now: datetime, ics_dir, quarter: str | None = None,
                  **parameters: Any) -> str:  # fmt: skip
    """Start plan-quarter and run it to HQ's gate; returns the quarter."""
    runner.start(
        "plan-quarter",
        {"quarter": quarter, "now": now.isoformat(), "ics_dir": str(ics_dir), **parameters},
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended", run.state
    return quarter or str(next_quarter(now))


def confirm_quarter(runner: GateRunner, quarter: str, *, now: datetime, decider: str = "hq.manager",
                    comment: str = "", extra: dict | None = None):  # fmt: skip
    """HQ confirms; the run goes on to publish. Returns the run as it ended."""
    decide(
        f"quarter_plan:{quarter}",
        "quarter_confirm",
        decider=decider,
        outcome="approve",
        comment=comment,
        extra=extra,
        now=now,
    )
    [run] = runner.run_pending()
    return run


def plan_confirmed(runner: GateRunner, *, now: datetime, ics_dir, quarter: str | None = None,
                   **parameters: Any) -> str:  # fmt: skip
    """Draft and confirm as drafted; returns the quarter."""
    target = draft_quarter(runner, now=now, ics_dir=ics_dir, quarter=quarter, **parameters)
    run = confirm_quarter(runner, target, now=now)
    assert run.state.name == "Completed", run.state
    return target
