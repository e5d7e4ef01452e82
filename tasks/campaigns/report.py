"""What the campaign pipeline shows: the plan above each gate's form, the timeline table
artifact, and the post-campaign report (markdown artifact and an HTML file).

Every view shows the rush flag when the campaign was started with less than the lead time.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.campaigns import kpi_rows, sparkline, timeline_kept
from domain.privacy import mask_text
from tasks.campaigns.live import attendance, kpi_series, slot_rows
from tasks.campaigns.store import CampaignView, kpi_actuals, load_campaign
from tasks.common import data_task
from tasks.render import render


def rush_line(view: CampaignView) -> str:
    return f"**⚠ RUSH (加急)**: {mask_text(view.rush_reason)}\n\n" if view.rush else ""


def artifact_key(view: CampaignView, what: str) -> str:
    return f"campaign-{view.code}-{what}".lower()


def plan_markdown(view: CampaignView, *, question: str) -> str:
    """The description above a gate's Resume form: what is decided, budget, KPIs."""
    budget = "\n".join(
        f"| {mask_text(b['item'])} | ¥{float(b['amount']):,.2f} |" for b in view.budget
    )
    kpis = "\n".join(
        f"| {mask_text(k['name'])} | {float(k['target']):,g} {k.get('unit') or ''} |"
        for k in view.kpis
    )
    return (
        f"## {view.name} (`{view.code}`) · plan v{view.plan_version}\n\n"
        f"{rush_line(view)}"
        f"**{question}**\n\n"
        f"L = **{view.launch_date}**, end {view.end_date}, regions {', '.join(view.regions)}\n\n"
        f"{mask_text(view.summary)}\n\n"
        f"Policy: {mask_text(view.policy) or '—'}\n\n"
        f"| budget line | amount |\n|---|---:|\n{budget}\n| **total** | "
        f"**¥{view.budget_total:,.2f}** |\n\n"
        f"| KPI | target |\n|---|---:|\n{kpis}\n"
    )


def timeline_rows(view: CampaignView) -> list[dict[str, str]]:
    return [
        {
            "step": m.title,
            "key": m.key,
            "owner": m.owner_role,
            "from": m.starts_on.isoformat() if m.starts_on else "",
            "due": m.due_on.isoformat(),
            "status": m.status,
            "rush": "RUSH" if view.rush else "",
        }
        for m in view.milestones
    ]


def report_context(view: CampaignView, actuals: dict[str, float], form: dict[str, Any],
                   now: datetime) -> dict[str, Any]:  # fmt: skip
    spend = view.spend_total
    done_days = [
        (m, calendar.business_date(m.done_at) if m.done_at else None) for m in view.milestones
    ]
    return {
        "campaign": {
            "name": view.name,
            "code": view.code,
            "kind": view.kind,
            "launch_date": view.launch_date.isoformat(),
            "end_date": view.end_date.isoformat(),
            "regions": view.regions,
            "plan_version": view.plan_version,
        },
        "rush": view.rush,
        "rush_reason": mask_text(view.rush_reason or ""),
        "summary": mask_text(form.get("summary") or view.summary),
        "competitors": mask_text(form.get("competitors") or ""),
        "next_steps": mask_text(form.get("next_steps") or ""),
        "timeline": [
            {
                "title": m.title,
                "due_on": m.due_on.isoformat(),
                "done_on": done_on.isoformat() if done_on else "",
                "kept": timeline_kept(m.due_on, done_on),
            }
            for m, done_on in done_days
        ],
        "kpis": [
            {
                "name": r.name,
                "unit": r.unit,
                "target": r.target,
                "actual": r.actual,
                "attainment": r.attainment,
                "met": r.met,
            }
            for r in kpi_rows(view.kpis, actuals)
        ],
        "budget": view.budget,
        "budget_total": view.budget_total,
        "spend_total": spend,
        "spend_delta": None if spend is None else round(spend - view.budget_total, 2),
        "reported_by": form.get("decider", ""),
        "generated_at": calendar.business_date(now).isoformat(),
    }


def competitor_block(*, session: Session, view: CampaignView) -> dict[str, Any]:
    """The competitor entries of the campaign's launch month (a block of its own)."""
    from tasks.quarter.competitors import campaign_competitor_block

    return campaign_competitor_block(session=session, launch_date=view.launch_date)


def render_report(
    *, session: Session, campaign_id: int, form: dict[str, Any], now: datetime, settings: Settings
) -> str:
    """Render the post-campaign report: a markdown artifact and an HTML file; returns the
    file's path. Rendering again writes the same file (the report is derived, not appended)."""
    view = load_campaign(session=session, campaign_id=campaign_id)
    actuals = kpi_actuals(session=session, campaign_id=campaign_id)
    context = report_context(view, actuals, form, now)
    context["competitor_block"] = competitor_block(session=session, view=view)
    context |= live_context(session=session, view=view)
    markdown = render("reports/campaign_report.md.j2", context)
    html = render("reports/campaign_report.html.j2", context)
    path = Path(settings.campaign_reports_dir) / f"campaign-{view.code}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    create_markdown_artifact(
        key=artifact_key(view, "report"),
        markdown=markdown,
        description=f"{view.name}: post-campaign report" + (" · RUSH" if view.rush else ""),
    )
    return str(path)


def live_context(*, session: Session, view: CampaignView) -> dict[str, Any]:
    """While it ran: each KPI's daily series (a small table and a sparkline), the dealers'
    training attendance and the platform slots granted."""
    series = kpi_series(session=session, campaign_id=view.id)
    marked = attendance(session=session, campaign_id=view.id)
    return {
        "trend": [
            {
                "name": k["name"],
                "spark": sparkline([v for _, v in series.get(k["name"], [])]),
                "days": [(d.isoformat(), v) for d, v in series.get(k["name"], [])],
            }
            for k in view.kpis
            if series.get(k["name"])
        ],
        "attendance": marked,
        "attended": sum(1 for a in marked if a["attended"]),
        "slots": [
            s.model_dump(include={"name", "kind", "key_date", "granted", "granted_qty", "cost"})
            for s in slot_rows(session=session, campaign_id=view.id)
        ],
    }


# ---------------------------------------------------------------- tasks


@task(name="publish-timeline", cache_policy=NO_CACHE)
def publish_timeline_task(view: CampaignView) -> None:
    """The timeline as a table artifact (re-published when dates move)."""
    create_table_artifact(
        key=artifact_key(view, "timeline"),
        table=timeline_rows(view),
        description=(
            f"{view.name}: timeline backwards from L = {view.launch_date}"
            + (f" · RUSH: {mask_text(view.rush_reason)}" if view.rush else "")
        ),
    )


render_report_task = data_task(render_report, name="render-campaign-report", retries=1)
