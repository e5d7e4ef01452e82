"""How a flow waits at a human gate: as a suspended deployment run that resumes with a typed
decision. Used by the campaign pipeline and the activity lifecycle; see docs/gates.md.

The wait holds no process: `suspend_flow_run` ends the process, and `clubflow decide` (or the
UI's Resume form) starts the run again from the top. Everything before the gate is idempotent
(store rows with natural keys, notifications with idempotency keys), and a gate already
decided in the store returns its decision without suspending, so the replay is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from prefect import get_run_logger, suspend_flow_run
from prefect.context import FlowRunContext
from prefect.input import RunInput
from pydantic import Field, ValidationError

from clubflow.core.settings import get_settings
from domain.calendar import business_date
from domain.decision_codes import code_is_sent
from domain.gates import (
    DecisionResult,
    GateKind,
    GateSpec,
    GateView,
    RunReplay,
    refusals_note,
)
from domain.models import GateStatus
from flows.naming import clock
from tasks.gates.code_sending import send_decision_code_task
from tasks.gates.runs import (
    label_run_task,
    publish_gate_decided_task,
    publish_gate_waiting_task,
)
from tasks.gates.store_tasks import (
    keep_gate_artifact_task,
    reach_gate_task,
    record_decision_task,
    refused_answers_task,
    run_replay_task,
)
from tasks.outbox import NotificationRequest, queue_notifications_task


class GateInput(RunInput):
    """The form a waiting gate shows. Prefect does not record who resumed a run, so the
    decider names themself and proves it with the one-time code sent to them; the flow checks
    both against who may decide the gate."""

    decider: str = Field(description="Your clubflow username, e.g. hq.manager")
    code: str = Field(
        "",
        description=(
            "The decision code sent to you for this gate (6 digits, used once). None yet? "
            "Send the form without it: one is sent to you"
        ),
    )
    outcome: str
    comment: str = Field("", description="Why: required to revise, reject or refuse")


class ApprovalInput(GateInput):
    outcome: Literal["approve", "revise", "reject"] = Field(
        description="approve, revise (send back with comments) or reject"
    )


class FeasibilityInput(GateInput):
    outcome: Literal["feasible", "not_feasible"] = Field(
        description="feasible, or not_feasible with the reason in the comment"
    )


class ConfirmationInput(GateInput):
    outcome: Literal["confirmed"] = Field("confirmed", description="confirmed: it is done")


INPUT_FOR_KIND: dict[GateKind, type[GateInput]] = {
    GateKind.approval: ApprovalInput,
    GateKind.feasibility: FeasibilityInput,
    GateKind.confirmation: ConfirmationInput,
}

# Fields of the base form; whatever else an input carries is stored as the decision's payload.
BASE_FIELDS = {"decider", "code", "outcome", "comment"}


@dataclass
class GateOutcome:
    """How a gate ended for the flow: decided (with the accepted decision) or void."""

    gate: GateView
    decision: DecisionResult | None

    @property
    def void(self) -> bool:
        return self.decision is None

    @property
    def outcome(self) -> str | None:
        return self.decision.outcome if self.decision else None


class ProcessVersionChanged(RuntimeError):
    """A suspended run resumed under code that asks for gates its recorded path does not
    have: the run fails with the message rather than open them."""


def current_flow_run_id() -> str:
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("wait_for_decision must be called inside a flow run")
    return str(context.flow_run.id)


def process_version() -> str:
    """`<flow name>@<flow version>` of the running code: gated flows declare `version=`."""
    context = FlowRunContext.get()
    if context is None or context.flow is None:
        raise RuntimeError("wait_for_decision must be called inside a flow run")
    return f"{context.flow.name}@{context.flow.version}"


# This run's gates met so far in this execution, in order (a replay starts with none). Kept
# with the execution's FlowRunContext: a later execution in the same process starts afresh.
_MET: ContextVar[tuple[object, list[int]] | None] = ContextVar("clubflow_gates_met", default=None)


def _met_in_this_execution() -> list[int]:
    context = FlowRunContext.get()
    held = _MET.get()
    if held is None or held[0] is not context:
        held = (context, [])
        _MET.set(held)
    return held[1]


# The run's gates as this execution found them when it started (read once, by the first gate
# it meets): a replay returns the decided ones from here without a task run each.
_REPLAY: ContextVar[tuple[object, RunReplay] | None] = ContextVar(
    "clubflow_gates_replay", default=None
)


def _replay_of_this_execution(flow_run_id: str, settings) -> RunReplay:
    context = FlowRunContext.get()
    held = _REPLAY.get()
    if held is None or held[0] is not context:
        held = (context, run_replay_task(flow_run_id=flow_run_id, settings=settings))
        _REPLAY.set(held)
    return held[1]


def _show_waiting(
    gate: GateView, description: str, refused: DecisionResult | None = None
) -> GateView:
    """Publish the gate's one artifact (created once, then updated in place)."""
    artifact_id = publish_gate_waiting_task(gate, description, refused)
    if artifact_id != gate.artifact_id:
        keep_gate_artifact_task(gate_id=gate.id, artifact_id=artifact_id)
        gate = gate.model_copy(update={"artifact_id": artifact_id})
    return gate


def wait_for_decision(
    spec: GateSpec,
    *,
    description: str,
    input_model: type[GateInput] | None = None,
    run_label: str | None = None,
    tags: list[str] | None = None,
    plan_hash: str | None = None,
    on_open: list[NotificationRequest] | None = None,
    check: Callable[[GateInput], str | None] | None = None,
    now: datetime | None = None,
) -> GateOutcome:
    """Open the gate of `spec` (once) and return its decision; suspend the run until there is
    one. A decider who may not decide is refused and recorded, and the run suspends again.

    - `description`: markdown shown above the Resume form (what is decided, budget, KPIs).
    - `input_model`: a GateInput subclass (default: by the gate's kind). Fields beyond
      decider/outcome/comment are stored in the decision's payload.
    - `run_label`: renames the run to `<run_label> · <gate key>` while it waits here.
    - `plan_hash`: stored and signed with an accepted decision (sign-off binds the plan).
    - `on_open`: notifications queued when the gate is first reached (idempotency keys make
      a replay queue nothing).
    - `check`: a pure function of the answer returning what is wrong with it (or None); a
      wrong answer is refused and recorded with that reason, and the gate waits again.
    """
    flow_run_id = current_flow_run_id()
    now = clock(now)
    settings = get_settings()
    met = _met_in_this_execution()
    version = process_version()
    # A gate decided before this execution started returns at once: the replay through N
    # decided gates costs one store read, not N task runs (flat resume time, docs/scale.md).
    reached = _replay_of_this_execution(flow_run_id, settings).decided_gate(
        spec, met=list(met), version=version
    )
    if reached is not None:
        get_run_logger().info("gate %s is decided (replayed)", spec.label)
    else:
        reached = reach_gate_task(
            spec=spec,
            now=now,
            flow_run_id=flow_run_id,
            process_version=version,
            met=list(met),
            settings=settings,
        )
    if reached.conflict:
        run = FlowRunContext.get().flow_run
        raise ProcessVersionChanged(f"run {run.name!r} ({run.id}): {reached.conflict}")
    gate, decided = reached.gate, reached.decision
    if gate.flow_run_id == flow_run_id and gate.id not in met:
        met.append(gate.id)
    if gate.status == GateStatus.decided and decided is not None:
        return GateOutcome(gate, decided)
    if gate.status == GateStatus.void:
        return GateOutcome(gate, None)

    if run_label:
        label_run_task(flow_run_id, f"{run_label} · {spec.key}", tags or [])
    gate = _show_waiting(gate, description)
    if on_open:
        queue_notifications_task(on_open, now)

    model = input_model or INPUT_FOR_KIND[spec.kind]
    # Long enough to outlive the due date by the policy's margin; the sweep escalates first.
    # Counted from the time the flow acts at (the clock only when it was given none).
    today = business_date(now)
    days = max((gate.due_on - today).days, 0) + settings.gate_wait_timeout_days
    timeout = days * 24 * 3600
    attempt = 0
    while True:
        # One pause key per attempt: a key that fired returns its stored answer on replay.
        key = f"gate-{gate.id}-{attempt}"
        # The form says who was refused last and why (read again on every replay).
        refused = refused_answers_task(gate_id=gate.id, settings=settings)
        form = model.with_initial_data(description=description + refusals_note(refused))
        try:
            answer = suspend_flow_run(wait_for_input=form, key=key, timeout=timeout)
        except ValidationError:
            # The key fired but no answer was stored: the run was woken without input
            # (e.g. after its plan changed); wait again under the next key.
            get_run_logger().info("gate #%s: woken without an answer, waiting again", gate.id)
            attempt += 1
            continue
        result = record_decision_task(
            gate_id=gate.id,
            decider=answer.decider,
            outcome=answer.outcome,
            comment=answer.comment,
            code=answer.code,
            payload=answer.model_dump(exclude=BASE_FIELDS, mode="json"),
            input_key=f"{flow_run_id}:{key}",
            plan_hash=plan_hash,
            now=now,
            problem=check(answer) if check else None,
            settings=settings,
        )
        if result.accepted:
            publish_gate_decided_task(gate, result, description)
            return GateOutcome(gate.model_copy(update={"status": result.gate_status}), result)
        if result.gate_status != GateStatus.open:
            # Decided by someone else meanwhile, or voided: read it again from the store.
            return wait_for_decision(
                spec,
                description=description,
                input_model=input_model,
                plan_hash=plan_hash,
                check=check,
                now=now,
            )
        if not result.replayed:
            gate = _show_waiting(gate, description, refused=result)  # why, for the form's user
        if code_is_sent(result.reason):
            # The refusal promised the decider a code: sent once (a replay finds it live).
            send_decision_code_task(gate.id, answer.decider, now, flow_run_id, settings=settings)
        attempt += 1
