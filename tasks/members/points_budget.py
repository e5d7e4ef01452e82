"""The points budget and the anomaly check (HQ's view of the ledger).

- Budget: points issued (positive rows) and redeemed (negative rows whose reason starts with
  "redeem") in a month, valued at the exchange rate against the monthly budget; the campaign
  manager is warned once a month (`PointsBudgetWarning`) when the value issued reaches the
  warning share.
- Anomaly: a member who gained more than the threshold in one business day is flagged once
  (`PointsAnomaly`, unique per member and day) and HQ is told; HQ reviews each flag as
  cleared or confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.members import zh_date
from domain.models import Member, PointsEntry
from domain.models_points import PointsAnomaly, PointsBudgetWarning
from domain.permissions import role_refusal
from domain.points_earn import (
    REDEEM_PREFIX,
    REVIEW_OUTCOMES,
    BudgetMonth,
    day_bounds,
    is_anomaly,
    month_bounds,
    month_start,
)
from tasks.audit import actor_of, record_refusal
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_notifications

REVIEW_ROLES = ("campaign_manager", "finance")


class ReviewRefused(Exception):
    pass


def budget_month(*, session: Session, month: date, settings: Settings) -> BudgetMonth:
    start, end = month_bounds(month)
    in_month = (PointsEntry.occurred_at >= start, PointsEntry.occurred_at < end)
    issued = session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.amount > 0, *in_month
        )
    ).scalar_one()
    redeemed = session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.amount < 0, PointsEntry.reason.startswith(REDEEM_PREFIX), *in_month
        )
    ).scalar_one()
    return BudgetMonth(
        month=month_start(month),
        issued_points=int(issued),
        redeemed_points=-int(redeemed),
        yuan_per_point=settings.points_yuan_per_point,
        budget_yuan=settings.points_monthly_budget_yuan,
    )


def warn_budget(
    *, session: Session, day: date, now: datetime, settings: Settings
) -> tuple[BudgetMonth, bool]:
    """The month of `day` so far; warns the campaign manager once when past the share."""
    month = budget_month(session=session, month=day, settings=settings)
    if not month.warns(settings.points_budget_warn_share):
        return month, False
    new = insert_ignoring_conflicts(
        session,
        PointsBudgetWarning,
        [
            {
                "month": month.month,
                "issued_points": month.issued_points,
                "share": month.share,
                "warned_at": now,
            }
        ],
        on=["month"],
    )
    if not new:
        return month, False
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=settings.points_budget_notify,
                template="points_budget_warning",
                context={
                    "month": f"{month.month.year}年{month.month.month}月",
                    "day": zh_date(day),
                    "issued": month.issued_points,
                    "issued_yuan": month.issued_yuan,
                    "redeemed": month.redeemed_points,
                    "redeemed_yuan": month.redeemed_yuan,
                    "budget_yuan": month.budget_yuan,
                    "share": round(month.share * 100, 1),
                    "warn": round(settings.points_budget_warn_share * 100),
                    "link": f"{settings.portal_url}/points/budget",
                },
                idem_key=f"points-budget:{month.month.isoformat()}",
            )
        ],
        now=now,
        settings=settings,
    )
    return month, True


@dataclass
class AnomalyReport:
    day: date
    flagged: list[str] = field(default_factory=list)


def flag_anomalies(
    *, session: Session, day: date, now: datetime, settings: Settings
) -> AnomalyReport:
    """Flag members whose points gained on `day` pass the threshold; tell HQ once."""
    start, end = day_bounds(day)
    gained = session.execute(
        select(PointsEntry.member_id, func.sum(PointsEntry.amount))
        .where(
            PointsEntry.amount > 0, PointsEntry.occurred_at >= start, PointsEntry.occurred_at < end
        )
        .group_by(PointsEntry.member_id)
    ).all()
    rows = [
        {
            "member_id": mid,
            "day": day,
            "points": int(total),
            "flagged_at": now,
            "status": "open",
            "note": "",
        }
        for mid, total in gained
        if is_anomaly(int(total), settings.points_anomaly_threshold)
    ]
    new_ids = insert_ignoring_conflicts(session, PointsAnomaly, rows, on=["member_id", "day"])
    report = AnomalyReport(day=day)
    if not new_ids:
        return report
    flags = session.execute(
        select(Member.member_no, Member.name, PointsAnomaly.points)
        .join(Member, Member.id == PointsAnomaly.member_id)
        .where(PointsAnomaly.id.in_(new_ids))
        .order_by(PointsAnomaly.points.desc(), Member.member_no)
    ).all()
    report.flagged = [no for no, _, _ in flags]
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=settings.points_anomaly_notify,
                template="points_anomaly",
                context={
                    "day": zh_date(day),
                    "count": len(flags),
                    "threshold": settings.points_anomaly_threshold,
                    "flags": [{"member_no": n, "name": nm, "points": p} for n, nm, p in flags],
                    "link": f"{settings.portal_url}/points/budget",
                },
                idem_key=f"points-anomaly:{day.isoformat()}:{min(new_ids)}",
            )
        ],
        now=now,
        settings=settings,
    )
    return report


@dataclass(frozen=True)
class AnomalyView:
    id: int
    member_no: str
    name: str
    day: date
    points: int
    status: str
    reviewed_by: str | None


def list_anomalies(*, session: Session, status: str | None = "open") -> list[AnomalyView]:
    query = (
        select(
            PointsAnomaly.id,
            Member.member_no,
            Member.name,
            PointsAnomaly.day,
            PointsAnomaly.points,
            PointsAnomaly.status,
            PointsAnomaly.reviewed_by,
        )
        .join(Member, Member.id == PointsAnomaly.member_id)
        .order_by(PointsAnomaly.day.desc(), PointsAnomaly.points.desc())
    )
    if status:
        query = query.where(PointsAnomaly.status == status)
    return [AnomalyView(*row) for row in session.execute(query).all()]


def review_anomaly(
    *, session: Session, flag_id: int, outcome: str, username: str, note: str, now: datetime
) -> PointsAnomaly:
    """HQ marks a flag cleared or confirmed; anyone else is refused (the refusal recorded
    by the caller, after this transaction rolls back)."""
    reason = role_refusal(
        actor_of(session=session, username=username),
        username=username,
        roles=REVIEW_ROLES,
        action="reviewing points anomalies",
    )
    if reason:
        raise ReviewRefused(reason)
    if outcome not in REVIEW_OUTCOMES:
        raise ReviewRefused(f"outcome {outcome!r} is not one of {', '.join(REVIEW_OUTCOMES)}")
    flag = session.get(PointsAnomaly, flag_id)
    if flag is None:
        raise ReviewRefused(f"anomaly flag {flag_id} is unknown")
    if flag.status != "open":
        raise ReviewRefused(f"anomaly flag {flag_id} is already {flag.status}")
    flag.status, flag.reviewed_by, flag.reviewed_at, flag.note = outcome, username, now, note
    session.flush()
    return flag


def record_review_refusal(
    *, session: Session, flag_id: int, username: str, reason: str, now: datetime
) -> None:
    record_refusal(
        session=session,
        action="members.points_anomaly",
        subject=f"anomaly:{flag_id}",
        actor=username,
        reason=reason,
        now=now,
    )


warn_budget_task = data_task(warn_budget)
flag_anomalies_task = data_task(flag_anomalies)
