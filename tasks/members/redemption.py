"""Redeeming a reward in the store: one voucher, one negative ledger row, one message.

Exactly once under concurrency: in one transaction the reward's stock and the member's
balance are taken by conditional updates (`... WHERE stock > 0`, `... WHERE points >= price`).
On PostgreSQL the first update locks the row and a second request waits, then sees the new
value; on SQLite the first write locks the database. So of two requests for the last item or
the last points one wins and the other is refused with the reason; a refused request puts
back what it took in its own transaction, before anything else sees it.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.members import recipient, zh_date
from domain.models import Member, PointsEntry
from domain.models_rewards import Reward, Voucher
from domain.rewards import (
    format_code,
    redeem_actor_refusal,
    redeem_refusal,
    voucher_valid_until,
)
from tasks.audit import actor_of, record_refusal
from tasks.members.ledger import grant_points, recompute_members
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass(frozen=True)
class RedeemOutcome:
    voucher: Voucher | None
    balance: int
    refused: str | None = None
    replayed: bool = False  # the same request key came again: its voucher, nothing new


def new_voucher_code(settings: Settings) -> str:
    """Unguessable: `rewards_code_bytes` random bytes from `secrets`, base32, in fours."""
    raw = base64.b32encode(secrets.token_bytes(settings.rewards_code_bytes)).decode()
    return format_code(raw.rstrip("="))


def ledger_balance(*, session: Session, member_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.member_id == member_id
        )
    ).scalar_one()
    return int(total)


def redeem_reward(
    *,
    session: Session,
    member_no: str,
    reward_code: str,
    by: str,
    now: datetime,
    settings: Settings,
    request_key: str | None = None,
) -> RedeemOutcome:
    """Redeem `reward_code` for `member_no`, by the member (`member:<no>`) or staff.

    Returns the voucher, or the refusal (recorded in this session: the caller commits).
    """
    subject = f"member:{member_no}"
    member = session.execute(
        select(Member).where(Member.member_no == member_no)
    ).scalar_one_or_none()
    reward = session.execute(select(Reward).where(Reward.code == reward_code)).scalar_one_or_none()

    def refused(reason: str) -> RedeemOutcome:
        record_refusal(
            session=session,
            action="reward.redeem",
            subject=subject[:128],
            actor=by,
            reason=reason,
            now=now,
            details={"reward": reward_code},
        )
        return RedeemOutcome(None, member.points if member else 0, refused=reason)

    reason = redeem_actor_refusal(
        actor_of(session=session, username=by), username=by, member_no=member_no
    )
    if reason:
        return refused(reason)
    if member is None:
        return refused(f"no member {member_no!r}")
    if reward is None:
        return refused(f"no reward {reward_code!r}")
    if request_key:
        earlier = session.execute(
            select(Voucher).where(Voucher.request_key == request_key)
        ).scalar_one_or_none()
        if earlier is not None and earlier.member_id == member.id:
            return RedeemOutcome(earlier, member.points, replayed=True)
    day = business_date(now)
    reason = redeem_refusal(
        active=reward.active,
        valid_from=reward.valid_from,
        valid_to=reward.valid_to,
        stock=reward.stock,
        price=reward.points,
        balance=member.points,
        member_status=member.status,
        day=day,
    )
    if reason:
        return refused(reason)

    price = reward.points
    # The race-safe checks: each takes what it needs only if it is still there.
    took_stock = session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock > 0, Reward.active.is_(True))
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took_stock != 1:
        session.refresh(member)
        return refused("the reward is out of stock")
    took_points = session.execute(
        update(Member)
        .where(Member.id == member.id, Member.points >= price)
        .values(points=Member.points - price)
        .execution_options(synchronize_session=False)
    ).rowcount
    balance = ledger_balance(session=session, member_id=member.id)
    if took_points != 1 or balance < price:
        session.execute(
            update(Reward)
            .where(Reward.id == reward.id)
            .values(stock=Reward.stock + 1)
            .execution_options(synchronize_session=False)
        )
        if took_points == 1:
            session.execute(
                update(Member)
                .where(Member.id == member.id)
                .values(points=Member.points + price)
                .execution_options(synchronize_session=False)
            )
        session.refresh(member)
        session.refresh(reward)
        return refused(f"not enough points: the reward costs {price}, the balance is {balance}")

    voucher = Voucher(
        code=new_voucher_code(settings),
        reward_id=reward.id,
        member_id=member.id,
        points=price,
        status="issued",
        issued_at=now,
        issued_by=by,
        valid_until=voucher_valid_until(day, reward.voucher_days),
        request_key=request_key,
    )
    session.add(voucher)
    session.flush()
    # Reason starts with "redeem" (the points budget counts these); keyed by the voucher.
    grant_points(
        session=session,
        rows=[
            {
                "member_id": member.id,
                "amount": -price,
                "reason": f"redeem:{reward.code}",
                "idem_key": f"redeem:voucher:{voucher.id}",
                "occurred_at": now,
            }
        ],
        settings=settings,
    )
    recompute_members(session=session, member_ids=[member.id], now=now, settings=settings)
    session.refresh(member)
    session.refresh(reward)
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=recipient(member.member_no),
                template="member_voucher_issued",
                context={
                    "name": member.name,
                    "points": price,
                    "reward": reward.name,
                    "code": voucher.code,
                    "valid_until": zh_date(voucher.valid_until),
                    "balance": member.points,
                },
                idem_key=f"voucher:{voucher.id}:issued",
            )
        ],
        now=now,
        settings=settings,
    )
    return RedeemOutcome(voucher, member.points)
