"""Tables of quarterly planning, the crossing rotation and the monthly club report.

Natural keys carry idempotency: one hosting and one plan per quarter, one slot per club and
month, one submission per slot, one challenge per pair of regions and quarter, one score per
crossing, one feedback return per dealer and month, one monthly return sent per dealer and
month, one content item per club and platform id.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class RotationHosting(SQLModel, table=True):
    """The rotation history: who hosted (or hosts) each quarter's crossing, and why."""

    __tablename__ = "rotation_hosting"

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(unique=True, max_length=8)  # 2027Q2
    region_code: str = Field(foreign_key="region.code", index=True)
    month: int
    # False for an extra hosting outside the cycle (an override of a region that already
    # hosted this cycle, or a stand-in); the cycle counts only on-cycle hostings.
    on_cycle: bool = True
    cycle: int
    override: bool = False
    reason: str = ""  # the override's reason; the rule's explanation otherwise
    decided_by: str
    created_at: datetime = ts_field(nullable=False, default_now=True)


class QuarterPlanRecord(SQLModel, table=True):
    """The published plan of one quarter."""

    __tablename__ = "quarter_plan"

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(unique=True, max_length=8)
    crossing_region: str = Field(foreign_key="region.code")
    crossing_theme: str
    crossing_month: int
    crossing_starts_on: date
    crossing_ends_on: date
    crossing_club: str | None = Field(default=None, max_length=32)  # organises the crossing
    crossing_activity_code: str = Field(max_length=64)
    gathering_title: str | None = None
    gathering_starts_on: date | None = None
    gathering_ends_on: date | None = None
    slots: int = 0
    ics_path: str | None = None
    planned_by: str
    flow_run_id: str | None = None
    created_at: datetime = ts_field(nullable=False, default_now=True)


class ClubSlot(SQLModel, table=True):
    """One club's monthly in-region activity slot; `open` until its plan is submitted."""

    __tablename__ = "club_slot"
    __table_args__ = (
        sa.UniqueConstraint("club_id", "month"),
        # The reminder sweep: open slots by due date.
        sa.Index("ix_club_slot_status_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="quarter_plan.id", index=True)
    quarter: str = Field(index=True, max_length=8)
    club_id: int = Field(foreign_key="club.id")
    region_code: str = Field(foreign_key="region.code")
    month: date  # first day of the month
    season: str
    theme: str
    due_on: date
    status: str = "open"  # open / submitted
    reminded_at: datetime | None = ts_field()


class MonthlyPlanSubmission(SQLModel, table=True):
    """A club's monthly plan for its slot; it becomes an activity proposal."""

    __tablename__ = "monthly_plan_submission"

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="club_slot.id", unique=True)
    club_id: int = Field(foreign_key="club.id", index=True)
    title: str
    klass: str = Field(max_length=1)  # C / D / E
    theme: str = ""
    starts_on: date
    ends_on: date
    place: str = ""
    expected_participants: int = 0
    budget: list[dict[str, Any]] = json_field(list)
    subsidy_requested: float = 0
    submitted_by: str
    submitted_at: datetime = ts_field(nullable=False, default_now=True)
    status: str = Field(default="submitted", index=True)  # submitted / proposed
    activity_code: str | None = Field(default=None, max_length=64)


class CrossingChallenge(SQLModel, table=True):
    """挑战: one region challenges another at a quarter's crossing."""

    __tablename__ = "crossing_challenge"
    __table_args__ = (sa.UniqueConstraint("quarter", "from_region", "to_region"),)

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=8)
    from_region: str = Field(foreign_key="region.code")
    to_region: str = Field(foreign_key="region.code")
    message: str = ""
    challenged_by: str
    created_at: datetime = ts_field(nullable=False, default_now=True)


class CrossingScore(SQLModel, table=True):
    """The year-end score of one crossing; recomputed in place if the scoring runs again."""

    __tablename__ = "crossing_score"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    quarter: str = Field(unique=True, max_length=8)
    region_code: str = Field(foreign_key="region.code")
    activity_code: str | None = Field(default=None, max_length=64)
    participants: int = 0
    feedback_score: float | None = None
    media_reach: int = 0
    score: float = 0
    rank: int = 0
    scored_at: datetime = ts_field(nullable=False, default_now=True)


class ClubContent(SQLModel, table=True):
    """Content a club published (posts, videos) and how often it was read (club report).

    `kind` is a domain.monthly_return.ContentKind: a post, a forum essence post, a self-media
    article, reposts of brand content, registrations for a brand event; `count` says how many
    one row stands for (reposts and registrations come as totals, a piece of content is 1)."""

    __tablename__ = "club_content"
    __table_args__ = (sa.UniqueConstraint("club_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    club_id: int = Field(foreign_key="club.id", index=True)
    external_id: str = Field(max_length=200)  # the platform's id or URL
    channel: str = ""  # 公众号 / 抖音 / 小红书 ...
    title: str = ""
    published_on: date = Field(index=True)
    reads: int = 0
    kind: str = Field(default="post", max_length=32)
    count: int = 1
    submitted_by: str | None = Field(default=None, max_length=64)


class DealerFeedback(SQLModel, table=True):
    """A dealer's monthly return (due the 10th): feedback and the month's sales figures that
    the referral and after-sales shares of the club report need."""

    __tablename__ = "dealer_feedback"
    __table_args__ = (sa.UniqueConstraint("dealer_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    dealer_id: int = Field(foreign_key="dealer.id", index=True)
    month: date  # first day of the month the return is about
    feedback: str = ""
    sales_units: int | None = None
    referral_sales_units: int | None = None  # sales the club's members referred
    service_revenue: float | None = None
    member_service_revenue: float | None = None  # of which club members
    submitted_by: str
    submitted_at: datetime = ts_field(nullable=False, default_now=True)
    suggestions: str = ""  # for the next period's plan
    wechat_groups: int | None = None  # the club's WeChat groups and their members (bonus)
    wechat_members: int | None = None
    corrected_at: datetime | None = ts_field()


class DealerReturn(SQLModel, table=True):
    """The monthly return the operator sends a dealer on the 1st: the member report as sent
    and the questionnaire, answered (a DealerFeedback row) by the due date."""

    __tablename__ = "dealer_return"
    __table_args__ = (sa.UniqueConstraint("dealer_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    dealer_id: int = Field(foreign_key="dealer.id", index=True)
    month: date = Field(index=True)  # first day of the month the return is about
    due_on: date
    report_md: str = ""  # the member report exactly as it was sent
    sent_at: datetime = ts_field(nullable=False, default_now=True)
    answered_at: datetime | None = ts_field()
