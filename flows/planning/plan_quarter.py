"""Plan a quarter one month ahead: the crossing host by the fair rotation, the
national gathering when it falls in the quarter, three monthly slots per club; store the
draft, wait for HQ to confirm it (host and dates may change, with a reason), then publish it
(artifacts, ICS calendar) and ask every club admin for their monthly plans and invite the
other regions to the crossing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote
from pydantic import Field

from clubflow.core.settings import get_settings
from domain.quarter import QuarterChanges, confirmation_problem
from domain.rotation import Override, Quarter
from flows.gates import GateInput, wait_for_decision
from flows.naming import clock, parameter
from tasks.common import run_logger
from tasks.outbox import queue_notifications_task
from tasks.planning.confirm import (
    confirm_description,
    confirm_gate_spec,
    confirm_quarter_plan_task,
    confirm_requests,
    load_confirmed_plan_task,
    read_confirmation_task,
)
from tasks.planning.notify import compose_plan_messages_task
from tasks.planning.plans import (
    build_quarter_plan_task,
    choose_crossing_host_task,
    next_quarter,
    publish_plan_artifacts_task,
    store_quarter_plan_task,
    write_plan_calendar_task,
)


class QuarterConfirmInput(GateInput):
    """HQ's confirmation of the draft; a changed host or changed dates need the comment."""

    outcome: Literal["approve"] = Field("approve", description="approve: confirm the plan")
    host_region: str = Field("", description="Another host region (e.g. chengdu); empty: keep")
    crossing_starts_on: date | None = Field(None, description="Move the crossing: first day")
    crossing_ends_on: date | None = Field(None, description="Move the crossing: last day")


def _changes_of(answer: QuarterConfirmInput) -> QuarterChanges:
    return QuarterChanges(
        host_region=answer.host_region,
        crossing_starts_on=answer.crossing_starts_on,
        crossing_ends_on=answer.crossing_ends_on,
        reason=answer.comment,
    )


@flow(
    name="plan-quarter",
    # 2: the draft waits at HQ's confirmation gate before anything is published.
    version="2",
    # A scheduled run has no quarter parameter: it is named after the quarter it will plan.
    flow_run_name=lambda: (
        f"planning {parameter('quarter') or next_quarter(clock(parameter('now')))}"
    ),
    description=(
        "Plan the next quarter: crossing host, gathering, club slots; HQ confirms the draft; "
        "then publish and ask for plans."
    ),
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
    spec = confirm_gate_spec(
        plan=plan, plan_id=stored.plan_id, drafted_at=stored.planned_at, settings=settings
    )
    draft = confirm_description(plan, choice.why)
    confirmation = wait_for_decision(
        spec,
        description=draft,
        input_model=QuarterConfirmInput,
        run_label=f"planning {target}",
        on_open=confirm_requests(plan=plan, due_on=spec.due_on, settings=settings, now=now),
        check=lambda answer: confirmation_problem(
            _changes_of(answer),
            quarter=target,
            host=plan.crossing.region,
            starts_on=plan.crossing.starts_on,
            ends_on=plan.crossing.ends_on,
        ),
        now=now,
    )
    if confirmation.void:
        raise RuntimeError(f"{target}: the confirmation gate was voided; start the flow again")
    decision = confirmation.decision
    confirm_quarter_plan_task(
        quarter=target,
        gate_id=confirmation.gate.id,
        decider=decision.decider,
        changes=QuarterChanges.model_validate({**decision.payload, "reason": decision.comment}),
        now=now,
        settings=settings,
    )
    plan = load_confirmed_plan_task(quarter=target, settings=settings)
    confirmed = read_confirmation_task(quarter=target)
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
        "confirmed_by": confirmed["confirmed_by"],
        "changes": confirmed["changes"],
        "reason": confirmed["reason"],
    }
