"""Writing a voucher off at the dealer: once, within its validity, by the dealer's staff.

The write-off is one conditional update (`... WHERE status = 'issued' AND valid_until >= day`):
of two counters typing the same code at once, one writes it off and the other is told when
and by whom it already was. Every refusal is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from domain.calendar import business_date
from domain.models import Member
from domain.models_rewards import Reward, Voucher
from domain.rewards import normalise_code, writeoff_actor_refusal, writeoff_refusal
from tasks.audit import actor_of, record_refusal


@dataclass(frozen=True)
class WriteoffOutcome:
    voucher: Voucher | None
    reward: Reward | None = None
    member: Member | None = None
    refused: str | None = None


def find_voucher(*, session: Session, code: str) -> tuple[Voucher, Reward, Member] | None:
    row = session.execute(
        select(Voucher, Reward, Member)
        .join(Reward, Reward.id == Voucher.reward_id)
        .join(Member, Member.id == Voucher.member_id)
        .where(Voucher.code == normalise_code(code))
    ).first()
    return tuple(row) if row else None


def write_off_voucher(*, session: Session, code: str, by: str, now: datetime) -> WriteoffOutcome:
    """Write off the voucher `code` (as typed: case and dashes do not matter) for `by`."""
    actor = actor_of(session=session, username=by)
    day = business_date(now)
    found = find_voucher(session=session, code=code)

    def refused(reason: str) -> WriteoffOutcome:
        # The subject names the voucher by id, never by its code.
        subject = f"voucher:{found[0].id}" if found else "voucher:(unknown code)"
        record_refusal(
            session=session,
            action="voucher.writeoff",
            subject=subject,
            actor=by,
            reason=reason,
            now=now,
        )
        return WriteoffOutcome(*(found or (None,)), refused=reason)

    reason = writeoff_actor_refusal(actor, username=by)
    if reason:
        return refused(reason)
    if found is None:
        return refused("no voucher with this code")
    voucher = found[0]
    done = session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.status == "issued",
            Voucher.valid_until >= day,
        )
        .values(
            status="written_off",
            written_off_at=now,
            written_off_by=by,
            dealer_id=actor.dealer_id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(voucher)
    if done != 1:
        written = voucher.written_off_at
        return refused(
            writeoff_refusal(
                status=voucher.status,
                valid_until=voucher.valid_until,
                written_off_on=business_date(written) if written else None,
                written_off_by=voucher.written_off_by,
                day=day,
            )
            or "the voucher cannot be written off"
        )
    return WriteoffOutcome(*found)
