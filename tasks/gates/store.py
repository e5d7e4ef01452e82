"""Gates in the store: open one (checking a replay under changed code), read it, record a
decision or a refusal, overrule an accepted answer, void gates and stale sign-offs.

Data functions take the session; the ones flows call become tasks in
tasks/gates/store_tasks.py, apart so that `clubflow decide` and the portal read and decide
gates without importing Prefect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.gates import (
    Decider,
    DecisionResult,
    GateReached,
    GateSpec,
    GateView,
    OutcomeError,
    RecordedGate,
    RefusedAnswer,
    RunReplay,
    check_gate_move,
    normalise_outcome,
    refusal_reason,
    replay_conflict,
)
from domain.models import Decision, Gate, GateStatus, Person
from tasks.common import run_logger
from tasks.gates.codes import check_decision_code, use_code
from tasks.gates.signing import sign

# ---------------------------------------------------------------- opening and reading


def open_gate(
    *,
    session: Session,
    spec: GateSpec,
    now: datetime,
    flow_run_id: str | None = None,
    process_version: str | None = None,
) -> GateView:
    """The gate row of `spec`, created once; the waiting run's id is kept up to date so
    `clubflow decide` knows which run to resume. `process_version` (`<flow>@<version>`) is the
    code that opened it, or that took it over."""
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
                "process_version": process_version,
            }
        ],
        on=["subject_type", "subject_id", "key", "round"],
    )
    gate = _gate_of(session, spec)
    assert gate is not None
    if gate.status == GateStatus.open and flow_run_id and gate.flow_run_id != flow_run_id:
        gate.flow_run_id = flow_run_id  # a re-run took over the wait, with its own code
        gate.process_version = process_version or gate.process_version
    session.flush()
    return GateView.of(gate)


def _gate_of(session: Session, spec: GateSpec) -> Gate | None:
    return session.execute(
        select(Gate).where(
            Gate.subject_type == spec.subject_type,
            Gate.subject_id == spec.subject_id,
            Gate.key == spec.key,
            Gate.round == spec.round,
        )
    ).scalar_one_or_none()


def run_gates(*, session: Session, flow_run_id: str) -> list[RecordedGate]:
    """The gates a run opened (or took over), in the order it did."""
    rows = session.execute(
        select(Gate).where(Gate.flow_run_id == flow_run_id).order_by(Gate.id)
    ).scalars()
    return [
        RecordedGate(id=g.id, label=GateView.of(g).label, process_version=g.process_version)
        for g in rows
    ]


def reach_gate(
    *,
    session: Session,
    spec: GateSpec,
    now: datetime,
    flow_run_id: str | None = None,
    process_version: str | None = None,
    met: list[int] | None = None,
) -> GateReached:
    """What a flow finds at the gate of `spec`: opened once, its accepted decision if decided.

    A run replaying under another code version than the one that opened its gates must meet
    them in the order it opened them (`met`: this run's gates met so far in this replay); a
    gate the new code asks for out of that order is refused as `conflict` and not opened."""
    if flow_run_id and process_version:
        existing = _gate_of(session, spec)
        theirs = (
            existing is not None
            and existing.flow_run_id != flow_run_id
            and existing.status != GateStatus.open
        )
        if not theirs:  # another run's closed gate is not on this run's path
            conflict = replay_conflict(
                recorded=run_gates(session=session, flow_run_id=flow_run_id),
                met=list(met or []),
                asked=spec.label,
                asked_id=existing.id if existing is not None else None,
                version=process_version,
            )
            if conflict:
                run_logger("gates").error("gate %s refused: %s", spec.label, conflict)
                return GateReached(conflict=conflict)
    gate = open_gate(
        session=session,
        spec=spec,
        now=now,
        flow_run_id=flow_run_id,
        process_version=process_version,
    )
    decided = (
        accepted_decision(session=session, gate_id=gate.id)
        if gate.status == GateStatus.decided
        else None
    )
    run_logger("gates").info("gate %s is %s (due %s)", spec.label, gate.status, gate.due_on)
    return GateReached(gate=gate, decision=decided)


def run_replay(*, session: Session, flow_run_id: str) -> RunReplay:
    """What a replay of this run will meet first: the gates it opened, in order, and the
    decided ones with their accepted decisions. Read once per execution, so replaying N
    decided gates costs one read, not N task runs (docs/scale.md)."""
    gates = (
        session.execute(select(Gate).where(Gate.flow_run_id == flow_run_id).order_by(Gate.id))
        .scalars()
        .all()
    )
    recorded = [
        RecordedGate(id=g.id, label=GateView.of(g).label, process_version=g.process_version)
        for g in gates
    ]
    decided = {}
    for gate in gates:
        if gate.status == GateStatus.decided:
            decision = accepted_decision(session=session, gate_id=gate.id)
            if decision is not None:
                decided[GateView.of(gate).label] = GateReached(
                    gate=GateView.of(gate), decision=decision
                )
    return RunReplay(recorded=recorded, decided=decided)


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
    code: str | None = None,
) -> DecisionResult:
    """Record one decision at a gate: accepted (the gate is decided) or refused with the reason
    (the gate stays open). The same `input_key` twice writes nothing the second time.

    `problem` is what the flow's own check found wrong with the answer (e.g. a KPI the plan
    does not have); the decider may decide, but this answer is refused with that reason.
    `code` is the decision code the answer carried (a flow always passes it; None: not an
    answer to a run, e.g. a refusal `decide` records): it must be a live code issued to the
    decider at this gate, and an accepted decision uses it up."""
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
    code_id = None
    if reason is None and outcome in ("revise", "reject", "not_feasible") and not comment.strip():
        reason = f"a {outcome} decision needs a comment saying why"
    if reason is None and problem:
        reason = problem
    # Last: a code is asked for (and sent) only for an answer that would otherwise count.
    if reason is None and code is not None:
        checked = check_decision_code(
            session=session,
            gate_id=gate.id,
            username=decider,
            code=code,
            now=now,
            settings=settings,
        )
        reason, code_id = checked.reason, checked.code_id
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
        elif code_id is not None:
            use_code(session=session, code_id=code_id, now=now)
    session.flush()
    session.refresh(gate)
    result = _result(row, gate)
    if result.accepted:
        run_logger("gates").info("gate #%s: %s by %s", gate_id, result.outcome, decider)
    else:
        run_logger("gates").warning(
            "gate #%s: refused %s by %s: %s", gate_id, outcome, decider, result.reason
        )
    return result


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
        gate.status = check_gate_move(gate.status, GateStatus.void)
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


def keep_gate_artifact(*, session: Session, gate_id: int, artifact_id: str) -> None:
    """Remember the Prefect artifact that shows the gate, so later steps update that one."""
    session.execute(update(Gate).where(Gate.id == gate_id).values(artifact_id=artifact_id))


def refused_answers(*, session: Session, gate_id: int, limit: int = 3) -> list[RefusedAnswer]:
    """The gate's latest refused answers, newest first: the form shows them next time."""
    rows = session.execute(
        select(Decision)
        .where(Decision.gate_id == gate_id, Decision.accepted.is_(False))
        .order_by(Decision.id.desc())
        .limit(limit)
    ).scalars()
    return [
        RefusedAnswer(decider=r.decider, at=r.decided_at, reason=r.refusal_reason or "")
        for r in rows
    ]
