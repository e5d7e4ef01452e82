"""Subsidy claims (补贴申报) in the store: file with the engine's proposal per line, decide line
by line (partial approval), mark paid, and tell the club with the decision table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.models import Person, Recap, Role, SubsidyClaim, SubsidyLine
from domain.subsidy import (
    ClaimInput,
    ClaimLine,
    ClaimLineInput,
    ClaimProposal,
    ClaimStatus,
    LineDecision,
    LineProposal,
    SubsidyPolicy,
    check_decision,
    decided_amounts,
    move_claim,
    propose,
)
from tasks.activities.checkin import participant_count
from tasks.activities.refusals import RETRY, ClaimRefused
from tasks.activities.store import ActivityView, activity_link, get_activity, read_activity
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_checked_notifications


class ClaimLineView(BaseModel):
    line_no: int
    category: str
    description: str
    amount: float
    evidence: list[str]
    proposed_action: str | None
    proposed_amount: float | None
    proposal_reason: str | None
    proposal_rule: str | None
    decided_amount: float | None
    decision_comment: str | None


class ClaimView(BaseModel):
    id: int
    activity_code: str
    status: str
    total_requested: float
    total_proposed: float | None
    total_approved: float | None
    submitted_by: str
    decided_by: str | None
    paid_by: str | None
    payment_ref: str | None
    lines: list[ClaimLineView]


def _claim_row(*, session: Session, activity_id: int) -> SubsidyClaim | None:
    return session.execute(
        select(SubsidyClaim).where(SubsidyClaim.activity_id == activity_id)
    ).scalar_one_or_none()


def _lines(*, session: Session, claim_id: int) -> list[SubsidyLine]:
    return list(
        session.execute(
            select(SubsidyLine)
            .where(SubsidyLine.claim_id == claim_id)
            .order_by(SubsidyLine.line_no)
        ).scalars()
    )


def read_claim(*, session: Session, code: str) -> ClaimView:
    activity = get_activity(session=session, code=code)
    claim = _claim_row(session=session, activity_id=activity.id)
    if claim is None:
        raise LookupError(f"activity {code} has no subsidy claim")
    lines = [
        ClaimLineView.model_validate(line, from_attributes=True)
        for line in _lines(session=session, claim_id=claim.id)
    ]
    return ClaimView(
        activity_code=code,
        lines=lines,
        **claim.model_dump(
            include={
                "id",
                "status",
                "total_requested",
                "total_proposed",
                "total_approved",
                "submitted_by",
                "decided_by",
                "paid_by",
                "payment_ref",
            }
        ),
    )


def file_claim(
    *, session: Session, code: str, claim: ClaimInput, now: datetime, policy: SubsidyPolicy
) -> ClaimView:
    """Store a claim with the engine's proposal on every line; only after the recap.

    Filing the same claim again returns it unchanged; a different one is refused.
    """
    activity = get_activity(session=session, code=code)
    existing = _claim_row(session=session, activity_id=activity.id)
    if existing is not None:
        stored = [
            ClaimLineInput(
                category=x.category, amount=x.amount, evidence=x.evidence, description=x.description
            )
            for x in _lines(session=session, claim_id=existing.id)
        ]
        if stored != claim.lines or existing.submitted_by != claim.submitted_by:
            raise ClaimRefused(f"activity {code} already has a claim ({existing.status})")
        return read_claim(session=session, code=code)
    recap = session.execute(
        select(Recap).where(Recap.activity_id == activity.id)
    ).scalar_one_or_none()
    if recap is None:
        raise ClaimRefused(f"activity {code}: no recap filed; a claim is accepted only with it")
    proposal = propose(
        [
            ClaimLine(n, line.category, line.amount, tuple(line.evidence), line.description)
            for n, line in enumerate(claim.lines, start=1)
        ],
        activity_class=str(activity.klass),
        participants=participant_count(session=session, activity_id=activity.id),
        recap_filed=True,
        policy=policy,
    )
    row = SubsidyClaim(
        activity_id=activity.id,
        status=ClaimStatus.submitted,
        total_requested=proposal.total_requested,
        total_proposed=proposal.total_proposed,
        submitted_by=claim.submitted_by,
        submitted_at=now,
    )
    session.add(row)
    session.flush()
    for line, p in zip(claim.lines, proposal.lines, strict=True):
        session.add(
            SubsidyLine(
                claim_id=row.id,
                line_no=p.line_no,
                category=line.category,
                description=line.description,
                amount=p.requested,
                evidence=list(line.evidence),
                proposed_action=p.action,
                proposed_amount=p.amount,
                proposal_reason=p.reason,
                proposal_rule=p.rule,
            )
        )
    session.flush()
    return read_claim(session=session, code=code)


def stored_proposal(*, session: Session, code: str, policy: SubsidyPolicy) -> ClaimProposal:
    """The engine's proposal as it was stored when the claim was filed."""
    activity = get_activity(session=session, code=code)
    claim = _claim_row(session=session, activity_id=activity.id)
    if claim is None:
        raise LookupError(f"activity {code} has no subsidy claim")
    klass = str(activity.klass)
    return ClaimProposal(
        activity_class=klass,
        participants=participant_count(session=session, activity_id=activity.id),
        total_cap=policy.classes[klass].total_cap,
        lines=tuple(
            LineProposal(
                line.line_no,
                line.category,
                line.amount,
                line.proposed_action,
                line.proposed_amount,
                line.proposal_rule,
                line.proposal_reason,
            )
            for line in _lines(session=session, claim_id=claim.id)
        ),
    )


def check_claim_decision(
    *, session: Session, code: str, decisions: list[LineDecision], policy: SubsidyPolicy
) -> list[str]:
    return check_decision(stored_proposal(session=session, code=code, policy=policy), decisions)


def decide_claim(
    *,
    session: Session,
    code: str,
    decider: str,
    outcome: str,
    decisions: list[LineDecision],
    comment: str,
    now: datetime,
    policy: SubsidyPolicy,
) -> tuple[ClaimView, list[NotificationRequest]]:
    """Apply the specialist's line-by-line decision (`reject` pays nothing) and tell the club
    and finance. A claim already decided is returned as it is."""
    activity = get_activity(session=session, code=code)
    claim = _claim_row(session=session, activity_id=activity.id)
    if claim is None:
        raise LookupError(f"activity {code} has no subsidy claim")
    if claim.status == ClaimStatus.submitted:
        proposal = stored_proposal(session=session, code=code, policy=policy)
        if outcome == "reject":
            decisions = [LineDecision(p.line_no, 0, comment) for p in proposal.lines]
        problems = check_decision(proposal, decisions)
        if problems:
            raise ClaimRefused(f"claim of {code}: " + "; ".join(problems))
        amounts = decided_amounts(proposal, decisions)
        comments = {d.line_no: d.comment for d in decisions}
        for line in _lines(session=session, claim_id=claim.id):
            line.decided_amount = amounts[line.line_no]
            line.decision_comment = comments.get(line.line_no) or line.proposal_reason
        claim.total_approved = round(sum(amounts.values()), 2)
        claim.status = move_claim(claim.status, ClaimStatus.decided)
        claim.decided_by = decider
        claim.decided_at = now
        session.flush()
    view = read_claim(session=session, code=code)
    return view, decision_notifications(
        session=session, activity=ActivityView.of(activity), claim=view
    )


def decision_notifications(
    *, session: Session, activity: ActivityView, claim: ClaimView
) -> list[NotificationRequest]:
    context = {**activity.context(), **claim_table_context(claim)}
    requests = [
        NotificationRequest(
            recipient=recipient,
            template="activity_claim_decision",
            context=context,
            idem_key=f"activity:{activity.id}:claim:decided:{recipient}",
        )
        for recipient in club_recipients(session=session, activity=activity)
    ]
    if (claim.total_approved or 0) > 0:
        requests.append(
            NotificationRequest(
                recipient="role:finance",
                template="activity_claim_payable",
                context=context,
                idem_key=f"activity:{activity.id}:claim:payable",
            )
        )
    return requests


def claim_review_requests(
    activity: ActivityView,
    claim: ClaimView,
    *,
    round_no: int = 1,
    problems: list[str] | None = None,
    settings: Settings,
    now: datetime,
) -> list[NotificationRequest]:
    """The specialist's notice of a claim to decide (round 2+: why the last answer was refused)."""
    return [
        NotificationRequest(
            recipient=f"role:regional_specialist:{activity.region_code}",
            template="activity_claim_review",
            context={
                **activity.context(),
                "total_requested": claim.total_requested,
                "total_proposed": claim.total_proposed or 0,
                "round": round_no,
                "problems": problems or [],
                # The gate of this round is not open yet: the activity's page links it.
                "link": activity_link(activity.code, settings=settings, now=now),
                "lines": [
                    {
                        "line_no": line.line_no,
                        "category": line.category,
                        "amount": line.amount,
                        "proposed": line.proposed_amount or 0,
                        "reason": line.proposal_reason or "",
                    }
                    for line in claim.lines
                ],
            },
            idem_key=f"activity:{activity.id}:claim:review:r{round_no}",
        )
    ]


def claim_table_context(claim: ClaimView) -> dict[str, Any]:
    return {
        "total_requested": claim.total_requested,
        "total_approved": claim.total_approved or 0,
        "decided_by": claim.decided_by or "",
        "lines": [
            {
                "line_no": line.line_no,
                "category": line.category,
                "amount": line.amount,
                "decided": line.decided_amount if line.decided_amount is not None else 0,
                "reason": line.decision_comment or line.proposal_reason or "",
            }
            for line in claim.lines
        ],
    }


def club_recipients(*, session: Session, activity: ActivityView) -> list[str]:
    """The club's admins (the organiser first), who receive the claim's outcome."""
    admins = []
    if activity.club_id is not None:
        admins = list(
            session.execute(
                select(Person.username)
                .where(Person.club_id == activity.club_id, Person.role == Role.club_admin)
                .order_by(Person.username)
            ).scalars()
        )
    ordered = [activity.proposed_by, *[a for a in admins if a != activity.proposed_by]]
    return [f"person:{username}" for username in ordered]


def mark_paid(
    *, session: Session, code: str, paid_by: str, payment_ref: str, now: datetime
) -> tuple[ClaimView, list[NotificationRequest]]:
    """Finance marks the approved total paid; the club is told. Twice changes nothing."""
    activity = get_activity(session=session, code=code)
    claim = _claim_row(session=session, activity_id=activity.id)
    if claim is None:
        raise LookupError(f"activity {code} has no subsidy claim")
    person = session.execute(select(Person).where(Person.username == paid_by)).scalar_one_or_none()
    if person is None or person.role != Role.finance:
        raise ClaimRefused(f"{paid_by!r} is not finance; only finance marks a claim paid")
    if claim.status == ClaimStatus.submitted:
        raise ClaimRefused(f"claim of {code} is not decided yet")
    if claim.status == ClaimStatus.decided:
        if not claim.total_approved:
            raise ClaimRefused(f"claim of {code} was approved at 0; nothing to pay")
        claim.status = move_claim(claim.status, ClaimStatus.paid)
        claim.paid_by = paid_by
        claim.paid_at = now
        claim.payment_ref = payment_ref
        session.flush()
    view = read_claim(session=session, code=code)
    activity_view = ActivityView.of(activity)
    requests = [
        NotificationRequest(
            recipient=f"person:{activity.proposed_by}",
            template="activity_claim_paid",
            context={
                **activity_view.context(),
                "total_approved": view.total_approved,
                "payment_ref": view.payment_ref or "",
                "paid_on": calendar.business_date(claim.paid_at).isoformat(),
            },
            idem_key=f"activity:{activity.id}:claim:paid",
        )
    ]
    return view, requests


def claim_markdown(activity: ActivityView, claim: ClaimView) -> str:
    """The decision table as markdown, for the claim's artifact."""
    from tasks.render import render

    return render(
        "reports/activity_claim.md.j2",
        {"activity": activity.context(), "claim": claim.model_dump(), **claim_table_context(claim)},
    )


# ---------------------------------------------------------------- steps and their tasks


def decide_claim_and_notify(
    *,
    session: Session,
    code: str,
    decider: str,
    outcome: str,
    decisions: list[LineDecision],
    comment: str = "",
    now: datetime,
    settings: Settings,
) -> ClaimView:
    """Apply the line-by-line decision and send the club its decision table."""
    claim, requests = decide_claim(
        session=session,
        code=code,
        decider=decider,
        outcome=outcome,
        decisions=decisions,
        comment=comment,
        now=now,
        policy=settings.subsidy_policy,
    )
    queue_checked_notifications(session=session, requests=requests, now=now, settings=settings)
    return claim


def mark_paid_and_notify(
    *,
    session: Session,
    code: str,
    paid_by: str,
    payment_ref: str,
    now: datetime,
    settings: Settings,
) -> ClaimView:
    claim, requests = mark_paid(
        session=session, code=code, paid_by=paid_by, payment_ref=payment_ref, now=now
    )
    queue_checked_notifications(session=session, requests=requests, now=now, settings=settings)
    return claim


def claim_decision_table(*, session: Session, code: str) -> str:
    """The claim's decision table as markdown."""
    activity = read_activity(session=session, code=code)
    return claim_markdown(activity, read_claim(session=session, code=code))


@task(name="publish-claim")
def publish_claim(activity: ActivityView, markdown: str, description: str) -> None:
    """The claim's decision table as the activity's claim artifact (one key per activity)."""
    create_markdown_artifact(
        key=f"activity-{activity.code.lower()}-claim",
        markdown=markdown,
        description=f"{activity.run_label}: {description}",
    )


file_claim_task = data_task(file_claim, **RETRY)
check_claim_decision_task = data_task(check_claim_decision, **RETRY)
decide_claim_task = data_task(decide_claim_and_notify, name="decide-claim", **RETRY)
claim_markdown_task = data_task(claim_decision_table, **RETRY)
mark_paid_task = data_task(mark_paid_and_notify, name="mark-claim-paid", **RETRY)
