"""The activities' dated steps, run by the shared hourly sweep (tasks/gates/dated_steps.py):
warm-up on its day, recap reminder and escalation, points at end + N working days, archive.

Each step does what is due by `today` and not yet done, marks it in the session, and returns
its notifications; the sweep queues them in the same transaction. Nothing sleeps: an activity
whose date passed while the system was down is caught up by the next sweep.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.gates import InboxItem
from domain.models import Activity, Notification, Person, Recap, SubsidyClaim
from tasks.activities.announce import announce
from tasks.activities.archive import archive_activity, ready_to_archive
from tasks.activities.points import issue_points
from tasks.activities.store import ActivityView, activity_link
from tasks.gates.dated_steps import StepRun, dated_step
from tasks.gates.inbox import inbox_source
from tasks.outbox import NotificationRequest


@dated_step("activity-warmup")
def send_due_warmups(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    activities = session.execute(
        select(Activity).where(
            Activity.status == "approved",
            Activity.announced_at.is_(None),
            Activity.warmup_on <= today,
            Activity.starts_on >= today,  # a sweep down past the start: too late to announce
        )
    ).scalars()
    runs = []
    for activity in activities:
        requests = announce(session=session, activity=activity, now=now)
        runs.append(
            StepRun(
                "activity-warmup",
                f"activity:{activity.code}",
                f"announced to {len(requests)} recipients",
                requests,
            )
        )
    return runs


@dated_step("activity-recap-ladder")
def remind_missing_recaps(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    """No recap by end+7: remind the organiser; N working days later, escalate to the region's
    specialist. Each level once per activity (its idempotency key)."""
    filed = select(Recap.activity_id)
    activities = session.execute(
        select(Activity).where(
            Activity.status.in_(("approved", "announced")),
            Activity.recap_due_on <= today,
            Activity.id.not_in(filed),
        )
    ).scalars()
    runs = []
    for activity in activities:
        view = ActivityView.of(activity)
        context = {
            **view.context(),
            "due_on": activity.recap_due_on.isoformat(),
            "link": activity_link(activity.code, "recap", settings=settings, now=now),
        }
        levels = [
            ("reminder", f"person:{activity.proposed_by}", activity.recap_due_on),
            (
                "escalation",
                f"role:regional_specialist:{activity.region_code}",
                calendar.add_working_days(
                    activity.recap_due_on, settings.recap_escalate_after_working_days
                ),
            ),
        ]
        requests = [
            NotificationRequest(
                recipient=recipient,
                template=f"activity_recap_{level}",
                context=context,
                idem_key=f"activity:{activity.id}:recap:{level}",
                urgent=level == "escalation",
            )
            for level, recipient, due in levels
            if today >= due
        ]
        sent = set(
            session.execute(
                select(Notification.idem_key).where(
                    Notification.idem_key.in_([r.idem_key for r in requests])
                )
            ).scalars()
        )
        requests = [r for r in requests if r.idem_key not in sent]
        if requests:
            runs.append(
                StepRun(
                    "activity-recap-ladder",
                    f"activity:{activity.code}",
                    ", ".join(r.template.removeprefix("activity_recap_") for r in requests),
                    requests,
                )
            )
    return runs


@dated_step("activity-points")
def issue_due_points(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    activities = session.execute(
        select(Activity).where(
            Activity.status.in_(("approved", "announced")),
            Activity.points_issued_at.is_(None),
            Activity.points_on <= today,
        )
    ).scalars()
    runs = []
    for activity in activities:
        report = issue_points(session=session, activity=activity, now=now, settings=settings)
        runs.append(
            StepRun(
                "activity-points",
                f"activity:{activity.code}",
                f"{report.rows_added} ledger rows for {report.participants} participants; "
                f"{len(report.rose)} rose",
            )
        )
    return runs


@dated_step("activity-archive")
def archive_finished(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    activities = session.execute(
        select(Activity).where(
            Activity.archived_at.is_(None), Activity.points_issued_at.is_not(None)
        )
    ).scalars()
    runs = []
    for activity in list(activities):
        if ready_to_archive(session=session, activity=activity):
            archive_activity(session=session, activity=activity, now=now)
            runs.append(StepRun("activity-archive", f"activity:{activity.code}", "archived"))
    return runs


@inbox_source("activity-claims-to-pay")
def claims_to_pay(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """Finance sees the decided claims that still wait for payment."""
    if person.role != "finance":
        return []
    rows = session.execute(
        select(Activity.code, Activity.title, SubsidyClaim.total_approved, SubsidyClaim.decided_at)
        .join(SubsidyClaim, SubsidyClaim.activity_id == Activity.id)
        .where(SubsidyClaim.status == "decided", SubsidyClaim.total_approved > 0)
    ).all()
    return [
        InboxItem(
            kind="claim",
            subject=f"claim:{code}",
            title=f"补贴待支付 ¥{total:,.2f} · {title}",
            due_on=None,
            overdue=False,
            command=f"clubflow activity pay {code} --as {person.username} --ref ...",
            link=f"/activities/{code}",
        )
        for code, title, total, _decided in rows
    ]


@inbox_source("activity-club-paperwork")
def club_paperwork(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """A club admin sees the recap due once the activity ended (not filed), then the claim to
    file once the recap is in (no claim yet)."""
    if person.role != "club_admin" or person.club_id is None:
        return []
    activities = session.execute(
        select(Activity)
        .where(
            Activity.club_id == person.club_id,
            Activity.status.in_(("approved", "announced")),
            Activity.ends_on <= today,
        )
        .order_by(Activity.ends_on)
    ).scalars()
    filed = set(
        session.execute(
            select(Recap.activity_id)
            .join(Activity, Activity.id == Recap.activity_id)
            .where(Activity.club_id == person.club_id)
        ).scalars()
    )
    claimed = set(session.execute(select(SubsidyClaim.activity_id)).scalars())
    items = []
    for activity in activities:
        if activity.id not in filed:
            due = activity.recap_due_on
            items.append(
                InboxItem(
                    kind="recap",
                    subject=f"activity:{activity.code}",
                    title=f"请提交活动总结 · {activity.title}",
                    due_on=due,
                    overdue=due is not None and due < today,
                    command=f"clubflow activity recap {activity.code} recap.yaml",
                    link=f"/activities/{activity.code}/recap",
                )
            )
        elif activity.id not in claimed and activity.klass in ("B", "C"):
            # Due on the points day: then the sweep archives an activity that has no claim.
            due = activity.points_on
            items.append(
                InboxItem(
                    kind="claim",
                    subject=f"activity:{activity.code}",
                    title=f"可申报补贴 · {activity.title}",
                    due_on=due,
                    overdue=due is not None and due < today,
                    command=f"clubflow activity claim {activity.code} claim.yaml",
                    link=f"/activities/{activity.code}/claim",
                )
            )
    return items
