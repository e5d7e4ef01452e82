"""Refusals of actions outside a gate (a gate's refusals are `decision` rows): who tried to
change what, and why it was refused. Every role check that says no writes one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class Refusal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(index=True, max_length=64)  # e.g. campaign.amend, activity.checkin
    subject: str = Field(index=True, max_length=128)  # e.g. campaign:2027-d11
    actor: str = Field(max_length=64)  # the username (or dealer:<code>) that was named
    reason: str
    details: dict[str, Any] = json_field(dict)
    refused_at: datetime = ts_field(nullable=False, default_now=True)
