"""The portal's tables: one-time sign-in codes, sessions, sign-in attempts (for the rate
limit), the audit trail of every portal action, and claim evidence files."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class SignInCode(SQLModel, table=True):
    """A one-time sign-in code sent through the person's own channel; stored hashed."""

    id: int | None = Field(default=None, primary_key=True)
    who: str = Field(index=True, max_length=80)  # person:<username> or member:<member_no>
    code_hash: str = Field(max_length=128)
    created_at: datetime = ts_field(nullable=False, default_now=True)
    expires_at: datetime = ts_field(nullable=False)
    used_at: datetime | None = ts_field()
    attempts: int = 0


class PortalSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries the signed token; the row lets sign-out and
    expiry end it on the server too."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=128)
    who: str = Field(index=True, max_length=80)
    csrf: str = Field(max_length=64)
    created_at: datetime = ts_field(nullable=False, default_now=True)
    expires_at: datetime = ts_field(nullable=False)
    signed_out_at: datetime | None = ts_field()
    ip: str = Field(default="", max_length=64)


class SignInAttempt(SQLModel, table=True):
    """One attempt to sign in or to ask for a code, by who was named and from where."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=128)  # who:<name> or ip:<address>
    at: datetime = ts_field(nullable=False, index=True)
    ok: bool = False


class PortalAudit(SQLModel, table=True):
    """Every portal action: who, when, what, on what, from where, and how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field(nullable=False, index=True)
    actor: str = Field(index=True, max_length=80)
    action: str = Field(index=True, max_length=64)
    subject: str = Field(default="", max_length=128)
    outcome: str = Field(default="ok", max_length=16)  # ok / refused / failed
    detail: str = ""
    method: str = Field(default="", max_length=8)
    path: str = Field(default="", max_length=256)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=256)


class EvidenceFile(SQLModel, table=True):
    """A file filed as evidence for an activity's subsidy claim (stored under the data folder
    or in an S3-compatible store); the same bytes filed twice are one row."""

    __table_args__ = (sa.UniqueConstraint("activity_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size: int
    sha256: str = Field(max_length=64)
    location: str  # file path, or s3://bucket/key
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime = ts_field(nullable=False, default_now=True)
