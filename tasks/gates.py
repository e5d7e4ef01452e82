"""Gates in the store: open one, record a decision (or a refusal), void a stale sign-off, list
what waits on a person, and the sweep's ladder and dated steps.

Data functions are plain and keyword-only (they take the session); the @task wrappers at the
bottom are what flows call. How a flow waits at a gate is in flows/gates.py; docs/gates.md
shows both sides with an example.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts, session_scope
from clubflow.core.settings import Settings, get_settings
from domain import calendar
from domain.gates import (
    Decider,
    GateKind,
    Level,
    OutcomeError,
    levels_due,
    normalise_outcome,
    owner_recipient,
    refusal_reason,
)
from domain.models import Decision, Gate, GateStatus, Person, Role
from tasks.outbox import NotificationRequest, load_channels, queue_notifications


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("clubflow.gates")


# ---------------------------------------------------------------- values


class GateSpec(BaseModel):
    """What a flow asks for when it reaches a gate. (subject, key, round) names the gate:
    opening it again (a re-run) returns the same row."""

    subject_type: str  # campaign / activity / claim / quarter_plan
    subject_id: int
    subject_code: str
    subject_title: str = ""
    key: str  # plan_review / signoff / feasibility / specialist_review / ...
    round: int = 1
    title: str
    kind: GateKind = GateKind.approval
    owner_role: Role
    owner_region: str | None = None
    due_on: date
    plan_version: int | None = None
    escalate_to: str = "role:campaign_manager"

    @property
    def label(self) -> str:
        return f"{self.subject_type}:{self.subject_code} {self.key} r{self.round}"


class GateView(BaseModel):
    """A gate as flows and the CLI see it (no session attached)."""

    id: int
    subject_type: str
    subject_id: int
    subject_code: str
    subject_title: str
    key: str
    round: int
    title: str
    kind: str
    status: GateStatus
    owner_role: str
    owner_region: str | None
    due_on: date
    outcome: str | None = None
    flow_run_id: str | None = None
    plan_version: int | None = None

    @classmethod
    def of(cls, gate: Gate) -> GateView:
        return cls.model_validate(gate, from_attributes=True)

    @property
    def owner(self) -> str:
        return owner_recipient(self.owner_role, self.owner_region)


class DecisionResult(BaseModel):
    """What happened to one decision: accepted (the gate is decided) or refused (it waits)."""

    gate_id: int
    accepted: bool
    outcome: str
    decider: str
    comment: str = ""
    reason: str | None = None  # why it was refused
    gate_status: GateStatus
    payload: dict[str, Any] = Field(default_factory=dict)
    decision_id: int | None = None
    replayed: bool = False  # the input was recorded before: nothing new was written


class InboxItem(BaseModel):
    """One thing waiting on a person (gates here; other areas add claims, leads...)."""

    kind: str
    subject: str
    title: str
    due_on: date | None
    overdue: bool
    command: str = ""  # how to act on it


# ---------------------------------------------------------------- opening and reading


def open_gate(
    *, session: Session, spec: GateSpec, now: datetime, flow_run_id: str | None = None
) -> GateView:
    """The gate row of `spec`, created once; the waiting run's id is kept up to date so
    `clubflow decide` knows which run to resume."""
    insert_ignoring_conflicts(
        session,
        Gate,
        [
            {
                "subject_type": spec.subject_type,
                "subject_id": spec.subject_id,
                "subject_code": spec.subject_code,
                "subject_title": spec.subject_title,
                "key": spec.key,
                "round": spec.round,
                "title": spec.title,
                "kind": str(spec.kind),
                "status": GateStatus.open,
                "owner_role": spec.owner_role,
                "owner_region": spec.owner_region,
                "due_on": spec.due_on,
                "opened_at": now,
                "plan_version": spec.plan_version,
                "flow_run_id": flow_run_id,
                "escalate_to": spec.escalate_to,
            }
        ],
        on=["subject_type", "subject_id", "key", "round"],
    )
    gate = session.execute(
        select(Gate).where(
            Gate.subject_type == spec.subject_type,
            Gate.subject_id == spec.subject_id,
            Gate.key == spec.key,
            Gate.round == spec.round,
        )
    ).scalar_one()
    if gate.status == GateStatus.open and flow_run_id and gate.flow_run_id != flow_run_id:
        gate.flow_run_id = flow_run_id  # a re-run took over the wait
    session.flush()
    return GateView.of(gate)


def read_gate(*, session: Session, gate_id: int) -> GateView:
    gate = session.get(Gate, gate_id)
    if gate is None:
        raise LookupError(f"gate #{gate_id} does not exist")
    return GateView.of(gate)


def accepted_decision(*, session: Session, gate_id: int) -> DecisionResult | None:
    """The decision that closed a decided gate (None while it is open)."""
    gate = session.get(Gate, gate_id)
    row = session.execute(
        select(Decision)
        .where(Decision.gate_id == gate_id, Decision.accepted.is_(True))
        .order_by(Decision.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return _result(row, gate)


def find_open_gate(
    *, session: Session, subject: str, key: str, subject_type: str | None = None
) -> GateView:
    """The open gate `key` of a subject named `type:code` or just `code`; a clear error else."""
    kind, sep, code = subject.partition(":")
    if sep:
        subject_type = kind
    else:
        code = subject
    query = select(Gate).where(Gate.subject_code == code, Gate.key == key)
    if subject_type:
        query = query.where(Gate.subject_type == subject_type)
    gates = session.execute(query.order_by(Gate.round.desc(), Gate.id.desc())).scalars().all()
    if not gates:
        raise LookupError(f"{subject}: no gate {key!r} (is the code right? see `clubflow inbox`)")
    open_gates = [g for g in gates if g.status == GateStatus.open]
    if not open_gates:
        latest = gates[0]
        raise LookupError(
            f"{subject}: gate {key!r} round {latest.round} is {latest.status}"
            + (f" ({latest.outcome})" if latest.outcome else "")
            + ", nothing waits for a decision"
        )
    if len({(g.subject_type, g.subject_id) for g in open_gates}) > 1:
        raise LookupError(f"{subject}: several subjects have code {code!r}; name it as type:code")
    return GateView.of(open_gates[0])


# ---------------------------------------------------------------- deciding


def decider_of(*, session: Session, username: str) -> Decider | None:
    person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None:
        return None
    return Decider(
        username=person.username,
        role=str(person.role),
        region_code=person.region_code,
        active=person.active,
    )


def check_decider(*, session: Session, gate: GateView, username: str) -> str | None:
    """Why `username` may not decide `gate`, or None."""
    return refusal_reason(
        decider_of(session=session, username=username),
        owner_role=gate.owner_role,
        owner_region=gate.owner_region,
        username=username,
    )


def sign(settings: Settings, *, gate_id: int, decider: str, outcome: str, plan_hash: str) -> str:
    """HMAC over what was signed: an edited audit row no longer matches its signature."""
    message = f"{gate_id}|{decider}|{outcome}|{plan_hash}".encode()
    key = settings.signing_key.get_secret_value().encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record_decision(
    *,
    session: Session,
    gate_id: int,
    decider: str,
    outcome: str,
    now: datetime,
    settings: Settings,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    input_key: str | None = None,
    plan_hash: str | None = None,
    problem: str | None = None,
) -> DecisionResult:
    """Record one decision at a gate: accepted (the gate is decided) or refused with the reason
    (the gate stays open). The same `input_key` twice writes nothing the second time.

    `problem` is what the flow's own check found wrong with the answer (e.g. a KPI the plan
    does not have); the decider may decide, but this answer is refused with that reason."""
    if input_key is not None:
        earlier = session.execute(
            select(Decision).where(Decision.input_key == input_key)
        ).scalar_one_or_none()
        if earlier is not None:
            result = _result(earlier, session.get(Gate, earlier.gate_id))
            return result.model_copy(update={"replayed": True})
    gate = session.get(Gate, gate_id)
    if gate is None:
        raise LookupError(f"gate #{gate_id} does not exist")
    reason = None
    if gate.status != GateStatus.open:
        reason = f"gate #{gate.id} ({gate.key} round {gate.round}) is {gate.status}"
    if reason is None:
        try:
            outcome = normalise_outcome(gate.kind, outcome)
        except OutcomeError as exc:
            reason = str(exc)
    if reason is None:
        reason = check_decider(session=session, gate=GateView.of(gate), username=decider)
    if reason is None and outcome in ("revise", "reject", "not_feasible") and not comment.strip():
        reason = f"a {outcome} decision needs a comment saying why"
    if reason is None and problem:
        reason = problem
    row = Decision(
        gate_id=gate.id,
        decider=decider,
        outcome=outcome,
        comment=comment,
        accepted=reason is None,
        refusal_reason=reason,
        plan_version=gate.plan_version,
        plan_hash=plan_hash,
        signature=(
            sign(settings, gate_id=gate.id, decider=decider, outcome=outcome, plan_hash=plan_hash)
            if plan_hash and reason is None
            else None
        ),
        payload=payload or {},
        input_key=input_key,
        decided_at=now,
    )
    session.add(row)
    if reason is None:
        # Only an open gate is decided: a concurrent writer that got there first wins.
        won = session.execute(
            update(Gate)
            .where(Gate.id == gate.id, Gate.status == GateStatus.open)
            .values(status=GateStatus.decided, outcome=outcome, decided_at=now)
        ).rowcount
        if won != 1:
            row.accepted, row.refusal_reason = False, f"gate #{gate.id} was decided meanwhile"
    session.flush()
    session.refresh(gate)
    return _result(row, gate)


def record_overruling(*, session: Session, decision_id: int, reason: str, now: datetime) -> bool:
    """Audit that the rules overruled an accepted answer (e.g. approving a claim line without
    evidence): a refusal row right after it, once. The gate's round stays closed; the flow
    opens the next round. False when it was recorded before."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise LookupError(f"decision #{decision_id} does not exist")
    ids = insert_ignoring_conflicts(
        session,
        Decision,
        [
            {
                "gate_id": decision.gate_id,
                "decider": "clubflow:rules",
                "outcome": "overruled",
                "comment": f"overrules decision #{decision_id} by {decision.decider}",
                "accepted": False,
                "refusal_reason": reason,
                "plan_version": decision.plan_version,
                "payload": {},
                "input_key": f"overrule:{decision_id}",
                "decided_at": now,
            }
        ],
        on=["input_key"],
    )
    session.execute(update(Gate).where(Gate.id == decision.gate_id).values(outcome="overruled"))
    return bool(ids)


def _result(row: Decision, gate: Gate) -> DecisionResult:
    return DecisionResult(
        gate_id=row.gate_id,
        accepted=row.accepted,
        outcome=row.outcome,
        decider=row.decider,
        comment=row.comment,
        reason=row.refusal_reason,
        gate_status=gate.status,
        payload=dict(row.payload or {}),
        decision_id=row.id,
    )


def void_gates(
    *, session: Session, gate_ids: list[int], now: datetime, reason: str
) -> list[GateView]:
    """Void gates (their decisions stay as audit rows); a flow that meets a void gate opens
    the next round."""
    voided = []
    for gate in session.execute(select(Gate).where(Gate.id.in_(gate_ids))).scalars():
        if gate.status == GateStatus.void:
            continue
        gate.status = GateStatus.void
        gate.outcome = (gate.outcome + "; " if gate.outcome else "") + f"void: {reason}"[:200]
        gate.decided_at = gate.decided_at or now
        voided.append(GateView.of(gate))
    session.flush()
    return voided


def void_stale_signoffs(
    *,
    session: Session,
    subject_type: str,
    subject_id: int,
    key: str,
    current_hash: str,
    now: datetime,
    downstream: tuple[str, ...] = (),
) -> list[GateView]:
    """A sign-off binds the plan hash it signed: when the plan's hash is no longer that one,
    the sign-off is void, and so is every still-open gate in `downstream` (e.g. feasibility)."""
    signed = session.execute(
        select(Gate, Decision.plan_hash)
        .join(Decision, Decision.gate_id == Gate.id)
        .where(
            Gate.subject_type == subject_type,
            Gate.subject_id == subject_id,
            Gate.key == key,
            Gate.status == GateStatus.decided,
            Gate.outcome == "approve",
            Decision.accepted.is_(True),
        )
    ).all()
    stale = [gate.id for gate, plan_hash in signed if plan_hash != current_hash]
    if not stale:
        return []
    later = session.execute(
        select(Gate.id).where(
            Gate.subject_type == subject_type,
            Gate.subject_id == subject_id,
            Gate.key.in_(downstream),
            Gate.status == GateStatus.open,
        )
    ).scalars()
    return void_gates(
        session=session,
        gate_ids=stale + list(later),
        now=now,
        reason="the plan changed after sign-off",
    )


# ---------------------------------------------------------------- what waits on whom

InboxSource = Callable[..., list[InboxItem]]
_INBOX_SOURCES: dict[str, InboxSource] = {}


def inbox_source(name: str) -> Callable[[InboxSource], InboxSource]:
    """Register `fn(*, session, person, today) -> list[InboxItem]` (claims, leads, ...)."""

    def register(fn: InboxSource) -> InboxSource:
        _INBOX_SOURCES[name] = fn
        return fn

    return register


def gates_waiting_on(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    query = select(Gate).where(Gate.status == GateStatus.open, Gate.owner_role == person.role)
    items = []
    for gate in session.execute(query).scalars():
        if gate.owner_region and gate.owner_region != person.region_code:
            continue
        subject = f"{gate.subject_type}:{gate.subject_code}"
        items.append(
            InboxItem(
                kind="gate",
                subject=subject,
                title=f"{gate.title} · {gate.subject_title}".strip(" ·"),
                due_on=gate.due_on,
                overdue=gate.due_on < today,
                command=f"clubflow decide {subject} {gate.key} --as {person.username} ...",
            )
        )
    return items


def waiting_on(*, session: Session, username: str, today: date) -> list[InboxItem]:
    """Everything waiting on `username`, overdue first, then by due date."""
    person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None:
        raise LookupError(f"unknown user {username!r}")
    discover_hooks()
    items = gates_waiting_on(session=session, person=person, today=today)
    for source in _INBOX_SOURCES.values():
        items.extend(source(session=session, person=person, today=today))
    return sorted(items, key=lambda i: (not i.overdue, i.due_on or date.max, i.subject))


# ---------------------------------------------------------------- the sweep: ladder


def gate_ladder_notifications(
    *, session: Session, now: datetime, settings: Settings
) -> list[NotificationRequest]:
    """Reminders and escalations owed by open gates today; marks them sent in this session, so
    queueing them in the same transaction makes each level happen once."""
    today = calendar.business_date(now)
    requests = []
    gates = session.execute(
        select(Gate).where(Gate.status == GateStatus.open, Gate.due_on <= today)
    ).scalars()
    for gate in gates:
        levels = levels_due(
            due_on=gate.due_on,
            today=today,
            reminded=gate.reminded_at is not None,
            escalated=gate.escalated_at is not None,
            escalate_after_working_days=settings.escalate_after_working_days,
        )
        context = {
            "gate": gate.title,
            "subject": gate.subject_title or gate.subject_code,
            "subject_ref": f"{gate.subject_type}:{gate.subject_code}",
            "key": gate.key,
            "round": gate.round,
            "due_on": gate.due_on.isoformat(),
            "owner": owner_recipient(gate.owner_role, gate.owner_region),
            "overdue_working_days": max(calendar.working_days_between(gate.due_on, today), 0),
        }
        for level in levels:
            recipient = (
                owner_recipient(gate.owner_role, gate.owner_region)
                if level == Level.reminder
                else gate.escalate_to
            )
            requests.append(
                NotificationRequest(
                    recipient=recipient,
                    template=f"gate_{level}",
                    context=context,
                    idem_key=f"gate:{gate.id}:{level}",
                    urgent=level == Level.escalation,
                )
            )
            if level == Level.reminder:
                gate.reminded_at = now
            else:
                gate.escalated_at = now
    session.flush()
    return requests


# ---------------------------------------------------------------- the sweep: dated steps


@dataclass
class StepRun:
    """What a dated step did for one subject (shown in the sweep's artifact)."""

    step: str
    subject: str
    detail: str = ""
    notifications: list[NotificationRequest] = field(default_factory=list)


DatedStep = Callable[..., list[StepRun]]
_DATED_STEPS: dict[str, DatedStep] = {}


def dated_step(name: str) -> Callable[[DatedStep], DatedStep]:
    """Register `fn(*, session, now, today, settings) -> list[StepRun]`: the sweep calls it
    every hour; it does what is due by `today` and not yet done, and marks it done in the
    session. The notifications it returns are queued in the same transaction."""

    def register(fn: DatedStep) -> DatedStep:
        _DATED_STEPS[name] = fn
        return fn

    return register


_HOOK_ERRORS: dict[str, str] = {}


def discover_hooks() -> dict[str, str]:
    """Import every `tasks/<area>/hooks.py` so its dated steps and inbox sources register.

    An area whose hooks fail to import does not stop the others; the errors are returned
    (and the sweep fails after running the rest, naming them)."""
    import tasks

    for module in pkgutil.iter_modules(tasks.__path__):
        if not module.ispkg:
            continue
        name = f"tasks.{module.name}.hooks"
        try:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
                _HOOK_ERRORS.pop(name, None)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            _HOOK_ERRORS[name] = f"{type(exc).__name__}: {exc}"
            _logger().error("cannot import %s: %s", name, exc)
    return dict(_HOOK_ERRORS)


def registered_steps() -> dict[str, DatedStep]:
    discover_hooks()
    return dict(_DATED_STEPS)


def run_dated_step(
    *, url: str, name: str, step: DatedStep, now: datetime, settings: Settings, channels=None
) -> list[StepRun]:
    """One step in one transaction: its marks and its notifications commit together."""
    with session_scope(url) as session:
        runs = step(session=session, now=now, today=calendar.business_date(now), settings=settings)
        requests = [r for run in runs for r in run.notifications]
        if requests:
            queue_notifications(
                session=session, requests=requests, now=now, settings=settings, channels=channels
            )
    return runs


# ---------------------------------------------------------------- tasks


@task(name="label-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def label_run_task(flow_run_id: str, name: str, tags: list[str] | None = None) -> None:
    """Rename the run to its current step (`campaign 2027 双十一 · signoff`) and add tags, so
    the runs list shows where each subject stands."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        merged = sorted(set(run.tags or []) | set(tags or []))
        client.update_flow_run(flow_run_id, name=name, tags=merged)


@task(name="retire-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def retire_run_task(flow_run_id: str, reason: str) -> bool:
    """Cancel a run that another run has taken over, if it still waits (suspended or
    scheduled), so only one run per subject shows as waiting. A running or finished run is
    left alone. Returns whether it was cancelled."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return False
        if run.state is None or run.state.type not in (StateType.PAUSED, StateType.SCHEDULED):
            return False
        client.set_flow_run_state(run.id, Cancelled(message=reason), force=True)
    _logger().info("cancelled run %s: %s", run.name, reason)
    return True


@task(name="open-gate", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def open_gate_task(spec: GateSpec, flow_run_id: str | None = None, now: datetime | None = None):
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        gate = open_gate(
            session=session, spec=spec, now=now or datetime.now(UTC), flow_run_id=flow_run_id
        )
        decided = (
            accepted_decision(session=session, gate_id=gate.id)
            if gate.status == GateStatus.decided
            else None
        )
    _logger().info("gate %s is %s (due %s)", spec.label, gate.status, gate.due_on)
    return gate, decided


@task(name="record-decision", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def record_decision_task(
    gate_id: int,
    decider: str,
    outcome: str,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    input_key: str | None = None,
    plan_hash: str | None = None,
    now: datetime | None = None,
    problem: str | None = None,
) -> DecisionResult:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        result = record_decision(
            session=session,
            gate_id=gate_id,
            decider=decider,
            outcome=outcome,
            comment=comment,
            payload=payload,
            input_key=input_key,
            plan_hash=plan_hash,
            problem=problem,
            now=now or datetime.now(UTC),
            settings=settings,
        )
    log = _logger()
    if result.accepted:
        log.info("gate #%s: %s by %s", gate_id, result.outcome, result.decider)
    else:
        log.warning("gate #%s: refused %s by %s: %s", gate_id, outcome, decider, result.reason)
    return result


@task(name="record-overruling", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def record_overruling_task(decision_id: int, reason: str, now: datetime | None = None) -> bool:
    with session_scope(get_settings().database_url) as session:
        return record_overruling(
            session=session, decision_id=decision_id, reason=reason, now=now or datetime.now(UTC)
        )


@task(name="queue-gate-reminders", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def sweep_gates_task(now: datetime) -> list[str]:
    """Queue today's reminders and escalations (each level once per gate)."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        requests = gate_ladder_notifications(session=session, now=now, settings=settings)
        if requests:
            queue_notifications(
                session=session,
                requests=requests,
                now=now,
                settings=settings,
                channels=load_channels(),
            )
    return [r.idem_key for r in requests]


@task(name="run-dated-steps", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def run_dated_steps_task(now: datetime) -> list[StepRun]:
    """Every registered dated step, each in its own transaction; one failing step does not
    hold back the others, and the task fails afterwards naming it."""
    settings = get_settings()
    steps = registered_steps()
    channels = load_channels() if steps else None
    done: list[StepRun] = []
    failed: list[str] = [f"{name}: {error}" for name, error in discover_hooks().items()]
    log = _logger()
    for name, step in sorted(steps.items()):
        try:
            done += run_dated_step(
                url=settings.database_url,
                name=name,
                step=step,
                now=now,
                settings=settings,
                channels=channels,
            )
        except Exception as exc:  # noqa: BLE001 - reported below, after the other steps ran
            log.error("dated step %s failed: %s", name, exc)
            failed.append(f"{name}: {exc}")
    if failed:
        raise RuntimeError("dated steps failed: " + "; ".join(failed))
    return done
