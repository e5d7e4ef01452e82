"""Activities in the store: register a proposal, record the review, approve (plan the dated
steps and the warm-up), cancel.

Data functions take the session and are plain; each step's task is made from its data function
at the bottom (`data_task`). Notifications are queued in the same transaction as the change
they announce, under keys naming the business event, so a re-run after a crash sends nothing
twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.activities import (
    ActivityProposal,
    ActivityStatus,
    Booked,
    ClubRef,
    Problem,
    ProposalRefused,
    WarmupPlan,
    activity_code,
    check_proposal,
    move_activity,
    plan_warmup,
    points_on,
    recap_due_on,
    review_chain,
)
from domain.models import Activity, ActivityClass, Club, Person, Role
from domain.regions import REGION_CODES, region_info
from tasks.activities.announce import announce
from tasks.activities.refusals import RETRY, ActivityError
from tasks.common import data_task, run_logger
from tasks.outbox import NotificationRequest, queue_checked_notifications

# Statuses in which an activity still takes place (and so blocks the club's calendar).
LIVE = (
    ActivityStatus.proposed,
    ActivityStatus.in_review,
    ActivityStatus.sent_back,
    ActivityStatus.approved,
    ActivityStatus.announced,
)
# Who besides the club's own admin may propose for a club.
PROPOSER_ROLES = {Role.club_admin, Role.regional_specialist, Role.campaign_manager}


class ActivityView(BaseModel):
    """An activity as flows, the CLI and templates see it (no session attached)."""

    id: int
    code: str
    title: str
    klass: ActivityClass
    theme: str
    region_code: str
    club_id: int | None
    starts_on: date
    ends_on: date
    place: str
    expected_participants: int
    budget: list[dict[str, Any]] = []  # [{"item", "amount"}]: what the reviewer weighs
    subsidy_requested: float = 0
    invited_regions: list[str]
    tiers: list[str] = []
    status: str
    late: bool
    proposed_by: str
    review_round: int
    warmup_on: date | None
    recap_due_on: date | None
    points_on: date | None
    announced_at: datetime | None
    approved_at: datetime | None
    points_issued_at: datetime | None
    cancelled_reason: str | None
    safety_plan: str = ""
    support_vehicle: str = ""

    @classmethod
    def of(cls, activity: Activity) -> ActivityView:
        return cls.model_validate(activity, from_attributes=True)

    @property
    def region_zh(self) -> str:
        return region_info(self.region_code).name_zh

    @property
    def run_label(self) -> str:
        """`activity 成都卫 雨林穿越 秋季站`: the start of every run name of this activity."""
        return f"activity {self.region_zh} {self.title}"

    @property
    def tags(self) -> list[str]:
        return ["activity", f"region:{self.region_code}", f"class:{self.klass}"]

    def context(self) -> dict[str, Any]:
        """What notification and report templates may use."""
        return {
            "code": self.code,
            "title": self.title,
            "klass": str(self.klass),
            "theme": self.theme,
            "region": self.region_zh,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "place": self.place,
            "proposed_by": self.proposed_by,
        }


def get_activity(*, session: Session, code: str) -> Activity:
    activity = session.execute(select(Activity).where(Activity.code == code)).scalar_one_or_none()
    if activity is None:
        raise LookupError(f"unknown activity {code!r}")
    return activity


def read_activity(*, session: Session, code: str) -> ActivityView:
    return ActivityView.of(get_activity(session=session, code=code))


def club_code(*, session: Session, club_id: int | None) -> str | None:
    if club_id is None:
        return None
    return session.get(Club, club_id).code


# ---------------------------------------------------------------- proposal


def _proposal_snapshot(proposal: ActivityProposal) -> dict[str, Any]:
    snapshot = proposal.model_dump(mode="json")
    if not snapshot["tiers"]:  # an open activity's snapshot is what it was before tiers
        snapshot.pop("tiers")
    return snapshot


def register_proposal(
    *, session: Session, proposal: ActivityProposal, now: datetime, settings: Settings
) -> ActivityView:
    """Store a proposal once (its code is club + start date), or refuse it naming each field.

    Submitting the same proposal again returns the stored activity unchanged; a proposal sent
    back for changes may be submitted again with changes, and is then reviewed in a new round.
    """
    club = (
        session.execute(select(Club).where(Club.code == proposal.club)).scalar_one_or_none()
        if proposal.club
        else None
    )
    code = activity_code(proposal.club, proposal.starts_on)
    existing = session.execute(select(Activity).where(Activity.code == code)).scalar_one_or_none()
    snapshot = _proposal_snapshot(proposal)
    if existing is not None and existing.proposal == snapshot:
        return ActivityView.of(existing)  # a replay: nothing to do
    if existing is not None and existing.status != "sent_back":
        raise ProposalRefused(
            [
                Problem(
                    "starts_on",
                    f"the club already proposed {code} ({existing.status}); "
                    "only a proposal sent back for changes can be submitted again",
                )
            ]
        )

    booked = []
    if club is not None:
        rows = session.execute(
            select(Activity.code, Activity.starts_on, Activity.ends_on).where(
                Activity.club_id == club.id,
                Activity.status.in_(LIVE),
                Activity.code != code,
            )
        ).all()
        booked = [Booked(*r) for r in rows]
    problems = check_proposal(
        proposal,
        club=ClubRef(club.code, club.region_code) if club is not None else None,
        known_regions=REGION_CODES,
        booked=booked,
        today=calendar.business_date(now),
        warmup_opens_before_days=settings.warmup_opens_before_days,
        warmup_closes_before_days=settings.warmup_closes_before_days,
    )
    problems += _proposer_problems(session=session, proposal=proposal, club=club)
    if problems:
        raise ProposalRefused(problems)

    fields = {
        "title": proposal.title,
        "klass": proposal.activity_class,
        "theme": proposal.theme,
        "region_code": proposal.region,
        "club_id": club.id if club is not None else None,
        "starts_on": proposal.starts_on,
        "ends_on": proposal.ends_on,
        "place": proposal.place,
        "expected_participants": proposal.expected_participants,
        "budget": [line.model_dump() for line in proposal.budget],
        "subsidy_requested": proposal.subsidy_requested,
        "invited_regions": list(proposal.invited_regions),
        "tiers": list(proposal.tiers),
        "late": proposal.late,
        "proposed_by": proposal.proposed_by,
        "safety_plan": proposal.safety_plan,
        "support_vehicle": proposal.support_vehicle,
        "proposal": snapshot,
    }
    if existing is None:
        activity = Activity(code=code, status=ActivityStatus.proposed, created_at=now, **fields)
        session.add(activity)
    else:  # resubmitted after a send-back: a new review round
        activity = existing
        for key, value in fields.items():
            setattr(activity, key, value)
        activity.status = move_activity(activity.status, ActivityStatus.proposed)
        activity.review_round += 1
    session.flush()
    run_logger("activities").info(
        "activity %s registered (%s, round %s)", code, activity.status, activity.review_round
    )
    return ActivityView.of(activity)


def _proposer_problems(
    *, session: Session, proposal: ActivityProposal, club: Club | None
) -> list[Problem]:
    person = session.execute(
        select(Person).where(Person.username == proposal.proposed_by)
    ).scalar_one_or_none()
    if person is None or not person.active:
        return [Problem("proposed_by", f"unknown or inactive user {proposal.proposed_by!r}")]
    if person.role not in PROPOSER_ROLES:
        return [Problem("proposed_by", f"{person.username} is a {person.role}; cannot propose")]
    if proposal.activity_class == ActivityClass.A and person.role != Role.campaign_manager:
        return [Problem("proposed_by", "class A events are created by an HQ campaign manager")]
    if person.role == Role.club_admin and club is not None and person.club_id != club.id:
        return [Problem("proposed_by", f"{person.username} is not an admin of club {club.code}")]
    return []


# ---------------------------------------------------------------- review


def mark_in_review(*, session: Session, code: str) -> ActivityView:
    activity = get_activity(session=session, code=code)
    if activity.status == ActivityStatus.proposed:
        activity.status = move_activity(activity.status, ActivityStatus.in_review)
        session.flush()
    return ActivityView.of(activity)


def activity_link(code: str, page: str = "", *, settings: Settings, now: datetime) -> str:
    """The signed portal link to the activity's page (`page`: "recap", "claim" ...)."""
    return portal_link(
        f"/activities/{code}" + (f"/{page}" if page else ""), settings=settings, now=now
    )


def review_requests(
    activity: ActivityView, *, step_key: str, settings: Settings, now: datetime
) -> list[NotificationRequest]:
    """The reviewer's notice that a proposal waits for them (queued when the gate opens; the
    gate's id is not known yet, so the link is the activity's page, which links the gate)."""
    step = next(s for s in review_chain(activity.klass, activity.region_code) if s.key == step_key)
    recipient = f"role:{step.role}:{step.region}" if step.region else f"role:{step.role}"
    return [
        NotificationRequest(
            recipient=recipient,
            template="activity_review_request",
            context={
                **activity.context(),
                "step": step.title,
                "late": activity.late,
                "link": activity_link(activity.code, settings=settings, now=now),
            },
            idem_key=f"activity:{activity.id}:review:{step.key}:r{activity.review_round}",
        )
    ]


def record_review_outcome(
    *, session: Session, code: str, step_key: str, outcome: str, decider: str, comment: str
) -> tuple[ActivityView, list[NotificationRequest]]:
    """A send-back or a rejection ends this review round; the organiser is told why."""
    activity = get_activity(session=session, code=code)
    status = {"revise": ActivityStatus.sent_back, "reject": ActivityStatus.rejected}[outcome]
    if activity.status in (ActivityStatus.in_review, ActivityStatus.proposed):
        activity.status = move_activity(activity.status, status)
        session.flush()
    view = ActivityView.of(activity)
    request = NotificationRequest(
        recipient=f"person:{activity.proposed_by}",
        template="activity_review_outcome",
        context={**view.context(), "outcome": outcome, "comment": comment, "decider": decider},
        idem_key=f"activity:{activity.id}:review:{step_key}:r{activity.review_round}:{outcome}",
    )
    return view, [request]


def review_due_on(*, today: date, starts_on: date, settings: Settings) -> date:
    """Due a few working days after opening, but not after the warm-up window opens."""
    due = calendar.add_working_days(today, settings.activity_review_working_days)
    opens = calendar.window(
        starts_on,
        opens_before=settings.warmup_opens_before_days,
        closes_before=settings.warmup_closes_before_days,
    ).opens
    return max(today, min(due, opens))


# ---------------------------------------------------------------- approval and warm-up


def approve_activity(
    *, session: Session, code: str, now: datetime, settings: Settings
) -> tuple[ActivityView, WarmupPlan, list[NotificationRequest]]:
    """Approve (or, for D/E, register): derive the dated steps from the dates and decide the
    warm-up: schedule it, send it at once, send it late with a warning, or cancel.

    A second call returns what the first decided and queues nothing new.
    """
    activity = get_activity(session=session, code=code)
    approved_on = (
        calendar.business_date(activity.approved_at)
        if activity.approved_at is not None
        else calendar.business_date(now)
    )
    plan = plan_warmup(
        starts_on=activity.starts_on,
        approved_on=approved_on,
        opens_before=settings.warmup_opens_before_days,
        closes_before=settings.warmup_closes_before_days,
    )
    if activity.approved_at is not None or activity.status == ActivityStatus.cancelled:
        return ActivityView.of(activity), plan, []
    if activity.status not in (ActivityStatus.proposed, ActivityStatus.in_review):
        raise ActivityError(f"activity {code} is {activity.status}; it cannot be approved")

    activity.approved_at = now
    requests: list[NotificationRequest] = []
    organiser = f"person:{activity.proposed_by}"
    if plan.action == "cancel":
        activity.status = move_activity(activity.status, ActivityStatus.cancelled)
        activity.cancelled_reason = plan.reason
        session.flush()
        view = ActivityView.of(activity)
        requests.append(
            NotificationRequest(
                recipient=organiser,
                template="activity_cancelled",
                context={**view.context(), "reason": plan.reason},
                idem_key=f"activity:{activity.id}:cancelled",
                urgent=True,
            )
        )
        return view, plan, requests

    activity.status = move_activity(activity.status, ActivityStatus.approved)
    activity.warmup_on = plan.send_on
    activity.recap_due_on = recap_due_on(activity.ends_on, recap_due_days=settings.recap_due_days)
    activity.points_on = points_on(
        activity.ends_on, points_after_working_days=settings.points_after_working_days
    )
    session.flush()
    view = ActivityView.of(activity)
    requests.append(
        NotificationRequest(
            recipient=organiser,
            template="activity_approved",
            context={
                **view.context(),
                "warmup_on": plan.send_on.isoformat(),
                "recap_due_on": activity.recap_due_on.isoformat(),
                "points_on": activity.points_on.isoformat(),
                "needs_review": bool(review_chain(activity.klass, activity.region_code)),
                "link": activity_link(activity.code, settings=settings, now=now),
            },
            idem_key=f"activity:{activity.id}:approved",
        )
    )
    if plan.action == "late":
        requests.append(
            NotificationRequest(
                recipient=organiser,
                template="activity_late_warning",
                context={
                    **view.context(),
                    "reason": plan.reason,
                    "window_opens": plan.window.opens.isoformat(),
                    "window_closes": plan.window.closes.isoformat(),
                },
                idem_key=f"activity:{activity.id}:late-warning",
                urgent=True,
            )
        )
    if plan.action in ("send_now", "late"):
        requests += announce(session=session, activity=activity, now=now)
    return ActivityView.of(activity), plan, requests


def upcoming_steps(activity: ActivityView) -> list[dict[str, str]]:
    """The dated steps still ahead, for the table artifact a specialist reads."""
    rows = [
        ("warm-up announcement", activity.warmup_on, activity.announced_at is not None),
        ("recap due", activity.recap_due_on, False),
        ("points issued", activity.points_on, activity.points_issued_at is not None),
    ]
    return [
        {"step": name, "date": day.isoformat(), "state": "done" if done else "scheduled"}
        for name, day, done in rows
        if day is not None
    ]


# ---------------------------------------------------------------- steps and their tasks


def record_review_outcome_and_notify(
    *,
    session: Session,
    code: str,
    step_key: str,
    outcome: str,
    decider: str,
    comment: str,
    now: datetime,
    settings: Settings,
) -> ActivityView:
    """A send-back or rejection: the activity leaves review and the organiser is told why."""
    activity, requests = record_review_outcome(
        session=session,
        code=code,
        step_key=step_key,
        outcome=outcome,
        decider=decider,
        comment=comment,
    )
    queue_checked_notifications(session=session, requests=requests, now=now, settings=settings)
    return activity


def approve_activity_and_notify(
    *, session: Session, code: str, now: datetime, settings: Settings
) -> tuple[ActivityView, WarmupPlan]:
    """Derive the dated steps; announce now if the window is open or passed; cancel after start."""
    activity, plan, requests = approve_activity(
        session=session, code=code, now=now, settings=settings
    )
    queue_checked_notifications(session=session, requests=requests, now=now, settings=settings)
    run_logger("activities").info("activity %s: %s (%s)", code, plan.action, plan.reason)
    return activity, plan


@task(name="publish-activity-steps")
def publish_upcoming_steps(activity: ActivityView, plan: WarmupPlan) -> None:
    """The dated steps still ahead, as the table artifact a specialist reads."""
    create_table_artifact(
        key=f"activity-{activity.code.lower()}-steps",
        table=upcoming_steps(activity),
        description=f"{activity.run_label}: {plan.reason}",
    )


read_activity_task = data_task(read_activity, **RETRY)
register_proposal_task = data_task(register_proposal, **RETRY)
mark_in_review_task = data_task(mark_in_review, name="start-review", **RETRY)
record_review_outcome_task = data_task(
    record_review_outcome_and_notify, name="record-review-outcome", **RETRY
)
approve_activity_task = data_task(approve_activity_and_notify, name="approve-activity", **RETRY)
