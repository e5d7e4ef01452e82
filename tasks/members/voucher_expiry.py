"""Vouchers past their last day: marked expired, their points returned where the reward's
policy says so (a positive ledger row keyed by the voucher), the member told once.

Each voucher expires by one conditional update (`... WHERE status = 'issued'`): a write-off
at the counter and the expiry run never both win, and a second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import select, update
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.members import recipient, zh_date
from domain.models import Member
from domain.models_rewards import Reward, Voucher
from domain.rewards import mask_code, refund_points
from tasks.common import data_task, run_logger
from tasks.members.ledger import grant_points, recompute_members
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class VoucherExpiryReport:
    vouchers: int = 0
    refunded_vouchers: int = 0
    refunded_points: int = 0
    members: list[str] = field(default_factory=list)


def expire_vouchers(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> VoucherExpiryReport:
    """Expire every issued voucher whose last day is before `as_of` (a business date)."""
    report = VoucherExpiryReport()
    due = session.execute(
        select(Voucher, Reward, Member)
        .join(Reward, Reward.id == Voucher.reward_id)
        .join(Member, Member.id == Voucher.member_id)
        .where(Voucher.status == "issued", Voucher.valid_until < as_of)
        .order_by(Voucher.id)
    ).all()
    expired = []
    for voucher, reward, member in due:
        back = refund_points(points=voucher.points, refund_on_expiry=reward.refund_on_expiry)
        won = session.execute(
            update(Voucher)
            .where(Voucher.id == voucher.id, Voucher.status == "issued")
            .values(status="expired", expired_at=now, refunded_points=back)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            continue  # written off (or expired by another run) meanwhile
        expired.append((voucher, reward, member, back))
    rows = [
        {
            "member_id": member.id,
            "amount": back,
            "reason": f"voucher-refund:{reward.code}",
            "idem_key": f"voucher-refund:{voucher.id}",
            "occurred_at": now,
        }
        for voucher, reward, member, back in expired
        if back
    ]
    if rows:
        grant_points(session=session, rows=rows, settings=settings)
    member_ids = {member.id for _, _, member, _ in expired}
    if member_ids:
        recompute_members(session=session, member_ids=member_ids, now=now, settings=settings)
    balances = (
        dict(
            session.execute(select(Member.id, Member.points).where(Member.id.in_(member_ids))).all()
        )
        if member_ids
        else {}
    )
    requests = []
    for voucher, reward, member, back in expired:
        report.vouchers += 1
        if back:
            report.refunded_vouchers += 1
            report.refunded_points += back
        if member.member_no not in report.members:
            report.members.append(member.member_no)
        requests.append(
            NotificationRequest(
                recipient=recipient(member.member_no),
                template="member_voucher_expired",
                context={
                    "name": member.name,
                    "reward": reward.name,
                    "masked_code": mask_code(voucher.code),
                    "valid_until": zh_date(voucher.valid_until),
                    "refunded": back,
                    "balance": balances[member.id],
                },
                idem_key=f"voucher:{voucher.id}:expired",
            )
        )
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    run_logger("members").info(
        "%d vouchers expired, %d points returned", report.vouchers, report.refunded_points
    )
    return report


@task(name="publish-voucher-expiry")
def publish_voucher_expiry(as_of: date, report: VoucherExpiryReport) -> None:
    create_markdown_artifact(
        key="members-voucher-expiry",
        markdown=(
            f"# Voucher expiry {as_of.isoformat()}\n\n"
            f"- vouchers expired: {report.vouchers}\n"
            f"- points returned: {report.refunded_points} ({report.refunded_vouchers} vouchers)\n"
            f"- members told: {len(report.members)}\n"
        ),
        description=f"Vouchers expired on {as_of.isoformat()}",
    )


expire_vouchers_task = data_task(expire_vouchers, retries=2, retry_delay_seconds=5)
