"""Tables of the activities area beyond the core ones in domain/models.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class ActivityArchive(SQLModel, table=True):
    """归档: one frozen snapshot per activity (plan, decisions, participants, recap, claim)."""

    __tablename__ = "activity_archive"

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", unique=True)
    snapshot: dict[str, Any] = json_field(dict)
    archived_at: datetime = ts_field(nullable=False, default_now=True)
