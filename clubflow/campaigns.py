"""What people do to a campaign from outside its run (the CLI calls these; so can Python):
start it, move L, change the plan after sign-off, hand in the revised plan or the KPI figures.

These are the app's edge: each reads the settings and opens its own transactions around the
data functions of tasks/campaigns/, then wakes the waiting run when it has to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clubflow.core import documents
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.campaigns import (
    CampaignPlan,
    CampaignStatus,
    PlanError,
    plan_change_problems,
    unknown_kpis,
)
from domain.tabular import TableError, read_table
from tasks.audit import Refused
from tasks.campaigns import messages
from tasks.campaigns.live import (
    SnapshotImport,
    parse_snapshot_csv,
    record_attendance,
    store_snapshots,
)
from tasks.campaigns.store import (
    CampaignView,
    amend_plan,
    check_campaign_actor,
    check_new_plan,
    dealers_of,
    load_campaign,
    reschedule,
)
from tasks.gates.decisions import Decided, decide, wake_run
from tasks.outbox import load_channels, queue_notifications

PIPELINE = "campaign-pipeline/campaign-pipeline"

__all__ = ["Refused"]


def authorize_campaign(
    action: str, subject: str, username: str, *, now: datetime | None = None
) -> None:
    """Refuse (and record) an actor whose role may not do `action` to a campaign."""
    with session_scope(get_settings().database_url) as session:
        refused = check_campaign_actor(
            session=session,
            action=action,
            code=subject,
            username=username,
            now=now or datetime.now(UTC),
        )
    if refused:
        raise Refused(refused)


def read_document(path: Path) -> dict[str, Any]:
    """A JSON or YAML file as a mapping; the error names the file, the line and the field
    (an impossible date such as 2026-13-40 included)."""
    return documents.read_document(path)


def start_campaign(plan: CampaignPlan, *, now: datetime | None = None):
    """Check the plan against today's date and the store, then start a pipeline run (the
    run validates again before it stores anything)."""
    from prefect.deployments import run_deployment

    settings = get_settings()
    moment = now or datetime.now(UTC)
    authorize_campaign("campaign.start", plan.code, plan.started_by, now=moment)
    with session_scope(settings.database_url) as session:
        check_new_plan(session=session, plan=plan, now=moment, settings=settings)
    parameters: dict[str, Any] = {"plan": plan.model_dump(mode="json")}
    if now is not None:
        # The run acts at the same time as this check; without one it reads the clock.
        parameters["now"] = now.isoformat()
    return run_deployment(
        PIPELINE,
        parameters=parameters,
        timeout=0,
        tags=["campaign", *(f"region:{code}" for code in plan.regions)],
    )


def reschedule_campaign(
    code: str,
    new_launch: date,
    *,
    by: str,
    now: datetime | None = None,
    rush_reason: str | None = None,
) -> CampaignView:
    """Move L (the campaign manager's call): milestones and waiting gates follow, everyone
    affected is told, and the waiting run is woken to show the new timeline."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    _exists(code)
    authorize_campaign("campaign.reschedule", code, by, now=now)
    channels = load_channels()
    with session_scope(settings.database_url) as session:
        before, after = reschedule(
            session=session,
            code=code,
            new_launch=new_launch,
            now=now,
            settings=settings,
            rush_reason=rush_reason,
        )
        if after.launch_date != before.launch_date:
            told = (
                dealers_of(session=session, regions=after.regions)
                if after.status in (CampaignStatus.ready, CampaignStatus.live)
                else []
            )
            queue_notifications(
                session=session,
                requests=messages.rescheduled(after, before=before, dealers=told),
                now=now,
                settings=settings,
                channels=channels,
            )
    if after.launch_date != before.launch_date:
        # The waiting run replays: its timeline artifact and gate show the new dates.
        wake_run(after.flow_run_id)
    return after


def amend_campaign(
    code: str, changes: dict[str, Any], *, by: str, now: datetime | None = None
) -> tuple[CampaignView, int]:
    """Change plan, budget or KPIs outside the review loop. A sign-off of the old plan is
    void: the waiting run is woken and asks for sign-off again. Returns (campaign, voided).
    Only the agency and the campaign manager change a plan."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    _exists(code)
    authorize_campaign("campaign.amend", code, by, now=now)
    with session_scope(settings.database_url) as session:
        view, voided = amend_plan(
            session=session,
            code=code,
            by=by,
            now=now,
            note=str(changes.get("note", "")),
            summary=changes.get("summary"),
            policy=changes.get("policy"),
            budget=changes.get("budget"),
            kpis=changes.get("kpis"),
        )
    if voided:
        wake_run(view.flow_run_id)
    return view, len(voided)


def _exists(code: str) -> None:
    """An unknown code is a LookupError before any role check (nothing to refuse)."""
    _current(code)


def _current(code: str) -> CampaignView:
    with session_scope(get_settings().database_url) as session:
        return load_campaign(session=session, code=code)


def revise_plan(code: str, revision: dict[str, Any], *, by: str, **kwargs) -> Decided:
    """The agency hands in the revised plan at the waiting `plan_revision` gate (checked
    here first, naming the field, so a bad revision never reaches the run)."""
    fields = {
        k: revision[k] for k in ("summary", "policy", "budget", "kpis", "note") if k in revision
    }
    fields.setdefault("summary", _current(code).summary)
    problems = plan_change_problems(fields.get("budget") or [], fields.get("kpis") or [])
    if problems:
        raise PlanError(problems)
    return decide(
        f"campaign:{code}",
        "plan_revision",
        decider=by,
        outcome="submit",
        comment=str(revision.get("comment", "")),
        extra=fields,
        **kwargs,
    )


KPI_COLUMNS = {"kpi": ("kpi", "指标", "KPI"), "actual": ("actual", "实际", "实际值")}


def parse_kpi_csv(data: bytes | str) -> tuple[list[dict[str, Any]], float | None]:
    """`kpi,actual` rows (a `spend_total` row gives the spend); errors name the line. Read by
    the one tabular reader: UTF-8 or GBK, zh or en headers."""
    try:
        table = read_table(data, KPI_COLUMNS, ("kpi", "actual"))
    except TableError as exc:
        raise ValueError(f"KPI CSV needs the columns kpi,actual: {exc}") from None
    actuals, spend = [], None
    for line, row in table.records:
        name = row.get("kpi", "").strip()
        raw = row.get("actual", "")
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            raise ValueError(f"line {line}: actual {raw!r} is not a number") from None
        if name == "spend_total":
            spend = value
        elif name:
            actuals.append({"name": name, "actual": value})
        else:
            raise ValueError(f"line {line}: kpi is empty")
    return actuals, spend


def submit_kpis(
    code: str,
    actuals: list[dict[str, Any]],
    *,
    by: str,
    spend_total: float,
    competitors: str = "",
    next_steps: str = "",
    **kwargs,
) -> Decided:
    """Hand in the actual KPI figures at the waiting `kpi_actuals` gate; every figure must
    name a KPI of the plan."""
    kpis = _current(code).kpis
    unknown = unknown_kpis(kpis, [a["name"] for a in actuals])
    if unknown:
        planned = sorted({k["name"] for k in kpis})
        raise ValueError(f"{code}: {', '.join(unknown)} not among the plan's KPIs {planned}")
    return decide(
        f"campaign:{code}",
        "kpi_actuals",
        decider=by,
        outcome="submit",
        extra={
            "actuals": actuals,
            "spend_total": spend_total,
            "competitors": competitors,
            "next_steps": next_steps,
        },
        **kwargs,
    )


def submit_slots(code: str, slots: list[dict[str, Any]], *, by: str, **kwargs) -> Decided:
    """The agency records the platform slots it applied for, and what was granted, at the
    waiting `slots` gate."""
    _exists(code)
    return decide(
        f"campaign:{code}", "slots", decider=by, outcome="recorded", extra={"slots": slots},
        **kwargs,
    )  # fmt: skip


def record_training_attendance(
    code: str, dealers: list[str], *, attended: bool, by: str, now: datetime | None = None
) -> list[str]:
    """HQ records which dealers attended the campaign's training (the last word counts)."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    view = _current(code)
    authorize_campaign("campaign.attendance", code, by, now=now)
    with session_scope(settings.database_url) as session:
        return record_attendance(
            session=session, campaign_id=view.id, dealers=dealers, attended=attended, by=by,
            now=now,
        )  # fmt: skip


def import_kpi_snapshots(
    data: bytes, *, source: str, by: str, now: datetime | None = None
) -> SnapshotImport:
    """The agency's daily or weekly KPI file: good rows stored once per campaign, KPI and day;
    every bad row named by its line and field."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    rows, errors = parse_snapshot_csv(data)
    for code in sorted({r["campaign"] for r in rows}):
        try:
            _exists(code)
        except LookupError:
            continue  # named per line by store_snapshots
        authorize_campaign("campaign.kpis", code, by, now=now)
    with session_scope(settings.database_url) as session:
        result = store_snapshots(session=session, rows=rows, source=source, now=now)
    result.errors = errors + result.errors
    result.errors.sort(key=_line_no)
    return result


def _line_no(error: str) -> int:
    head = error.split(":", 1)[0]
    return int(head.split()[1]) if head.startswith("line ") and head.split()[1].isdigit() else 0
