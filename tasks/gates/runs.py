"""Prefect client calls for the runs that wait at gates: name a run after its step, retire it
when another run took over, and publish the artifacts a specialist reads in the UI (one per
gate, updated in place until its decision)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterId
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled

from domain.gates import DecisionResult, GateView
from domain.privacy import mask_text
from tasks.common import run_logger
from tasks.gates.dated_steps import StepRun


@task(name="label-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def label_run_task(flow_run_id: str, name: str, tags: list[str] | None = None) -> None:
    """Rename the run to its current step (`campaign 2027 双十一 · signoff`) and add tags, so
    the runs list shows where each subject stands."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        merged = sorted(set(run.tags or []) | set(tags or []))
        client.update_flow_run(flow_run_id, name=name, tags=merged)


@task(name="retire-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def retire_run_task(flow_run_id: str, reason: str) -> bool:
    """Cancel a run that another run has taken over, if it still waits (suspended or
    scheduled), so only one run per subject shows as waiting. A running or finished run is
    left alone. Returns whether it was cancelled."""
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return False
        if run.state is None or run.state.type not in (StateType.PAUSED, StateType.SCHEDULED):
            return False
        client.set_flow_run_state(run.id, Cancelled(message=reason), force=True)
    run_logger("gates").info("cancelled run %s: %s", run.name, reason)
    return True


def _gate_artifact_key(gate: GateView) -> str:
    return f"{gate.subject_type}-{gate.subject_id}-gate".replace("_", "-").lower()


def _show(artifact_id: str | None, markdown: str, description: str, gate: GateView) -> str:
    """Update the gate's artifact in place, or create it: the first time, when it was
    deleted, or when another run took over the wait (each run's page shows its own)."""
    if artifact_id:
        with get_client(sync_client=True) as client:
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(id=ArtifactFilterId(any_=[UUID(artifact_id)])),
                limit=1,
            )
            if found and str(found[0].flow_run_id) == str(gate.flow_run_id):
                client.update_artifact(
                    UUID(artifact_id), ArtifactUpdate(data=markdown, description=description)
                )
                return artifact_id
    created = create_markdown_artifact(
        key=_gate_artifact_key(gate), markdown=markdown, description=description
    )
    return str(created)


@task(name="publish-gate-waiting", cache_policy=NO_CACHE)
def publish_gate_waiting_task(
    gate: GateView, description: str, refused: DecisionResult | None = None
) -> str:
    """The gate's one markdown artifact while it waits: what is decided, by whom, by when,
    how, and why the last answer was refused. Created once, then updated in place (a replay
    adds no version). Returns its id, which the gate keeps."""
    last = (
        f"**Last answer refused** ({refused.decider}, {refused.outcome}): "
        f"{mask_text(refused.reason or '')}\n\n"
        if refused is not None
        else ""
    )
    markdown = (
        f"### Waiting: {gate.title} (round {gate.round})\n\n"
        f"**Due {gate.due_on.isoformat()}** · decided by `{gate.owner}`\n\n{last}"
        "In the Resume form: `decider` your username, `code` the decision code sent to you "
        "(leave it empty the first time: it is sent to you), then the outcome and a comment. "
        "Or:\n\n"
        f"`clubflow decide {gate.subject_type}:{gate.subject_code} {gate.key} --as USER ...`"
        f"\n\n---\n\n{description}"
    )
    return _show(gate.artifact_id, markdown, f"{gate.title}: due {gate.due_on.isoformat()}", gate)


@task(name="publish-gate-decided", cache_policy=NO_CACHE)
def publish_gate_decided_task(gate: GateView, decision: DecisionResult, description: str) -> None:
    """The gate's artifact once decided: the outcome, who and why, above what was decided."""
    comment = f"\n\n> {mask_text(decision.comment)}" if decision.comment.strip() else ""
    markdown = (
        f"### Decided: {gate.title} (round {gate.round}): **{decision.outcome}** "
        f"by `{decision.decider}`{comment}\n\n---\n\n{description}"
    )
    _show(gate.artifact_id, markdown, f"{gate.title}: {decision.outcome}", gate)


@task(name="publish-sweep-actions", cache_policy=NO_CACHE)
def publish_sweep_actions_task(ladder: list[str], steps: list[StepRun], now: datetime) -> None:
    """The table artifact of what this sweep did (none when it did nothing)."""
    if ladder or steps:
        create_table_artifact(
            key="sweep-last-actions",
            table=[{"what": "gate ladder", "subject": key, "detail": ""} for key in ladder]
            + [{"what": s.step, "subject": s.subject, "detail": s.detail} for s in steps],
            description=f"What the sweep did at {now.isoformat(timespec='minutes')}",
        )
