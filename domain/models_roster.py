"""The call agents' roster: a day recorded for an agent (a day off, night cover on a peak
date). No row means on duty that day, without night cover."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class AgentRosterDay(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("agent_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="person.id", index=True)
    day: date = Field(index=True)
    on_duty: bool = True
    night: bool = False  # covers the night of a peak date (the service runs 24 hours)
    set_by: str = Field(max_length=64)
    set_at: datetime = ts_field(nullable=False)
