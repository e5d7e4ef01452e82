"""Dated steps: what the hourly sweep does when a date comes (campaign training at L-2
working days, launch notice at L, activity warm-ups...). Areas register theirs with
`@dated_step` in `tasks/<area>/hooks.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings, get_settings
from domain import calendar
from tasks.common import run_logger
from tasks.gates.discovery import discover_hooks
from tasks.outbox import NotificationRequest, load_channels, queue_notifications


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


def registered_steps() -> dict[str, DatedStep]:
    discover_hooks()
    return dict(_DATED_STEPS)


def run_dated_step(
    *, session: Session, step: DatedStep, now: datetime, settings: Settings, channels=None
) -> list[StepRun]:
    """One step in the session's transaction: its marks and its notifications commit together."""
    runs = step(session=session, now=now, today=calendar.business_date(now), settings=settings)
    requests = [r for run in runs for r in run.notifications]
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    return runs


# Not a data_task: each step gets its own transaction, so one failing step keeps the others.
@task(name="run-dated-steps", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def run_dated_steps_task(now: datetime, settings: Settings | None = None) -> list[StepRun]:
    """Every registered dated step, each in its own transaction; one failing step does not
    hold back the others, and the task fails afterwards naming it."""
    settings = settings or get_settings()
    steps = registered_steps()
    channels = load_channels() if steps else None
    done: list[StepRun] = []
    failed: list[str] = [f"{name}: {error}" for name, error in discover_hooks().items()]
    log = run_logger("gates")
    for name, step in sorted(steps.items()):
        try:
            with session_scope(settings.database_url) as session:
                done += run_dated_step(
                    session=session, step=step, now=now, settings=settings, channels=channels
                )
        except Exception as exc:  # noqa: BLE001 - reported below, after the other steps ran
            log.error("dated step %s failed: %s", name, exc)
            failed.append(f"{name}: {exc}")
    if failed:
        raise RuntimeError("dated steps failed: " + "; ".join(failed))
    return done
