"""SIGKILL drills: the campaign pipeline's `python -m prefect.engine` process is killed for real
at three points, and the system brings the run back by itself (the recover-runs sweep), with
the decision recorded once, the flow at its next gate and no message sent twice.

The sweep is called with `now` at the moment it would first see the run as dead (its last
heartbeat or state change plus the policy's threshold), and once just before, when it must
leave the run alone. Nothing sleeps a fixed time: the drills wait for states and events.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from gate_runner import GateRunner
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent / "campaigns"))
from campaign_steps import (  # noqa: E402
    NOW,
    at,
    decisions,
    deliver,
    duplicates,
    gates,
    plan,
)

from clubflow.core.db import session_scope  # noqa: E402
from clubflow.core.settings import get_settings  # noqa: E402
from domain.models import RunRecovery  # noqa: E402
from flows.run_recovery import recover_runs  # noqa: E402
from tasks.gates.decisions import GateRunError, decide  # noqa: E402

CODE = "campaign:2026-mid-autumn"
DEPLOYMENTS = ["campaign-pipeline"]
FIGURES: list[dict] = []  # what the drills measured, printed at the end (pytest -s)


@pytest.fixture(scope="module")
def _runner(prefect_server) -> GateRunner:
    return GateRunner(DEPLOYMENTS)


@pytest.fixture
def runner(_runner, channels, settings_env, tmp_path) -> GateRunner:
    settings_env(campaign_reports_dir=str(tmp_path / "reports"))
    _runner.reset()
    return _runner


@pytest.fixture(scope="module", autouse=True)
def _report_figures():
    yield
    for figure in FIGURES:
        print("drill:", figure)


def sweep(now):
    return recover_runs(now=now, deployments=DEPLOYMENTS)


def recoveries(db_url: str) -> list[RunRecovery]:
    with session_scope(db_url) as session:
        return list(session.execute(select(RunRecovery).order_by(RunRecovery.id)).scalars())


def suspended_at_plan_review(runner) -> object:
    run_id = runner.start("campaign-pipeline", {"plan": plan(), "now": NOW.isoformat()})
    [run] = runner.run_pending(in_process=False)
    assert run.id == run_id and run.state.name == "Suspended", run.state
    return run


def sweep_when_dead(runner, run, threshold_seconds: int) -> dict:
    """The sweep just before the run counts as dead (nothing), then just after (recovered)."""
    killed = runner.read(run.id)
    seen = max(killed.state.timestamp, runner.last_heartbeat(run.id) or killed.state.timestamp)
    early = sweep(seen + timedelta(seconds=threshold_seconds - 1))
    assert early == {"found": 0}, early
    assert runner.read(run.id).state.name == killed.state.name
    return sweep(seen + timedelta(seconds=threshold_seconds + 1))


def then_at_signoff(runner, run, db_url, sink, started: float, drill: str):
    """The replay, executed as the serve process would: the decision once, signoff waiting,
    each message once."""
    [replayed] = runner.run_pending(in_process=False)
    assert replayed.id == run.id
    assert replayed.state.name == "Suspended", replayed.state
    assert replayed.name.endswith("· signoff"), replayed.name
    assert [(d.outcome, d.decider, d.accepted) for d in decisions(db_url)] == [
        ("approve", "hq.manager", True)
    ]
    assert [(g.key, g.status) for g in gates(db_url)] == [
        ("plan_review", "decided"),
        ("signoff", "open"),
    ]
    deliver(at(NOW.date(), 11))
    assert duplicates(sink) == []
    signoff = [m for m in sink.to("role/campaign_manager") if "签字" in m.title]
    assert len(signoff) == 1, [m.title for m in sink.messages]
    FIGURES.append({"drill": drill, "seconds": round(time.monotonic() - started, 1)})
    # The gate works as ever afterwards.
    decide(CODE, "signoff", decider="hq.manager2", outcome="approve", now=NOW)
    [run] = runner.run_pending(in_process=False)
    assert run.name.endswith("· feasibility"), run.name


def test_killed_right_after_a_resume_the_sweep_replays_it_and_the_answer_counts_once(
    runner, db_url, sink
):
    started = time.monotonic()
    run = suspended_at_plan_review(runner)
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)

    killed = runner.execute_until_killed(run.id, at="resumed")
    assert killed.state.name == "Running"  # Prefect OSS marks nothing Crashed by itself
    assert decisions(db_url) == []  # the answer was read, nothing recorded
    beat = runner.last_heartbeat(run.id)
    assert beat is not None and beat >= killed.state.timestamp

    # Deciding again meanwhile says what is going on; the second answer changes nothing.
    with pytest.raises(GateRunError, match="replays it once it has been silent 120 s"):
        decide(
            CODE, "plan_review", decider="hq.manager2", outcome="approve", now=NOW, wait_seconds=2
        )

    done = sweep_when_dead(runner, run, get_settings().recovery_stale_after_seconds)
    assert done == {"found": 1, "replayed": 1}, done
    [row] = recoveries(db_url)
    assert (row.flow_run_id, row.found_state, row.action, row.attempt) == (
        str(run.id),
        "Running",
        "replayed",
        1,
    )
    assert row.problem.startswith("no heartbeat since") and row.last_seen_at == beat
    assert runner.read(run.id).state.name == "Recovering"

    then_at_signoff(runner, run, db_url, sink, started, "killed after resume")


def test_killed_in_the_middle_of_a_task_the_sweep_replays_it_and_nothing_is_sent_twice(
    runner, db_url, sink
):
    started = time.monotonic()
    run = suspended_at_plan_review(runner)
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)

    # Killed inside the task queueing the sign-off requests, before its transaction commits.
    killed = runner.execute_until_killed(run.id, at="mid-task")
    assert killed.state.name == "Running"
    assert [d.outcome for d in decisions(db_url)] == ["approve"]

    done = sweep_when_dead(runner, run, get_settings().recovery_stale_after_seconds)
    assert done == {"found": 1, "replayed": 1}, done
    then_at_signoff(runner, run, db_url, sink, started, "killed mid-task")


def test_killed_while_suspending_the_sweep_wakes_it_and_it_waits_properly(runner, db_url, sink):
    started = time.monotonic()
    run_id = runner.start("campaign-pipeline", {"plan": plan(), "now": NOW.isoformat()})
    killed = runner.execute_until_killed(run_id, at="suspending", heartbeats=False)
    assert killed.state.name == "Suspended"  # but without its form: nobody could resume it

    done = sweep_when_dead(runner, killed, get_settings().recovery_suspend_grace_seconds)
    assert done == {"found": 1, "woken": 1}, done
    [row] = recoveries(db_url)
    assert (row.found_state, row.action) == ("Suspended", "woken")
    assert "without its input form" in row.problem

    [run] = runner.run_pending(in_process=False)
    assert run.state.name == "Suspended" and run.name.endswith("· plan_review")
    assert run.state.state_details.pause_key.endswith("-1")  # the next key, with its form
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    then_at_signoff(runner, run, db_url, sink, started, "killed while suspending")
    # The plan review request went out once, though the first process queued it and died.
    assert len([m for m in sink.to("role/campaign_manager") if "评审" in m.title]) == 1


def test_a_run_that_keeps_dying_is_replayed_a_bounded_number_of_times_then_ops_are_told(
    runner, db_url, sink, settings_env
):
    settings_env(recovery_max_replays=1)
    run = suspended_at_plan_review(runner)
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    stale = get_settings().recovery_stale_after_seconds

    runner.execute_until_killed(run.id, at="mid-task")
    assert sweep_when_dead(runner, run, stale) == {"found": 1, "replayed": 1}
    runner.execute_until_killed(run.id, at="mid-task")  # the replay dies the same way
    assert sweep_when_dead(runner, run, stale) == {"found": 1, "gave_up": 1}

    gave_up = runner.read(run.id)
    assert gave_up.state.name == "Crashed" and "gave_up" in gave_up.state.message
    assert [(r.attempt, r.action) for r in recoveries(db_url)] == [(1, "replayed"), (2, "gave_up")]
    # Crashed now, and left alone: the next sweep does nothing more.
    later = gave_up.state.timestamp + timedelta(minutes=10)
    assert sweep(later) == {"found": 0}
    deliver(later)
    [notice] = sink.to("role/it")
    assert "已重放 1 次" in notice.title and str(run.id) in notice.body
    assert runner.due_runs() == []


def test_decide_on_a_run_that_died_while_suspending_replays_it_then_resumes_it(
    runner, db_url, sink, settings_env
):
    settings_env(recovery_suspend_grace_seconds=1)
    started = time.monotonic()
    run_id = runner.start("campaign-pipeline", {"plan": plan(), "now": NOW.isoformat()})
    runner.execute_until_killed(run_id, at="suspending", heartbeats=False)

    answer: dict = {}

    def decide_now() -> None:
        try:
            answer["done"] = decide(
                CODE,
                "plan_review",
                decider="hq.manager",
                outcome="approve",
                now=NOW,
                wait_seconds=150,
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            answer["error"] = exc

    # `decide` waits, as a user's command does, while the "serve process" (this test) runs
    # what becomes due.
    user = threading.Thread(target=contextvars.copy_context().run, args=(decide_now,))
    user.start()
    deadline = time.monotonic() + 120
    while not runner.due_runs():  # decide woke it
        assert time.monotonic() < deadline and user.is_alive(), answer
        time.sleep(0.2)
    runner.run_pending(in_process=False)  # it suspends again, with its form; decide resumes it
    user.join(timeout=150)
    assert "error" not in answer, answer["error"]
    [row] = recoveries(db_url)
    assert (row.action, row.recovered_by) == ("woken", "decide:hq.manager")

    runner.run_pending(in_process=False)  # the resumed run (if the loop above did not run it)
    run = runner.read(run_id)
    assert run.state.name == "Suspended" and run.name.endswith("· signoff"), run.name
    assert [(d.outcome, d.decider) for d in decisions(db_url)] == [("approve", "hq.manager")]
    deliver(at(NOW.date(), 11))
    assert duplicates(sink) == []
    FIGURES.append(
        {"drill": "decide on a half-suspended run", "seconds": time.monotonic() - started}
    )
