"""Tables of the tiers area: a member's purchases (the purchase route to silver/gold) and
the tier privileges HQ edits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class MemberPurchase(SQLModel, table=True):
    """One purchase by a member at a dealer (yuan); `ref` is the dealer system's key, so a
    purchase read twice is stored once. Summed over 365 days for the purchase route."""

    __tablename__ = "member_purchase"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    ref: str = Field(unique=True, max_length=128)
    amount_yuan: float
    occurred_at: datetime = ts_field(nullable=False, index=True)


class TierPrivilege(SQLModel, table=True):
    """One privilege of a tier, as data: (tier, code) is unique; `value` is what HQ sets
    (a count, a yes/no, a text)."""

    __tablename__ = "tier_privilege"
    __table_args__ = (sa.UniqueConstraint("tier", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    tier: str = Field(max_length=16, index=True)
    code: str = Field(max_length=64)
    name: str
    value: str = ""
    updated_by: str | None = None
    updated_at: datetime | None = ts_field()
