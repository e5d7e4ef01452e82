"""Monthly plans that club admins submit for their slots, and the activity proposals they
become.

The activity lifecycle (flows/activities/) takes the proposals: `list_submitted_plans`
returns payloads in the fields of `domain.activities.ActivityProposal`; once the lifecycle has
created the activity, `mark_plan_proposed` links the submission to the activity's code so it
is never proposed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from domain.models import Club, Person, Role
from domain.models_planning import (
    ClubSlot,
    MonthlyPlanSubmission,
    QuarterPlanRecord,
    RotationHosting,
)
from domain.planning import (
    CLUB_CLASSES,
    SLOT_MOVES,
    SUBMISSION_MOVES,
    CrossingPlan,
    MonthlyPlan,
    SlotStatus,
    SubmissionStatus,
    crossing_proposal,
    move,
    moves_into,
)
from domain.regions import region_info
from domain.rotation import Quarter
from tasks.common import data_task


class SubmissionError(ValueError):
    pass


def submit_monthly_plan(
    *, session: Session, club_code: str, plan: MonthlyPlan, submitted_by: str, now: datetime
) -> MonthlyPlanSubmission:
    """Store the plan for the club's slot of the month it starts in; the slot turns
    `submitted`. Submitting the same slot again is refused (the first plan stands)."""
    club = session.execute(select(Club).where(Club.code == club_code)).scalar_one_or_none()
    if club is None:
        raise SubmissionError(f"club {club_code!r}: unknown club")
    person = session.execute(
        select(Person).where(Person.username == submitted_by)
    ).scalar_one_or_none()
    if person is None or not (
        (person.role == Role.club_admin and person.club_id == club.id)
        or (person.role == Role.regional_specialist and person.region_code == club.region_code)
    ):
        raise SubmissionError(
            f"club {club_code}: {submitted_by!r} is not its club admin or regional specialist"
        )
    if plan.activity_class not in CLUB_CLASSES:
        raise SubmissionError(
            f"club {club_code}: activity_class {plan.activity_class!r} is not a club class "
            f"({', '.join(CLUB_CLASSES)})"
        )
    month = plan.starts_on.replace(day=1)
    if plan.ends_on < plan.starts_on:
        raise SubmissionError(
            f"club {club_code}: ends_on {plan.ends_on} is before starts_on {plan.starts_on}"
        )
    slot = session.execute(
        select(ClubSlot).where(ClubSlot.club_id == club.id, ClubSlot.month == month)
    ).scalar_one_or_none()
    if slot is None:
        raise SubmissionError(f"club {club_code}: no planned slot for {month:%Y-%m}")
    existing = session.execute(
        select(MonthlyPlanSubmission).where(MonthlyPlanSubmission.slot_id == slot.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise SubmissionError(
            f"club {club_code}: the {month:%Y-%m} plan was already submitted by "
            f"{existing.submitted_by} ({existing.title})"
        )
    row = MonthlyPlanSubmission(
        slot_id=slot.id,
        club_id=club.id,
        title=plan.title.strip(),
        klass=plan.activity_class,
        theme=plan.theme or slot.theme,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        place=plan.place,
        expected_participants=plan.expected_participants,
        budget=plan.budget,
        subsidy_requested=plan.subsidy_requested,
        submitted_by=submitted_by,
        submitted_at=now,
        status=SubmissionStatus.submitted,
    )
    session.add(row)
    slot.status = move(SLOT_MOVES, slot.status, SlotStatus.submitted)
    session.flush()
    return row


def list_submitted_plans(
    *, session: Session, quarter: str | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(submission id, proposal payload) for every submission not yet proposed, oldest first.

    The payload has the fields of domain.activities.ActivityProposal, so the activity
    lifecycle validates and proposes it as if the club admin had filled in its form."""
    query = (
        select(MonthlyPlanSubmission, Club.code, Club.region_code)
        .join(Club, Club.id == MonthlyPlanSubmission.club_id)
        .join(ClubSlot, ClubSlot.id == MonthlyPlanSubmission.slot_id)
        .where(MonthlyPlanSubmission.status == SubmissionStatus.submitted)
        .order_by(MonthlyPlanSubmission.submitted_at, MonthlyPlanSubmission.id)
    )
    if quarter is not None:
        query = query.where(ClubSlot.quarter == quarter)
    out = []
    for sub, club_code, region_code in session.execute(query).all():
        out.append(
            (
                sub.id,
                {
                    "title": sub.title,
                    "activity_class": sub.klass,
                    "theme": sub.theme,
                    "region": region_code,
                    "club": club_code,
                    "starts_on": sub.starts_on,
                    "ends_on": sub.ends_on,
                    "place": sub.place,
                    "expected_participants": sub.expected_participants,
                    "budget": list(sub.budget),
                    "subsidy_requested": sub.subsidy_requested,
                    "invited_regions": [],
                    "proposed_by": sub.submitted_by,
                    "late": False,
                },
            )
        )
    return out


def crossing_proposal_for(*, session: Session, quarter: str, proposed_by: str) -> dict[str, Any]:
    """The stored plan's crossing as a class B proposal of its organising club, inviting the
    other six regions (domain.planning.crossing_proposal)."""
    record = session.execute(
        select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == quarter)
    ).scalar_one_or_none()
    hosting = session.execute(
        select(RotationHosting).where(RotationHosting.quarter == quarter)
    ).scalar_one_or_none()
    if record is None or hosting is None:
        raise SubmissionError(f"quarter {quarter}: no plan stored")
    crossing = CrossingPlan(
        quarter=Quarter.parse(quarter),
        region=record.crossing_region,
        region_zh=region_info(record.crossing_region).name_zh,
        theme=record.crossing_theme,
        month=record.crossing_month,
        starts_on=record.crossing_starts_on,
        ends_on=record.crossing_ends_on,
        on_cycle=hosting.on_cycle,
        cycle=hosting.cycle,
        override=hosting.override,
        reason=hosting.reason,
        organiser_club=record.crossing_club,
    )
    return crossing_proposal(crossing, proposed_by=proposed_by)


def mark_plan_proposed(*, session: Session, submission_id: int, activity_code: str) -> bool:
    """Link a submission to the activity it became; False if it was linked already."""
    result = session.execute(
        update(MonthlyPlanSubmission)
        .where(
            MonthlyPlanSubmission.id == submission_id,
            # Only from a status the table lets become `proposed`: a second call is a no-op.
            MonthlyPlanSubmission.status.in_(
                moves_into(SUBMISSION_MOVES, SubmissionStatus.proposed)
            ),
        )
        .values(status=SubmissionStatus.proposed, activity_code=activity_code)
    )
    return result.rowcount == 1


list_submitted_plans_task = data_task(list_submitted_plans, retries=2)
mark_plan_proposed_task = data_task(mark_plan_proposed, retries=2)
