"""Tables of the rewards area: the catalogue HQ keeps, and the vouchers members redeem.

A voucher's code is its natural key (unguessable, from `secrets`); a redemption's ledger row
is keyed by the voucher, so it is spent once; `request_key` makes a replayed form a no-op.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class Reward(SQLModel, table=True):
    """One thing points buy: a car wash, a maintenance voucher, labour-hour credit..."""

    __table_args__ = (sa.CheckConstraint("stock >= 0", name="ck_reward_stock"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    name: str
    kind: str = Field(max_length=32)  # domain.rewards.REWARD_KINDS
    points: int  # its price in points
    stock: int = 0  # vouchers left to issue; never below 0
    valid_from: date  # redeemable from this business day...
    valid_to: date  # ...to this one (inclusive)
    voucher_days: int  # a voucher works this many days from its issue (inclusive)
    refund_on_expiry: bool = False  # an unused voucher gives its points back
    active: bool = True
    updated_by: str = ""
    updated_at: datetime | None = ts_field()


class Voucher(SQLModel, table=True):
    """A redeemed reward: issued to a member, written off once at the dealer, or expired."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    reward_id: int = Field(foreign_key="reward.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    points: int  # what it cost (the reward's price that day)
    status: str = Field(default="issued", index=True, max_length=16)  # issued/written_off/expired
    issued_at: datetime = ts_field(nullable=False)
    issued_by: str  # member:<no>, or the staff member who redeemed on the member's behalf
    valid_until: date = Field(index=True)  # last business day it may be written off
    request_key: str | None = Field(default=None, unique=True, max_length=64)
    written_off_at: datetime | None = ts_field()
    written_off_by: str | None = None
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    expired_at: datetime | None = ts_field()
    refunded_points: int = 0
