"""The tier privileges HQ edits, as data."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


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
