"""Runs whose process died, found and brought back (the `recover-runs` sweep and `decide`).

Prefect OSS marks nothing Crashed when a serve or worker process is killed: the run stays
Running (or Pending) for good, or, killed while suspending, it is Suspended before its input
form was stored, so nobody can resume it. What is stranded, by the run's state:

- Running / Pending and silent: no flow-run heartbeat (`prefect.flow-run.heartbeat` events,
  every 30 s in serve/worker processes) nor state change for `recovery_stale_after_seconds`:
  marked Crashed, then put back to Scheduled; the flow replays from the top, decided gates
  return their stored decisions, a pause key that already fired returns its stored answer.
- Crashed (a Runner saw its child die, or an automation marked it): put back to Scheduled.
- Suspended without its input form for `recovery_suspend_grace_seconds`: woken (Scheduled
  without an answer); the gate skips the key that fired empty and suspends again properly.

Every recovery is a `run_recovery` row inserted before the run is touched: the row is the
claim (unique per run and attempt), so two sweeps, or a sweep and `decide`, never replay the
same death twice, and a run's rows bound its replays. After `recovery_max_replays` the run is
marked Crashed for good and `recovery_notify` is told, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed, Scheduled
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts, session_scope
from clubflow.core.settings import Settings, get_settings
from domain.calendar import BUSINESS_TZ
from domain.models import RunRecovery
from tasks.common import run_logger
from tasks.outbox import (
    NotificationRequest,
    queue_checked_notifications,
)

HEARTBEAT = "prefect.flow-run.heartbeat"
HOUSEKEEPING = "housekeeping"
REPLAY_ACTIONS = ("replayed", "woken")
GIVEN_UP = "recover-runs gave up: "


class Stranded(BaseModel):
    """A run whose process died, as the sweep found it."""

    flow_run_id: str
    flow_run_name: str
    deployment: str = ""
    found_state: str  # the state's name: Running, Pending, Crashed, Suspended
    problem: str
    last_seen_at: datetime | None = None
    housekeeping: bool = False  # our own sweeps: closed, never replayed (the next one runs)

    @property
    def wake(self) -> bool:
        return self.found_state == "Suspended"


class Recovery(BaseModel):
    """What was done about one stranded run."""

    flow_run_id: str
    flow_run_name: str
    deployment: str
    found_state: str
    problem: str
    action: str  # replayed / woken / gave_up / closed
    attempt: int
    last_seen_at: datetime | None = None
    recovered_at: datetime
    recovered_by: str


# ---------------------------------------------------------------- diagnosis (reads Prefect)


def last_heartbeat(client: SyncPrefectClient, run: FlowRun, since: datetime) -> datetime | None:
    """When the run's process last sent a heartbeat after `since` (None: not since then)."""
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )

    page = client.read_events(
        filter=EventFilter(
            event=EventNameFilter(name=[HEARTBEAT]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
            # No upper bound (Prefect's default is the server's now): every beat since `since`.
            occurred=EventOccurredFilter(since=since, until=since + timedelta(days=3650)),
        ),
        limit=1,
    )
    return max((e.occurred for e in page.events), default=None)


def _has_input(client: SyncPrefectClient, run_id: UUID, key: str) -> bool:
    try:
        client.read_flow_run_input(run_id, key)
    except Exception:  # noqa: BLE001 - 404 until the run stored it
        return False
    return True


def _clock(value: datetime) -> str:
    return value.astimezone(BUSINESS_TZ).strftime("%H:%M:%S")


def diagnose(
    client: SyncPrefectClient,
    run: FlowRun,
    *,
    now: datetime,
    settings: Settings,
    deployment: str = "",
) -> Stranded | None:
    """Whether `run` is stranded at `now`, and why; None when it is alive, waiting properly,
    finished, or too old to be a live incident."""
    state = run.state
    if state is None or run.deployment_id is None:
        return None
    since = state.timestamp
    if now - since > timedelta(hours=settings.recovery_lookback_hours):
        return None
    found = dict(
        flow_run_id=str(run.id),
        flow_run_name=run.name,
        deployment=deployment,
        found_state=state.name,
        housekeeping=HOUSEKEEPING in (run.tags or []),
    )
    if state.type in (StateType.RUNNING, StateType.PENDING):
        seen = since
        beat = last_heartbeat(client, run, since) if state.type == StateType.RUNNING else None
        if beat is not None and beat > seen:
            seen = beat
        if now - seen <= timedelta(seconds=settings.recovery_stale_after_seconds):
            return None
        what = "no heartbeat" if state.type == StateType.RUNNING else "not started"
        return Stranded(
            **found, problem=f"{what} since {_clock(seen)} ({state.name})", last_seen_at=seen
        )
    if state.type == StateType.CRASHED:
        if (state.message or "").startswith(GIVEN_UP):
            return None  # given up (or closed) before: ops were told
        return Stranded(
            **found,
            problem=f"Crashed at {_clock(since)}: {(state.message or '').strip()[:160]}".rstrip(
                ": "
            ),
            last_seen_at=since,
        )
    if state.type == StateType.PAUSED:
        keyset = state.state_details.run_input_keyset
        if not keyset or not state.state_details.pause_key:
            return None
        if now - since <= timedelta(seconds=settings.recovery_suspend_grace_seconds):
            return None  # it may be storing its form right now
        if _has_input(client, run.id, keyset["schema"]):
            return None
        found["found_state"] = "Suspended"
        return Stranded(
            **found,
            problem=(
                f"suspended at {state.state_details.pause_key} since {_clock(since)} "
                "without its input form (the process died while suspending)"
            ),
            last_seen_at=since,
        )
    return None


STRANDED_TYPES = [StateType.RUNNING, StateType.PENDING, StateType.CRASHED, StateType.PAUSED]


def find_stranded(
    *, client: SyncPrefectClient, now: datetime, settings: Settings
) -> list[Stranded]:
    """Every deployment run stranded at `now`, oldest first."""
    names: dict[UUID, str] = {}
    found: list[Stranded] = []
    offset = 0
    while True:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=STRANDED_TYPES)),
                deployment_id=FlowRunFilterDeploymentId(is_null_=False),
            ),
            limit=200,
            offset=offset,
        )
        for run in runs:
            if run.deployment_id not in names:
                try:
                    names[run.deployment_id] = client.read_deployment(run.deployment_id).name
                except ObjectNotFound:
                    names[run.deployment_id] = ""
            stranded = diagnose(
                client, run, now=now, settings=settings, deployment=names[run.deployment_id]
            )
            if stranded is not None and not _superseded(client, run):
                found.append(stranded)
        if len(runs) < 200:
            break
        offset += 200
    return sorted(found, key=lambda s: s.last_seen_at or now)


def _superseded(client: SyncPrefectClient, run: FlowRun) -> bool:
    """A Crashed run someone already started again (same deployment, same parameters, later):
    the newer run carries the subject; replaying the old one would make two."""
    if run.state is None or run.state.type != StateType.CRASHED:
        return False
    later = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[run.deployment_id]),
        ),
        limit=50,
    )
    return any(
        other.id != run.id and other.created > run.created and other.parameters == run.parameters
        for other in later
        if other.created is not None and run.created is not None
    )


# ---------------------------------------------------------------- claims (the store)


def replays_so_far(*, session: Session, flow_run_id: str) -> int:
    return session.execute(
        select(func.count())
        .select_from(RunRecovery)
        .where(RunRecovery.flow_run_id == flow_run_id, RunRecovery.action.in_(REPLAY_ACTIONS))
    ).scalar_one()


def recoveries_of(*, session: Session, flow_run_id: str) -> list[RunRecovery]:
    return list(
        session.execute(
            select(RunRecovery)
            .where(RunRecovery.flow_run_id == flow_run_id)
            .order_by(RunRecovery.attempt)
        ).scalars()
    )


def claim_recovery(
    *, session: Session, stranded: Stranded, now: datetime, settings: Settings, by: str
) -> Recovery | None:
    """Record what will be done about `stranded` (the claim); None when another sweep or a
    `decide` claimed this very death first, or the run was given up before."""
    done = recoveries_of(session=session, flow_run_id=stranded.flow_run_id)
    if any(r.action in ("gave_up", "closed") for r in done):
        return None
    replays = sum(1 for r in done if r.action in REPLAY_ACTIONS)
    if stranded.housekeeping:
        action, attempt = "closed", 1
    elif replays >= settings.recovery_max_replays:
        action, attempt = "gave_up", replays + 1
    else:
        action, attempt = ("woken" if stranded.wake else "replayed"), replays + 1
    row = {
        "flow_run_id": stranded.flow_run_id,
        "flow_run_name": stranded.flow_run_name,
        "deployment": stranded.deployment,
        "attempt": attempt,
        "found_state": stranded.found_state,
        "problem": stranded.problem,
        "action": action,
        "last_seen_at": stranded.last_seen_at,
        "recovered_at": now,
        "recovered_by": by,
    }
    if not insert_ignoring_conflicts(session, RunRecovery, [row], on=["flow_run_id", "attempt"]):
        return None
    if action == "gave_up":
        queue_checked_notifications(
            session=session,
            requests=[gave_up_notice(stranded, replays=replays, settings=settings)],
            now=now,
            settings=settings,
        )
    return Recovery(**row)


def gave_up_notice(stranded: Stranded, *, replays: int, settings: Settings) -> NotificationRequest:
    return NotificationRequest(
        recipient=settings.recovery_notify,
        template="run_recovery_gave_up",
        context={
            "run": stranded.flow_run_name,
            "run_id": stranded.flow_run_id,
            "deployment": stranded.deployment,
            "problem": stranded.problem,
            "replays": replays,
        },
        idem_key=f"run-recovery:{stranded.flow_run_id}:gave-up",
        urgent=True,
    )


# ---------------------------------------------------------------- acting (writes Prefect)


def apply_recovery(client: SyncPrefectClient, recovery: Recovery) -> None:
    """Put the run where the claim says: Scheduled (replay or wake) or Crashed for good."""
    run_id = UUID(recovery.flow_run_id)
    why = f"recover-runs: {recovery.problem}"
    if recovery.action == "replayed":
        if recovery.found_state != "Crashed":
            # What Prefect's zombie automation would have done, so the history shows it.
            client.set_flow_run_state(run_id, Crashed(message=why), force=True)
        client.set_flow_run_state(
            run_id,
            Scheduled(name="Recovering", message=f"replay {recovery.attempt}: {why}"),
            force=True,
        )
    elif recovery.action == "woken":
        client.set_flow_run_state(
            run_id,
            Scheduled(name="Resuming", message=f"woken to suspend again: {why}"),
            force=True,
        )
    else:  # gave_up / closed: Crashed for good, marked so the next sweep leaves it alone
        client.set_flow_run_state(
            run_id,
            Crashed(message=f"{GIVEN_UP}{recovery.problem}; not replayed ({recovery.action})"),
            force=True,
        )


def recover(
    client: SyncPrefectClient,
    stranded: Stranded,
    *,
    now: datetime,
    settings: Settings,
    by: str,
) -> Recovery | None:
    """Claim, then act: one stranded run brought back (or given up); None if claimed before."""
    with session_scope(settings.database_url) as session:
        recovery = claim_recovery(
            session=session, stranded=stranded, now=now, settings=settings, by=by
        )
    if recovery is None:
        return None
    apply_recovery(client, recovery)
    run_logger("recovery").warning(
        "run %s (%s): %s -> %s (attempt %s)",
        stranded.flow_run_name,
        stranded.deployment,
        stranded.problem,
        recovery.action,
        recovery.attempt,
    )
    return recovery


def recover_run(
    flow_run_id: str, *, now: datetime, by: str, settings: Settings | None = None
) -> tuple[Stranded | None, Any]:
    """Diagnose one run now and bring it back if it is stranded (what `decide` uses).
    Returns (what was wrong or None, the Recovery done or None)."""
    settings = settings or get_settings()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
        name = ""
        if run.deployment_id is not None:
            try:
                name = client.read_deployment(run.deployment_id).name
            except ObjectNotFound:
                name = ""
        stranded = diagnose(client, run, now=now, settings=settings, deployment=name)
        if stranded is None:
            return None, None
        return stranded, recover(client, stranded, now=now, settings=settings, by=by)


# ---------------------------------------------------------------- tasks


@task(name="find-stranded-runs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def find_stranded_runs_task(
    now: datetime, deployments: list[str] | None = None, settings: Settings | None = None
) -> list[Stranded]:
    """Runs whose process died: silent Running/Pending, Crashed, Suspended without a form."""
    with get_client(sync_client=True) as client:
        found = find_stranded(client=client, now=now, settings=settings or get_settings())
    return [s for s in found if deployments is None or s.deployment in deployments]


@task(name="recover-stranded-runs", cache_policy=NO_CACHE)
def recover_stranded_runs_task(
    stranded: list[Stranded], now: datetime, settings: Settings | None = None
) -> list[Recovery]:
    """Replay, wake or give up each one, recorded first; one failure does not stop the rest."""
    settings = settings or get_settings()
    done, failed = [], []
    with get_client(sync_client=True) as client:
        for item in stranded:
            try:
                recovery = recover(client, item, now=now, settings=settings, by="recover-runs")
            except Exception as exc:  # noqa: BLE001 - reported below, after the others
                run_logger("recovery").error("cannot recover run %s: %s", item.flow_run_name, exc)
                failed.append(f"{item.flow_run_name}: {exc}")
                continue
            if recovery is not None:
                done.append(recovery)
    if failed:
        raise RuntimeError("runs not recovered: " + "; ".join(failed))
    return done


@task(name="publish-recovery-actions", cache_policy=NO_CACHE)
def publish_recovery_actions_task(done: list[Recovery], now: datetime) -> None:
    """The table artifact `recover-runs-last-actions`: what this sweep did."""
    create_table_artifact(
        key="recover-runs-last-actions",
        table=[
            {
                "run": r.flow_run_name,
                "deployment": r.deployment,
                "found": r.found_state,
                "problem": r.problem,
                "action": r.action,
                "attempt": r.attempt,
            }
            for r in done
        ],
        description=f"What recover-runs did at {now.isoformat(timespec='seconds')}",
    )
