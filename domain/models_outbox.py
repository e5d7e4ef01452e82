"""Tables beside the outbox: the health of each channel, and what operators did to it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from domain.models import ts_field


class ChannelHealth(SQLModel, table=True):
    """One row per channel (the server a message goes to), keyed by a hash: the URL is secret.

    `failing_since` is the first failure after the last success; `alerted_at` says role:ops was
    told about this outage (once per outage: a success clears both)."""

    __tablename__ = "channel_health"

    key: str = Field(primary_key=True, max_length=32)
    label: str  # scheme and server only, never a token or a phone
    failing_since: datetime | None = ts_field()
    last_error: str | None = None
    last_success_at: datetime | None = ts_field()
    alerted_at: datetime | None = ts_field()


class OutboxAction(SQLModel, table=True):
    """An operator's retry of outbox messages, accepted or refused (with the reason)."""

    __tablename__ = "outbox_action"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field(nullable=False, default_now=True)
    actor: str
    action: str
    target: str  # the message ids, or "dead"
    accepted: bool
    reason: str | None = None
    count: int = 0
