"""Tables of the members area beyond Member and PointsEntry in domain/models.py.

Natural keys carry idempotency: one activation round per (member, round), one reward per
(referred member, event), one invitation per (member, sleep episode), one interaction per
(kind, external reference).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class MemberActivation(SQLModel, table=True):
    """One activation round: a registration (or a re-registration after expiry) and its code.

    The code itself is derived (HMAC of member number and round), never stored.
    """

    __tablename__ = "member_activation"
    __table_args__ = (sa.UniqueConstraint("member_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    round: int = 1
    source: str = "online"  # online / import / dealer:<code>
    registered_at: datetime = ts_field(nullable=False)
    reminder_on: date
    expires_on: date = Field(index=True)
    reminded_at: datetime | None = ts_field()
    expired_at: datetime | None = ts_field()
    activated_at: datetime | None = ts_field()
    activated_by: str | None = None  # member (code) / dealer:<code>
    # Wrong codes given: after settings.activation_max_attempts the code is refused (a six-digit
    # code must not be guessable by trying); a dealer can still confirm at the store.
    failed_attempts: int = 0


class MemberInteraction(SQLModel, table=True):
    """Something a member did that counts for segments, tiers and referrals: a service visit,
    a purchase, an app login... `ref` is the source system's key, so a replay adds nothing."""

    __tablename__ = "member_interaction"
    __table_args__ = (
        sa.UniqueConstraint("kind", "ref"),
        sa.Index("ix_member_interaction_member_at", "member_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=32)  # service / purchase / visit / app
    ref: str = Field(max_length=200)
    occurred_at: datetime = ts_field(nullable=False)


class ReferralReward(SQLModel, table=True):
    """A referral event rewarded once: both sides' points are ledger rows keyed by this row."""

    __tablename__ = "referral_reward"
    __table_args__ = (sa.UniqueConstraint("referee_id", "event"),)

    id: int | None = Field(default=None, primary_key=True)
    referrer_id: int = Field(foreign_key="member.id", index=True)
    referee_id: int = Field(foreign_key="member.id")
    event: str = Field(max_length=32)  # register / purchase
    year: int = Field(index=True)
    referrer_points: int
    referee_points: int
    capped: bool = False  # the referrer had reached the yearly cap
    rewarded_at: datetime = ts_field(nullable=False)


class SegmentSnapshot(SQLModel, table=True):
    """How many members of a club were in each segment at a weekly run."""

    __tablename__ = "member_segment_snapshot"
    __table_args__ = (sa.UniqueConstraint("as_of", "club_id", "segment"),)

    id: int | None = Field(default=None, primary_key=True)
    as_of: date = Field(index=True)
    club_id: int | None = Field(default=None, foreign_key="club.id")
    region_code: str | None = Field(default=None, foreign_key="region.code")
    segment: str = Field(max_length=16)
    members: int
    newly_sleeping: int = 0
    reactivated: int = 0


class ReactivationInvitation(SQLModel, table=True):
    """One invitation per sleep episode; `reactivated_on` is set when the member comes back."""

    __tablename__ = "member_reactivation"
    __table_args__ = (sa.UniqueConstraint("member_id", "sleeping_since"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    club_id: int | None = Field(default=None, foreign_key="club.id")
    sleeping_since: date
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    invited_at: datetime = ts_field(nullable=False)
    reactivated_on: date | None = Field(default=None, index=True)
