"""Competitor tracking: the operator's entries (brand, activity type, features, region,
period, assessment), a CSV import, and the monthly report due on the month's last working
day, rendered as a file HQ reads; and the block of a month's entries the post-campaign
report shows.

Data functions take the session (keyword-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.models_quarter import CompetitorActivity, CompetitorReport
from domain.privacy import mask_text
from domain.quarter import (
    COMPETITOR_COLUMNS,
    CompetitorEntry,
    competitor_problem,
    competitor_report_due_on,
    month_of,
)
from domain.regions import REGIONS
from domain.tabular import line_error, read_table
from tasks.outbox import NotificationRequest
from tasks.render import render

REGION_ZH = {r.code: r.name_zh for r in REGIONS}
REQUIRED = ("brand", "activity_type", "region", "starts_on", "ends_on")


class CompetitorError(ValueError):
    """An entry or a report that cannot be taken; the message names the field or month."""


def check_entry(entry: CompetitorEntry, *, settings: Settings) -> None:
    problem = competitor_problem(entry, brands=settings.competitor_brands)
    if problem:
        raise CompetitorError(f"{problem[0]}: {problem[1]}")


def add_competitor_entries(
    *, session: Session, entries: list[CompetitorEntry], by: str, now: datetime, settings: Settings
) -> int:
    """Store the entries once each (brand, type, region, start); returns how many are new."""
    for entry in entries:
        check_entry(entry, settings=settings)
    rows = [
        {
            "month": entry.month(),
            "brand": entry.brand,
            "activity_type": entry.activity_type,
            "features": entry.features,
            "region_code": entry.region,
            "starts_on": entry.starts_on,
            "ends_on": entry.ends_on,
            "assessment": entry.assessment,
            "entered_by": by,
            "created_at": now,
        }
        for entry in entries
    ]
    return len(
        insert_ignoring_conflicts(
            session,
            CompetitorActivity,
            rows,
            on=["brand", "activity_type", "region_code", "starts_on"],
        )
    )


@dataclass
class ParsedFile:
    entries: list[CompetitorEntry]
    errors: list[str]  # `line N: field: reason`, one per bad row


def parse_competitor_file(data: bytes, *, settings: Settings) -> ParsedFile:
    """The file's good rows and one error line per bad row (the good rows are kept)."""
    table = read_table(data, COMPETITOR_COLUMNS, REQUIRED)
    entries, errors = [], [b.reason for b in table.bad_lines]
    for line_no, record in table.records:
        values = {k: v for k, v in record.items() if not k.startswith("_")}
        try:
            entry = CompetitorEntry.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            errors.append(line_error(line_no, field, f"{first['msg']} ({values.get(field, '')!r})"))
            continue
        problem = competitor_problem(entry, brands=settings.competitor_brands)
        if problem:
            errors.append(line_error(line_no, *problem))
            continue
        entries.append(entry)
    return ParsedFile(entries, errors)


def month_entries(*, session: Session, month: date) -> list[CompetitorActivity]:
    return list(
        session.execute(
            select(CompetitorActivity)
            .where(CompetitorActivity.month == month_of(month))
            .order_by(CompetitorActivity.starts_on, CompetitorActivity.brand)
        ).scalars()
    )


def entry_rows(entries: list[CompetitorActivity]) -> list[dict[str, str]]:
    """The entries as shown in reports (texts masked: they are typed by hand)."""
    return [
        {
            "brand": e.brand,
            "activity_type": e.activity_type,
            "features": mask_text(e.features),
            "region": REGION_ZH.get(e.region_code, e.region_code),
            "period": f"{e.starts_on:%m-%d}–{e.ends_on:%m-%d}",
            "assessment": mask_text(e.assessment),
        }
        for e in entries
    ]


def report_of(*, session: Session, month: date) -> CompetitorReport | None:
    return session.execute(
        select(CompetitorReport).where(CompetitorReport.month == month_of(month))
    ).scalar_one_or_none()


def submit_competitor_report(
    *, session: Session, month: date, by: str, now: datetime, settings: Settings
) -> tuple[CompetitorReport, list[NotificationRequest]]:
    """Render the month's report (a Markdown file HQ reads) and record it; HQ is told once.
    Submitting again re-renders the file with the entries added since."""
    month = month_of(month)
    entries = month_entries(session=session, month=month)
    due_on = competitor_report_due_on(month, is_working_day=calendar.is_working_day)
    context = {
        "month": f"{month:%Y-%m}",
        "due_on": due_on.isoformat(),
        "entries": entry_rows(entries),
        "by": by,
        "submitted_on": calendar.business_date(now).isoformat(),
        "late": calendar.business_date(now) > due_on,
    }
    path = Path(settings.reports_dir) / f"competitors-{month:%Y-%m}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render("reports/competitor_report.md.j2", context), encoding="utf-8")
    row = report_of(session=session, month=month)
    if row is None:
        row = CompetitorReport(month=month, due_on=due_on, submitted_by=by, submitted_at=now)
        session.add(row)
    row.entries, row.path = len(entries), str(path)
    session.flush()
    request = NotificationRequest(
        recipient="role:campaign_manager",
        template="quarter_competitor_report",
        context={
            **context,
            "entries": len(entries),
            "path": str(path),
            "link": portal_link(f"/competitors?month={month:%Y-%m}", settings=settings, now=now),
        },
        idem_key=f"competitors:{month:%Y-%m}:report:submitted",
    )
    return row, [request]


def campaign_competitor_block(*, session: Session, launch_date: date) -> dict:
    """The competitor entries of a campaign's month (its launch month), for its report."""
    month = month_of(launch_date)
    return {
        "month": f"{month:%Y-%m}",
        "entries": entry_rows(month_entries(session=session, month=month)),
    }
