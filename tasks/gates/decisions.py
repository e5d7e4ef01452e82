"""Deciding a gate from Python (and so from `clubflow decide`), and what waits on whom.

`decide(...)` finds the open gate in the store, refuses and records a decider who may not
decide it (the run stays suspended), and otherwise resumes the waiting run with the typed
input, the same input the Prefect UI's Resume form sends, with a decision code minted for
the decider on the spot (whoever can call this reaches the store, which is the proof the UI
lacks). The flow checks the decider and the code again and records the decision
(flows/gates.py). Not tasks: the CLI and other flows' tasks call
them, and they read the settings themselves as the edge they are.

Deciding imports no Prefect (its import costs seconds): the run is resumed over the API's
HTTP (tasks/gates/run_api.py); only a run that died, and waking a run, load Prefect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import BUSINESS_TZ
from domain.gates import GateView, InboxItem, OutcomeError, normalise_outcome
from domain.models import GateStatus
from tasks.gates.codes import issue_code
from tasks.gates.inbox import waiting_on
from tasks.gates.run_api import RunView, run_api
from tasks.gates.store import check_decider, find_open_gate, read_gate, record_decision


class DecisionRefused(PermissionError):
    """The decider may not decide this gate; the refusal was recorded and the gate waits."""


class GateRunError(RuntimeError):
    """The run waiting at the gate cannot be resumed (gone, or not waiting there)."""


@dataclass
class Decided:
    gate: GateView
    flow_run_id: str
    run_input: dict[str, Any]


def decide(
    subject: str,
    gate_key: str,
    *,
    decider: str,
    outcome: str,
    comment: str = "",
    extra: dict[str, Any] | None = None,
    now: datetime,
    wait_seconds: float = 60.0,
) -> Decided:
    """Give a decision at gate `gate_key` of `subject` (`campaign:CODE` or `CODE`), as of
    `now` (a refusal is recorded at that time; the caller's edge reads the clock, if any).

    Raises DecisionRefused (after recording the refusal) when `decider` may not decide it,
    LookupError when no such gate waits, OutcomeError for an outcome the gate does not take.
    """
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        gate = find_open_gate(session=session, subject=subject, key=gate_key)
        normalised = normalise_outcome(gate.kind, outcome)
        if normalised in ("revise", "reject", "not_feasible") and not comment.strip():
            raise OutcomeError(f"{normalised} needs a comment saying why (--comment)")
        reason = check_decider(session=session, gate=gate, username=decider)
        if reason is not None:
            record_decision(
                session=session,
                gate_id=gate.id,
                decider=decider,
                outcome=normalised,
                comment=comment,
                now=now,
                settings=settings,
            )
        elif gate.flow_run_id:
            _, code = issue_code(
                session=session, gate_id=gate.id, username=decider, now=now, settings=settings
            )
    if reason is not None:
        raise DecisionRefused(f"{subject} {gate_key}: refused: {reason}")
    if not gate.flow_run_id:
        raise GateRunError(f"{subject} {gate_key}: no run waits at this gate")
    run_input = {"decider": decider, "outcome": normalised, "comment": comment, **(extra or {})}
    # The code goes to the run only: what the caller gets back carries none.
    resume_at_gate(gate, {**run_input, "code": code}, wait_seconds=wait_seconds, decider=decider)
    return Decided(gate=gate, flow_run_id=gate.flow_run_id, run_input=run_input)


def resume_at_gate(
    gate: GateView, run_input: dict[str, Any], *, wait_seconds: float, decider: str = ""
) -> None:
    """Resume the run suspended at `gate` with `run_input`.

    The run stores its input schema just after it suspends, and resume is refused ("Run input
    schema not found") until then, so wait for the run to be suspended at this very gate.
    A run whose process died (silent while Running, Crashed, or Suspended without its form)
    is put back to replay at once, recorded as the recover-runs sweep would, and the wait goes
    on: the replayed run suspends here again and is resumed with this answer.
    """
    run_id = str(UUID(gate.flow_run_id))
    deadline = time.monotonic() + wait_seconds
    last = "not suspended yet"
    next_check = time.monotonic()
    found: tuple[Any, Any] | None = None  # (what was wrong, what was done) once diagnosed
    with run_api() as api:
        while True:
            run = api.read_run(run_id)
            if run is None:
                raise GateRunError(f"gate #{gate.id}: run {run_id} does not exist")
            if run.is_final and (run.state_type != "CRASHED" or found is not None):
                if found is not None and found[0] is not None:
                    raise GateRunError(_explain(gate, run, found, last))
                raise GateRunError(
                    f"gate #{gate.id}: run {run.name!r} is {run.state_name}; start the flow again"
                )
            if run.state_type == "PAUSED" and run.pause_key.startswith(f"gate-{gate.id}-"):
                if run.form_key:
                    response = api.resume(run_id, run_input)
                    if response.status == "ACCEPT":
                        return
                    # Refused, changing nothing, until the run has stored its form: wait on.
                    if "schema not found" not in response.reason.lower():
                        refused = response.reason or response.status
                        raise GateRunError(f"gate #{gate.id}: resume refused: {refused}")
            elif run.state_type is not None:
                last = f"run is {run.state_name}"
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + 1.0
                if found is None or found[0] is None:
                    found = _recover_if_dead(run, decider)
                if found[0] is not None:
                    _stop_if_decided(gate)
            if time.monotonic() > deadline:
                raise GateRunError(_explain(gate, run, found, last))
            time.sleep(0.25)


def _recover_if_dead(run: RunView, decider: str) -> tuple[Any, Any]:
    """Put a run whose process died back to replay (once; recorded like the sweep's)."""
    # Judged against the run's real heartbeats, so the real clock, not a business `now`.
    now = datetime.now(UTC)
    if not _may_be_dead(run, now):
        return None, None
    from tasks.recovery import recover_run

    return recover_run(run.id, now=now, by=f"decide:{decider or '?'}")


def _may_be_dead(run: RunView, now: datetime) -> bool:
    """Whether the recovery's diagnosis (tasks/recovery.py `diagnose`) could find the run
    dead: one that entered Running, Pending or Suspended less than the silence it is allowed
    ago is alive, so a decision given as its run is about to suspend loads no Prefect."""
    settings = get_settings()
    allowed = {
        "RUNNING": settings.recovery_stale_after_seconds,
        "PENDING": settings.recovery_stale_after_seconds,
        "PAUSED": settings.recovery_suspend_grace_seconds,
    }.get(run.state_type or "")
    if allowed is None:
        return run.state_type == "CRASHED"
    return run.state_at is None or now - run.state_at > timedelta(seconds=allowed)


def _stop_if_decided(gate: GateView) -> None:
    """The replayed run applied the answer it had before its process died: nothing to resume."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        current = read_gate(session=session, gate_id=gate.id)
    if current.status != GateStatus.open:
        raise GateRunError(
            f"gate #{gate.id} ({gate.key} round {gate.round}) is {current.status}"
            + (f" ({current.outcome})" if current.outcome else "")
            + ": the run had an answer before its process died, and its replay recorded it"
        )


def _explain(gate: GateView, run: RunView, found: tuple[Any, Any] | None, last: str) -> str:
    """What happened to the run waiting at `gate`, and what happens next."""
    settings = get_settings()
    stranded, recovery = found or (None, None)
    every = settings.recovery_every_minutes
    head = f"gate #{gate.id}: run {run.name!r}"
    if stranded is None:
        hint = ""
        if run.state_type in ("RUNNING", "PENDING"):
            hint = (
                f"; if its process died, recover-runs replays it once it has been silent "
                f"{settings.recovery_stale_after_seconds} s (it runs every {every} min); "
                "decide again then"
            )
        return f"{head} is not waiting here: {last}{hint}"
    died = f"{head} died ({stranded.problem})"
    if recovery is None:
        return f"{died}; recover-runs is replaying it; decide again in {every} min"
    if recovery.action == "gave_up":
        return (
            f"{died}; it was replayed {recovery.attempt - 1} times and died again, so it is "
            f"marked Crashed and {settings.recovery_notify} was told: start the flow again"
        )
    when = recovery.recovered_at.astimezone(BUSINESS_TZ).strftime("%H:%M")
    return (
        f"{died}; it was put back to replay at {when} (attempt {recovery.attempt} of "
        f"{settings.recovery_max_replays}) and has not suspended here again yet: the serve "
        f"process picks it up within a minute; decide again then"
    )


def wake_run(flow_run_id: str | None) -> bool:
    """Start a suspended run again from the top without an answer (its subject changed, e.g.
    the plan after sign-off or the launch date): the flow re-reads the store and opens what is
    due now. A run that is not suspended is left alone. Returns whether it was woken."""
    if not flow_run_id:
        return False
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return False
        if run.state is None or run.state.type != StateType.PAUSED:
            return False
        client.set_flow_run_state(run.id, Scheduled(name="Resuming"), force=True)
    return True


def inbox(username: str, *, today: date) -> list[InboxItem]:
    """Everything waiting on `username` (gates to decide and what other areas register),
    overdue first; `today` (a business date) judges what is overdue."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        return waiting_on(session=session, username=username, today=today)


__all__ = [
    "Decided",
    "DecisionRefused",
    "GateRunError",
    "decide",
    "inbox",
    "resume_at_gate",
    "wake_run",
]
