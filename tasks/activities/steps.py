"""The @task wrappers the activity flows call: each opens one transaction, does its data
function, and queues that step's notifications in the same transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.activities import ActivityProposal, ProposalRefused, WarmupPlan
from domain.subsidy import LineDecision
from tasks.activities.checkin import (
    CheckinError,
    CheckinReport,
    CheckinRow,
    check_in,
    register_members,
)
from tasks.activities.claims import (
    ClaimInput,
    ClaimRefused,
    ClaimView,
    check_claim_decision,
    claim_markdown,
    decide_claim,
    file_claim,
    mark_paid,
    read_claim,
)
from tasks.activities.points import PointsReport, issue_points
from tasks.activities.recap import RecapInput, RecapView, file_recap, render_recap
from tasks.activities.store import (
    ActivityError,
    ActivityView,
    approve_activity,
    get_activity,
    mark_in_review,
    read_activity,
    record_review_outcome,
    register_proposal,
)
from tasks.outbox import NotificationRequest, load_channels, queue_notifications

# A refusal is an answer, not a glitch: retrying it would only repeat it.
REFUSALS = (ProposalRefused, ActivityError, CheckinError, ClaimRefused, LookupError)


def _retry_unless_refused(task, task_run, state) -> bool:
    try:
        state.result()
    except REFUSALS:
        return False
    except Exception:  # noqa: BLE001 - anything else (database busy, API down) is retried
        return True
    return False


RETRY = {"retries": 2, "retry_delay_seconds": [2, 10], "retry_condition_fn": _retry_unless_refused}


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("clubflow.activities")


def _queue(session, requests: list[NotificationRequest], now: datetime) -> None:
    if requests:
        queue_notifications(
            session=session,
            requests=requests,
            now=now,
            settings=get_settings(),
            channels=load_channels(),
        )


@task(name="read-activity", cache_policy=NO_CACHE, **RETRY)
def read_activity_task(code: str) -> ActivityView:
    with session_scope(get_settings().database_url) as session:
        return read_activity(session=session, code=code)


@task(name="register-proposal", cache_policy=NO_CACHE, **RETRY)
def register_proposal_task(proposal: ActivityProposal, now: datetime | None = None) -> ActivityView:
    """Store the proposal or refuse it naming each field (unknown club, past start, overlap...)."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        activity = register_proposal(session=session, proposal=proposal, now=now, settings=settings)
    _logger().info("activity %s registered (%s, round %s)", activity.code, activity.status,
                   activity.review_round)  # fmt: skip
    return activity


@task(name="start-review", cache_policy=NO_CACHE, **RETRY)
def mark_in_review_task(code: str) -> ActivityView:
    with session_scope(get_settings().database_url) as session:
        return mark_in_review(session=session, code=code)


@task(name="record-review-outcome", cache_policy=NO_CACHE, **RETRY)
def record_review_outcome_task(
    code: str, step_key: str, outcome: str, decider: str, comment: str, now: datetime | None = None
) -> ActivityView:
    """A send-back or rejection: the activity leaves review and the organiser is told why."""
    now = now or datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        activity, requests = record_review_outcome(
            session=session,
            code=code,
            step_key=step_key,
            outcome=outcome,
            decider=decider,
            comment=comment,
        )
        _queue(session, requests, now)
    return activity


@task(name="approve-activity", cache_policy=NO_CACHE, **RETRY)
def approve_activity_task(
    code: str, now: datetime | None = None
) -> tuple[ActivityView, WarmupPlan]:
    """Derive the dated steps; announce now if the window is open or passed; cancel after start."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        activity, plan, requests = approve_activity(
            session=session, code=code, now=now, settings=settings
        )
        _queue(session, requests, now)
    _logger().info("activity %s: %s (%s)", code, plan.action, plan.reason)
    return activity, plan


@task(name="register-members", cache_policy=NO_CACHE, **RETRY)
def register_members_task(code: str, member_nos: list[str], now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        return register_members(session=session, code=code, member_nos=member_nos, now=now)


@task(name="check-in-members", cache_policy=NO_CACHE, **RETRY)
def check_in_task(
    code: str, rows: list[CheckinRow], now: datetime | None = None, source: str = "csv"
) -> CheckinReport:
    now = now or datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        report = check_in(session=session, code=code, rows=rows, now=now, source=source)
    _logger().info(
        "activity %s: %s rows, %s new check-ins (%s registered on the spot), %s participants",
        code,
        report.rows,
        report.newly_checked_in,
        report.newly_registered,
        report.participants,
    )
    return report


@task(name="file-recap", cache_policy=NO_CACHE, **RETRY)
def file_recap_task(code: str, recap: RecapInput, now: datetime | None = None) -> RecapView:
    now = now or datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        return file_recap(session=session, code=code, recap=recap, now=now)


@task(name="render-recap", cache_policy=NO_CACHE, **RETRY)
def render_recap_task(code: str) -> tuple[str, str]:
    """The recap report as markdown (returned for the artifact) and as an HTML file."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        markdown, path = render_recap(
            session=session, code=code, reports_dir=Path(settings.reports_dir)
        )
    return markdown, str(path)


@task(name="file-claim", cache_policy=NO_CACHE, **RETRY)
def file_claim_task(code: str, claim: ClaimInput, now: datetime | None = None) -> ClaimView:
    """Store the claim with the rules engine's proposal on every line (only after the recap)."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        return file_claim(
            session=session, code=code, claim=claim, now=now, policy=settings.subsidy_policy
        )


@task(name="check-claim-decision", cache_policy=NO_CACHE, **RETRY)
def check_claim_decision_task(code: str, decisions: list[LineDecision]) -> list[str]:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        return check_claim_decision(
            session=session, code=code, decisions=decisions, policy=settings.subsidy_policy
        )


@task(name="decide-claim", cache_policy=NO_CACHE, **RETRY)
def decide_claim_task(
    code: str,
    decider: str,
    outcome: str,
    decisions: list[LineDecision],
    comment: str = "",
    now: datetime | None = None,
) -> ClaimView:
    """Apply the line-by-line decision and send the club its decision table."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope(settings.database_url) as session:
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
        _queue(session, requests, now)
    return claim


@task(name="claim-decision-table", cache_policy=NO_CACHE, **RETRY)
def claim_markdown_task(code: str) -> str:
    with session_scope(get_settings().database_url) as session:
        activity = read_activity(session=session, code=code)
        return claim_markdown(activity, read_claim(session=session, code=code))


@task(name="mark-claim-paid", cache_policy=NO_CACHE, **RETRY)
def mark_paid_task(
    code: str, paid_by: str, payment_ref: str, now: datetime | None = None
) -> ClaimView:
    now = now or datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        claim, requests = mark_paid(
            session=session, code=code, paid_by=paid_by, payment_ref=payment_ref, now=now
        )
        _queue(session, requests, now)
    return claim


@task(name="issue-points", cache_policy=NO_CACHE, **RETRY)
def issue_points_task(code: str, now: datetime | None = None) -> PointsReport:
    """Points for one activity now (the sweep does this on the points date by itself)."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        activity = get_activity(session=session, code=code)
        return issue_points(session=session, activity=activity, now=now, settings=settings)
