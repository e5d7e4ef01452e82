"""One Prefect artifact per gate: created when the run first waits there, updated in place by
every replay and refused answer (no new version each time), and showing the decision last."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Gate
from tasks.gates.decisions import decide, wake_run

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
KEY = "probe-1-gate"  # the probe's subject: probe #1


def _artifacts(*run_ids):
    """The gate artifacts of these runs (the test server keeps other tests' artifacts)."""
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[KEY]),
                flow_run_id=ArtifactFilterFlowRunId(any_=list(run_ids)),
            )
        )


def _gate_artifact_id(db_url):
    with session_scope(db_url) as session:
        return session.execute(select(Gate.artifact_id)).scalar_one()


def test_the_gate_artifact_is_one_updated_in_place_until_the_decision(gate_runner, db_url):
    run_id = gate_runner.start(
        "gate-probe", {"code": "A1", "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    gate_runner.run_pending()
    [artifact] = _artifacts(run_id)
    assert str(artifact.id) == _gate_artifact_id(db_url)
    assert artifact.flow_run_id == run_id
    assert "### Waiting: Probe review (round 1)" in artifact.data
    assert "**Due 2026-12-01** · decided by `role:regional_specialist:chengdu`" in artifact.data
    assert "`code` the decision code sent to you" in artifact.data
    assert "### Probe A1" in artifact.data  # the flow's description, below

    wake_run(str(run_id))  # a replay
    gate_runner.run_pending()
    # The form's user learns why their answer did not count (phone numbers masked).
    resume_flow_run(
        run_id,
        run_input={"decider": "specialist.chengdu", "outcome": "approve", "comment": ""},
    )
    gate_runner.run_pending()
    [artifact] = _artifacts(run_id)
    assert "**Last answer refused** (specialist.chengdu, approve): no decision code yet" in (
        artifact.data
    )

    decide(
        "probe:A1",
        "review",
        decider="specialist.chengdu",
        outcome="revise",
        comment="call 13812345678 for photos",
        now=NOW,
    )
    [run] = gate_runner.run_pending()
    assert run.state.is_completed(), run.state
    [artifact] = _artifacts(run_id)
    assert str(artifact.id) == _gate_artifact_id(db_url)
    assert artifact.data.startswith(
        "### Decided: Probe review (round 1): **revise** by `specialist.chengdu`"
    )
    assert "> call 138****5678 for photos" in artifact.data
    assert "Waiting" not in artifact.data


def test_a_run_that_takes_over_the_wait_shows_the_gate_on_its_own_page(gate_runner, db_url):
    from prefect.states import Crashed

    parameters = {"code": "A2", "due_on": "2026-12-01", "now": NOW.isoformat()}
    first = gate_runner.start("gate-probe", parameters)
    gate_runner.run_pending()
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(first, Crashed(), force=True)
    second = gate_runner.start("gate-probe", parameters)  # started again by hand
    gate_runner.run_pending()

    by_run = {a.flow_run_id: a for a in _artifacts(first, second)}
    assert set(by_run) == {first, second}
    assert _gate_artifact_id(db_url) == str(by_run[second].id)
    assert "### Waiting: Probe review (round 1)" in by_run[second].data
