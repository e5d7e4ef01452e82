"""The real path: each run executes in its own `python -m prefect.engine` process, as the
serve process starts it; the wait between gates holds no process at all."""

from __future__ import annotations

from campaign_steps import NOW, gates, plan

from tasks.gates.decisions import decide


def test_the_pipeline_suspends_and_resumes_across_processes(gate_runner, db_url):
    run_id = gate_runner.start("campaign-pipeline", {"plan": plan(), "now": NOW.isoformat()})
    [run] = gate_runner.run_pending(in_process=False)
    assert run.state.name == "Suspended", run.state
    assert run.name == "campaign 2026 中秋国庆 · plan_review"

    decide(
        "campaign:2026-mid-autumn", "plan_review", decider="hq.manager", outcome="approve", now=NOW
    )
    [run] = gate_runner.run_pending(in_process=False)
    assert run.id == run_id
    assert run.state.name == "Suspended"
    assert run.name == "campaign 2026 中秋国庆 · signoff"
    assert [(g.key, g.status) for g in gates(db_url)] == [
        ("plan_review", "decided"),
        ("signoff", "open"),
    ]
