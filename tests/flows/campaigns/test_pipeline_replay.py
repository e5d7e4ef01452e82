"""A crash at any gate, then a re-run, neither repeats a notification nor adds a decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from campaign_steps import (
    END,
    NOW,
    SLOTS,
    at,
    decisions,
    deliver,
    duplicates,
    notification_count,
    retry,
    start,
)

import flows.gates
from clubflow.campaigns import submit_kpis
from tasks.gates.decisions import decide

CODE = "campaign:2026-mid-autumn"


class SimulatedCrash(RuntimeError):
    pass


@pytest.fixture
def crash_after_recording(monkeypatch):
    """Arm it and the next decision is recorded, then the run dies before going on."""
    real = flows.gates.record_decision_task
    armed = []

    def record_then_crash(*args, **kwargs):
        result = real(*args, **kwargs)
        if armed:
            armed.clear()
            raise SimulatedCrash("the worker died right after recording the decision")
        return result

    monkeypatch.setattr(flows.gates, "record_decision_task", record_then_crash)
    return lambda: armed.append(True)


GATES = [
    ("plan_review", {"decider": "hq.manager", "outcome": "approve"}, "signoff"),
    ("signoff", {"decider": "hq.manager2", "outcome": "approve"}, "feasibility"),
    ("feasibility", {"decider": "it.lead", "outcome": "feasible"}, "slots"),
    ("slots", {"decider": "agency.lead", "outcome": "recorded", "extra": {"slots": SLOTS}},
     "build_test"),
    ("build_test", {"decider": "it.lead", "outcome": "confirmed"}, "golive"),
    ("golive", {"decider": "agency.lead", "outcome": "confirmed"}, "kpi_actuals"),
]  # fmt: skip


def test_a_crash_at_each_gate_then_re_runs_change_nothing(
    gate_runner, db_url, sink, reports_dir, crash_after_recording
):
    [run] = start(gate_runner)
    for gate, decision, next_gate in GATES:
        crash_after_recording()
        decide(CODE, gate, **decision, now=NOW)
        [failed] = gate_runner.run_pending()
        assert failed.state.is_failed(), failed.state
        recorded, queued = len(decisions(db_url)), notification_count(db_url)

        retry(run.id)  # the same run again: it replays up to the next gate
        [run] = gate_runner.run_pending()
        assert run.name.endswith(f"· {next_gate}"), run.name
        assert len(decisions(db_url)) == recorded
        next_queued = notification_count(db_url)
        assert next_queued - queued <= 3  # only the next gate's (and ready's two) notices

        # An operator starts a brand-new run of the deployment: it takes over from the store,
        # and the earlier run, still suspended, is cancelled.
        earlier = run
        [run] = start(gate_runner)
        assert run.state.name == "Suspended" and run.name.endswith(f"· {next_gate}")
        assert gate_runner.read(earlier.id).state.name == "Cancelled"
        assert len(decisions(db_url)) == recorded
        assert notification_count(db_url) == next_queued

    crash_after_recording()
    submit_kpis(
        "2026-mid-autumn",
        [{"name": "线索量", "actual": 1800}, {"name": "订单", "actual": 160}],
        by="agency.lead",
        spend_total=370000,
        now=at(END + timedelta(days=2)),
    )
    [failed] = gate_runner.run_pending()
    assert failed.state.is_failed()
    retry(failed.id)
    [run] = gate_runner.run_pending()
    assert run.state.is_completed()
    [run] = start(gate_runner)  # re-running a finished campaign renders the same report again
    assert run.state.is_completed()

    deliver(at(END + timedelta(days=3)))
    assert duplicates(sink) == []
    assert len(sink.to("person/hq.manager")) == 1  # the report notice
    assert [d.outcome for d in decisions(db_url)] == [
        "approve",
        "approve",
        "feasible",
        "recorded",
        "confirmed",
        "confirmed",
        "submit",
    ]
    assert (reports_dir / "campaign-2026-mid-autumn.html").exists()
