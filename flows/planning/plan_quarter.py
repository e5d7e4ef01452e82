"""Plan a quarter one month ahead: the crossing host by the fair rotation, the
national gathering when it falls in the quarter, three monthly slots per club; store it,
publish it (artifacts, ICS calendar) and ask every club admin for their monthly plans."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from clubflow.core.settings import get_settings
from domain.rotation import Override, Quarter
from flows.naming import clock, parameter
from tasks.common import run_logger
from tasks.outbox import queue_notifications_task
from tasks.planning.notify import compose_plan_messages_task
from tasks.planning.plans import (
    build_quarter_plan_task,
    choose_crossing_host_task,
    next_quarter,
    publish_plan_artifacts_task,
    store_quarter_plan_task,
    write_plan_calendar_task,
)


@flow(
    name="plan-quarter",
    # A scheduled run has no quarter parameter: it is named after the quarter it will plan.
    flow_run_name=lambda: (
        f"planning {parameter('quarter') or next_quarter(clock(parameter('now')))}"
    ),
    description="Plan the next quarter: crossing host, gathering, club slots; ask for plans.",
    log_prints=False,
)
def plan_quarter(
    quarter: str | None = None,
    override_host: str | None = None,
    override_reason: str | None = None,
    requested_by: str = "scheduler",
    now: datetime | None = None,
    ics_dir: str | None = None,
) -> dict:
    """Plan one quarter; running it again for the same quarter changes nothing.

    Args:
        quarter: e.g. 2027Q2; empty: the quarter after the current one.
        override_host: region code that hosts the crossing instead of the rotation's choice.
        override_reason: why (required with an override; kept in the rotation history).
        requested_by: username of whoever started the run by hand.
        now: the time the run acts at (tests and replays); empty: now.
        ics_dir: where the ICS calendar goes; empty: the plans_dir setting.
    """
    settings = get_settings()
    now = clock(now)
    target = Quarter.parse(quarter) if quarter else next_quarter(now)
    override = None
    if override_host:
        override = Override(region=override_host, reason=override_reason or "")

    choice = choose_crossing_host_task(
        quarter=target, override=override, decided_by=requested_by, now=now, settings=settings
    )
    plan = build_quarter_plan_task(quarter=target, hosting=choice.hosting, settings=settings)
    # quote(): the plan holds a slot per club and month; Prefect need not walk it looking
    # for futures (that walk alone costs seconds at 3,500 clubs).
    stored = store_quarter_plan_task(
        plan=quote(plan),
        planned_by=requested_by,
        now=now,
        flow_run_id=flow_run.id,
        settings=settings,
    )
    # The first run's time stamps the calendar: a re-run writes the same bytes.
    ics_path = write_plan_calendar_task(
        plan=quote(plan), stamp=stored.planned_at, directory=ics_dir, settings=settings
    )
    publish_plan_artifacts_task(quote(plan), choice.why, ics_path)
    messages = compose_plan_messages_task(plan=quote(plan), now=now, settings=settings)
    queued = queue_notifications_task(quote(messages.requests), now, settings=settings)
    if messages.clubs_without_recipient:
        run_logger("planning").warning(
            "clubs without an admin or dealer to ask for plans: %s",
            ", ".join(messages.clubs_without_recipient),
        )
    c = plan.crossing
    return {
        "quarter": str(target),
        "host": c.region,
        "month": c.month,
        "theme": c.theme,
        "gathering": plan.gathering.starts_on.isoformat() if plan.gathering else None,
        "slots": len(plan.slots),
        "slots_added": stored.slots_added,
        "ics": ics_path,
        "notifications_queued": queued.queued,
    }
