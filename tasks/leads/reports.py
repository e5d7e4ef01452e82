"""Artifacts of the lead flows (masked: reasons and rows pass through domain.privacy)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from domain.privacy import mask_text
from tasks.leads.assignment import AssignmentResult
from tasks.leads.call_lists import CallListResult
from tasks.leads.intake import ImportSummary
from tasks.leads.statistics import DailyStatistics
from tasks.render import render


def _cell(text: str) -> str:
    return mask_text(str(text)).replace("|", "/").replace("\n", " ")


@task(name="publish-intake-report")
def publish_intake_report_task(
    day: date,
    imports: list[ImportSummary],
    assignment: AssignmentResult,
    call_lists: CallListResult,
) -> str:
    rejects = [(line, _cell(reason)) for s in imports for line, reason in s.reject_samples][:100]
    markdown = render(
        "reports/leads_import.md.j2",
        {
            "day": day.isoformat(),
            "imports": [asdict(s) for s in imports],
            "assigned": sum(s.assigned for s in imports) + assignment.assigned,
            "unassigned": assignment.unassigned,
            "lists": call_lists.lists,
            "rejects": rejects,
        },
    )
    create_markdown_artifact(
        key="leads-intake",
        markdown=markdown,
        description=f"Lead intake {day}: created, merged, rejected (phones masked)",
    )
    return markdown


@task(name="publish-outcome-report")
def publish_outcome_report_task(day: date, summaries: list, handed: list[tuple]) -> None:
    rows = [
        {
            "source": s.source,
            "applied": s.applied,
            "duplicates": s.duplicates,
            "closed_valid": s.closed_valid,
            "closed_invalid": s.closed_invalid,
            "rejected": s.rejected,
        }
        for s in summaries
    ]
    create_table_artifact(
        key="leads-outcomes", table=rows, description=f"Call outcomes imported {day}"
    )
    rejects = [
        {"source": s.source, "line": line, "reason": _cell(reason)}
        for s in summaries
        for line, reason in s.rejects
    ]
    if rejects:
        create_table_artifact(
            key="leads-outcome-rejects",
            table=rejects[:200],
            description="Outcomes refused, with the line and the reason",
        )
    if handed:
        create_table_artifact(
            key="leads-handoffs",
            table=[{"lead": i, "phone": phone, "to": to} for i, phone, to in handed],
            description="Leads handed to dealers (phones masked)",
        )


@task(name="publish-lead-statistics")
def publish_statistics_task(stats: DailyStatistics, markdown: str) -> None:
    create_markdown_artifact(
        key="leads-daily-statistics",
        markdown=markdown,
        description=f"Call statistics of {stats.day}",
    )
