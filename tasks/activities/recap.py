"""The recap (活动总结): filed once after the end, rendered from templates into a markdown
artifact and an HTML file with the participants table (phones masked)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.activities import RecapInput
from domain.models import Club, Member, Recap, Registration
from domain.privacy import mask_phone
from tasks.activities.checkin import participant_count
from tasks.activities.refusals import RETRY, ActivityError
from tasks.activities.store import ActivityView, get_activity
from tasks.common import data_task
from tasks.render import render


class RecapView(BaseModel):
    activity_code: str
    participants: int
    media_links: list[str]
    media_posts: int
    media_reads: int
    feedback_score: float | None
    notes: str
    filed_by: str
    filed_at: datetime
    report_path: str | None


def _view(recap: Recap, code: str) -> RecapView:
    return RecapView(activity_code=code, **recap.model_dump(exclude={"id", "activity_id"}))


def file_recap(*, session: Session, code: str, recap: RecapInput, now: datetime) -> RecapView:
    """Store the recap once; filing the same recap again returns it unchanged."""
    activity = get_activity(session=session, code=code)
    existing = session.execute(
        select(Recap).where(Recap.activity_id == activity.id)
    ).scalar_one_or_none()
    if existing is not None:
        same = RecapInput.model_validate(existing, from_attributes=True) == recap
        if not same:
            raise ActivityError(
                f"activity {code}: a recap was already filed by {existing.filed_by} "
                f"on {calendar.business_date(existing.filed_at)}"
            )
        return _view(existing, code)
    if activity.status not in ("approved", "announced"):
        raise ActivityError(f"activity {code} is {activity.status}; no recap can be filed")
    if calendar.business_date(now) < activity.ends_on:
        raise ActivityError(f"activity {code} ends on {activity.ends_on}; file the recap after")
    row = Recap(
        activity_id=activity.id,
        participants=participant_count(session=session, activity_id=activity.id),
        filed_at=now,
        **recap.model_dump(),
    )
    session.add(row)
    session.flush()
    return _view(row, code)


def recap_context(*, session: Session, code: str) -> dict[str, Any]:
    """Everything the recap report shows; phones are masked here, before any template."""
    activity = get_activity(session=session, code=code)
    recap = session.execute(select(Recap).where(Recap.activity_id == activity.id)).scalar_one()
    rows = session.execute(
        select(Member.member_no, Member.name, Member.phone, Club.name, Registration)
        .join(Registration, Registration.member_id == Member.id)
        .outerjoin(Club, Club.id == Member.club_id)
        .where(Registration.activity_id == activity.id, Registration.checked_in_at.is_not(None))
        .order_by(Registration.checked_in_at, Member.member_no)
    ).all()
    participants = [
        {
            "member_no": no,
            "name": name,
            "phone": mask_phone(phone),
            "club": club or "",
            "checked_in_at": reg.checked_in_at.astimezone(calendar.BUSINESS_TZ).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "organiser": reg.is_organiser,
        }
        for no, name, phone, club, reg in rows
    ]
    view = ActivityView.of(activity)
    return {
        "activity": {**view.context(), "expected": activity.expected_participants},
        "recap": {
            **_view(recap, code).model_dump(mode="json"),
            "filed_on": calendar.business_date(recap.filed_at).isoformat(),
        },
        "participants": participants,
    }


def render_recap(*, session: Session, code: str, reports_dir: Path) -> tuple[str, Path]:
    """Render the recap as markdown (for the artifact) and as an HTML file; returns both."""
    context = recap_context(session=session, code=code)
    markdown = render("reports/activity_recap.md.j2", context)
    html = render("reports/activity_recap.html.j2", context)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"activity-{code}-recap.html"
    path.write_text(html, encoding="utf-8")
    activity = get_activity(session=session, code=code)
    recap = session.execute(select(Recap).where(Recap.activity_id == activity.id)).scalar_one()
    recap.report_path = str(path)
    session.flush()
    return markdown, path


def render_recap_report(*, session: Session, code: str, settings: Settings) -> tuple[str, str]:
    """The recap as markdown (for the artifact) and the path of its HTML file in the reports
    directory."""
    markdown, path = render_recap(
        session=session, code=code, reports_dir=Path(settings.reports_dir)
    )
    return markdown, str(path)


@task(name="publish-recap")
def publish_recap(activity: ActivityView, recap: RecapView, markdown: str) -> None:
    create_markdown_artifact(
        key=f"activity-{activity.code.lower()}-recap",
        markdown=markdown,
        description=f"{activity.run_label}: recap, {recap.participants} participants",
    )


file_recap_task = data_task(file_recap, **RETRY)
render_recap_task = data_task(render_recap_report, name="render-recap", **RETRY)
