"""The campaign pipeline changes while a campaign waits at sign-off: a next version of the 45-day
process sends an approved plan to IT before the sign-off. The waiting run must not open the
IT gate the old process never reached: it fails naming both versions, and finishes once the
old code is back. A change that keeps the gates in their order just goes on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from campaign_steps import NOW, gates, retry, start

from domain.campaigns import STAGES, Move, Stage
from flows.campaigns.pipeline import campaign_pipeline
from tasks.gates.decisions import decide

CODE = "campaign:2026-mid-autumn"


@pytest.fixture
def deploy(gate_runner, monkeypatch):
    """`deploy(version, stages)` swaps the code the runner executes, as a new deployment
    version would; the table edits are undone after the test."""
    deployment_id = gate_runner.deployment_ids["campaign-pipeline"]
    original = gate_runner.flows[deployment_id]

    def apply(version: str, **stages) -> None:
        for stage, spec in stages.items():
            monkeypatch.setitem(STAGES, Stage(stage), spec)
        gate_runner.flows[deployment_id] = campaign_pipeline.with_options(version=version)

    yield apply
    gate_runner.flows[deployment_id] = original


def waiting_at_signoff(gate_runner):
    [run] = start(gate_runner)
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· signoff"), run.name
    decide(CODE, "signoff", decider="hq.manager2", outcome="approve", now=NOW)
    return run


def recorded(db_url) -> list[tuple[str, str, str | None]]:
    return [(g.key, g.status, g.process_version) for g in gates(db_url)]


def test_it_before_signoff_is_refused_for_a_campaign_waiting_at_signoff(
    gate_runner, db_url, deploy
):
    run = waiting_at_signoff(gate_runner)
    before = recorded(db_url)
    assert [v for _, _, v in before] == ["campaign-pipeline@2", "campaign-pipeline@2"]

    review = STAGES[Stage.plan_review]
    it_first = {**review.moves, "approve": Move(Stage.feasibility, done=("plan_review",))}
    deploy("3", plan_review=replace(review, moves=it_first))
    [failed] = gate_runner.run_pending()
    assert failed.id == run.id and failed.state.is_failed(), failed.state
    for part in (
        "waited under campaign-pipeline@2",
        "the code is now campaign-pipeline@3",
        "feasibility",
        "Finish this run with campaign-pipeline@2",
    ):
        assert part in failed.state.message, failed.state.message
    assert recorded(db_url) == before  # no IT gate was opened

    deploy("2", plan_review=review)
    retry(run.id)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· feasibility"), run.name
    assert [(k, s) for k, s, _ in recorded(db_url)] == [
        ("plan_review", "decided"),
        ("signoff", "decided"),
        ("feasibility", "open"),
    ]


def test_a_new_title_for_the_signoff_gate_keeps_the_waiting_campaign_going(
    gate_runner, db_url, deploy
):
    run = waiting_at_signoff(gate_runner)
    deploy("3", signoff=replace(STAGES[Stage.signoff], title="总经理签字"))
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· feasibility"), run.name
    assert recorded(db_url)[-1] == ("feasibility", "open", "campaign-pipeline@3")
