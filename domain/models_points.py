"""Tables of points earned by spending and of their review.

Natural keys carry idempotency: one transaction per dealer-system transaction id, one budget
warning per month, one anomaly flag per (member, business day).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class MemberTransaction(SQLModel, table=True):
    """A purchase, service or parts bill from the dealer system, in yuan: the points it
    earned are the ledger row keyed `txn:<txn_id>`; tiers by purchase amount read it too."""

    __tablename__ = "member_transaction"
    __table_args__ = (sa.Index("ix_member_transaction_member_kind", "member_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(unique=True, max_length=100)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=16)  # purchase / service / parts
    amount_yuan: Decimal = Field(sa_type=sa.Numeric(14, 2))
    occurred_at: datetime = ts_field(nullable=False, index=True)
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    source: str = Field(default="import", max_length=32)  # import / feed
    recorded_at: datetime = ts_field(nullable=False, default_now=True)


class PointsBudgetWarning(SQLModel, table=True):
    """The month's warning to the campaign manager that issued points near the budget."""

    __tablename__ = "points_budget_warning"

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(unique=True)
    issued_points: int
    share: float
    warned_at: datetime = ts_field(nullable=False, default_now=True)


class PointsAnomaly(SQLModel, table=True):
    """A member whose points jumped beyond the threshold in one business day, for review."""

    __tablename__ = "points_anomaly"
    __table_args__ = (sa.UniqueConstraint("member_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    day: date = Field(index=True)
    points: int
    status: str = Field(default="open", max_length=16)  # open / cleared / confirmed
    reviewed_by: str | None = Field(default=None, max_length=64)
    reviewed_at: datetime | None = ts_field()
    note: str = ""
    flagged_at: datetime = ts_field(nullable=False, default_now=True)
