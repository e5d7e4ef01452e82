"""The store: SQLModel tables for the whole domain.

Unique constraints carry idempotency (a notification key, one points row per activity and
member, one call attempt per lead and call number), so a re-run after a crash adds nothing.
Timestamps are stored in UTC and always come back timezone-aware, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out (SQLite would drop the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def ts_field(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    kwargs: dict[str, Any] = {
        "sa_type": UTCDateTime,
        "nullable": nullable,
        "index": index,
    }
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs["default"] = None
    return Field(**kwargs)


def enum_field(enum_cls: type[StrEnum], default: Any = ..., *, index: bool = False) -> Any:
    """Enums stored as plain strings: adding a value later needs no PostgreSQL type change."""
    sa_type = sa.Enum(enum_cls, native_enum=False, length=32, values_callable=_enum_values)
    return Field(default=default, sa_type=sa_type, index=index)


def _enum_values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=sa.JSON, nullable=False)


# ---------------------------------------------------------------- organisation


class Terrain(StrEnum):
    grassland = "grassland"
    desert = "desert"
    rainforest = "rainforest"
    beach = "beach"
    water = "water"
    mountain = "mountain"
    snow = "snow"


class Region(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str
    name_zh: str
    signature_crossing: str
    signature_crossing_zh: str
    terrain: Terrain = enum_field(Terrain)
    seasons: list[str] = json_field(list)


class ClubGrade(StrEnum):
    province = "province"  # 所
    city = "city"  # 营
    county = "county"  # 队


class Dealer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    name: str
    city: str = Field(index=True)
    region_code: str = Field(foreign_key="region.code", index=True)
    active: bool = True


class Club(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    name: str
    city: str
    region_code: str = Field(foreign_key="region.code", index=True)
    grade: ClubGrade = enum_field(ClubGrade, ClubGrade.city)
    # One club per dealer (the alliance's structure).
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id", unique=True)
    # Onboarding status (issue 16): clubs seeded before onboarding existed are active.
    status: str = Field(default="active", max_length=16)
    registered_at: datetime | None = ts_field()


class Role(StrEnum):
    campaign_manager = "campaign_manager"
    regional_specialist = "regional_specialist"
    agency = "agency"
    it = "it"
    club_admin = "club_admin"
    call_agent = "call_agent"
    call_supervisor = "call_supervisor"
    finance = "finance"
    dealer = "dealer"  # a dealer's staff: signs in to the portal for the dealer's leads
    legal = "legal"  # HQ legal: approves the contract clauses of second-tier outlets


class Person(SQLModel, table=True):
    """Someone who works in the system; `username` is what `--as USER` names."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    name: str
    role: Role = enum_field(Role, index=True)
    region_code: str | None = Field(default=None, foreign_key="region.code")
    club_id: int | None = Field(default=None, foreign_key="club.id")
    email: str | None = None
    phone: str | None = None
    active: bool = True
    # Call agents: leads per day and whether they take new leads today.
    daily_capacity: int = 0
    in_rotation: bool = True
    # Dealer staff: the dealer they act for (as `dealer:<code>` in the store's records).
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    # The portal password, if the person set one (argon2); None: sign in by one-time code.
    password_hash: str | None = None


class MemberTier(StrEnum):
    ordinary = "ordinary"
    silver = "silver"
    gold = "gold"


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_no: str = Field(unique=True, index=True, max_length=32)
    name: str
    phone: str = Field(unique=True, index=True, max_length=32)  # normalised E.164
    club_id: int | None = Field(default=None, foreign_key="club.id", index=True)
    tier: MemberTier = enum_field(MemberTier, MemberTier.ordinary)
    points: int = 0  # cache of sum(ledger); the ledger is the truth
    rank: str = "陪戎校尉"
    service_visits: int = 0
    birthday: date | None = None
    status: str = "active"  # registered / active / expired
    joined_at: datetime = ts_field(nullable=False, default_now=True)
    activated_at: datetime | None = ts_field()
    last_interaction_at: datetime | None = ts_field()
    referral_code: str | None = Field(default=None, unique=True)
    referred_by_id: int | None = Field(default=None, foreign_key="member.id")
    # Weekly segmentation (active / sleeping / lost) and the day the member entered it.
    segment: str | None = Field(default=None, index=True, max_length=16)
    segment_since: date | None = None


# ---------------------------------------------------------------- campaigns


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str
    kind: str
    launch_date: date
    end_date: date
    regions: list[str] = json_field(list)
    status: str = Field(default="planning", index=True)
    plan_version: int = 1
    # A start with less than the policy lead time needs a reason; it is shown on every artifact.
    rush_reason: str | None = None
    handbook_url: str = ""
    # The dealer training: when it starts and how to join (from the plan).
    training_at: datetime | None = ts_field()
    training_join: str = ""
    # The live report's one artifact (updated in place by each daily run).
    live_artifact_id: str | None = Field(default=None, max_length=64)
    created_by: str
    created_at: datetime = ts_field(nullable=False, default_now=True)
    # The deployment run carrying the campaign now (woken when the plan or its dates change).
    flow_run_id: str | None = None
    spend_total: float | None = None
    report_path: str | None = None
    reported_at: datetime | None = ts_field()


class CampaignPlanVersion(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    version: int
    summary: str = ""
    policy: str = ""  # what dealers and customers get (discounts, points, gifts)
    note: str = ""  # what changed in this version and why
    budget: list[dict[str, Any]] = json_field(list)  # [{"item", "amount"}]
    kpis: list[dict[str, Any]] = json_field(list)  # [{"name", "target", "unit"}]
    plan_hash: str
    created_by: str
    created_at: datetime = ts_field(nullable=False, default_now=True)


class Milestone(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    key: str
    title: str
    owner_role: Role = enum_field(Role)
    starts_on: date | None = None
    due_on: date = Field(index=True)
    status: str = "planned"  # planned / done / missed
    done_at: datetime | None = ts_field()


class CampaignKpiActual(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str
    actual: float
    reported_by: str
    reported_at: datetime = ts_field(nullable=False, default_now=True)


# ---------------------------------------------------------------- gates and decisions


class GateStatus(StrEnum):
    open = "open"
    decided = "decided"
    void = "void"


class Gate(SQLModel, table=True):
    """A human decision point (plan review, sign-off, activity review, claim approval...)."""

    __table_args__ = (sa.UniqueConstraint("subject_type", "subject_id", "key", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(index=True)  # campaign / activity / claim / quarter_plan
    subject_id: int = Field(index=True)
    key: str  # plan_review / signoff / feasibility / specialist_review / ...
    round: int = 1
    # What `clubflow decide` and `clubflow inbox` name: the subject's code and a readable title.
    subject_code: str = Field(default="", index=True, max_length=64)
    subject_title: str = ""
    title: str
    kind: str = "approval"  # domain.gates.GateKind: which outcomes the gate takes
    status: GateStatus = enum_field(GateStatus, GateStatus.open, index=True)
    owner_role: Role = enum_field(Role)
    owner_region: str | None = None
    due_on: date = Field(index=True)
    opened_at: datetime = ts_field(nullable=False, default_now=True)
    decided_at: datetime | None = ts_field()
    outcome: str | None = None
    plan_version: int | None = None
    flow_run_id: str | None = None
    # `<flow>@<version>` of the code that opened the gate for its run (None: opened before
    # versions were recorded); a replay under another version must follow the recorded path.
    process_version: str | None = Field(default=None, max_length=128)
    # Who hears about an overdue gate: the owner gets the reminder, `escalate_to` the escalation
    # (recipient keys as in the outbox, e.g. `person:hq.manager` or `role:campaign_manager`).
    escalate_to: str = "role:campaign_manager"
    reminded_at: datetime | None = ts_field()
    escalated_at: datetime | None = ts_field()
    # The one Prefect artifact that shows this gate, updated in place until its decision.
    artifact_id: str | None = Field(default=None, max_length=64)


class DecisionCode(SQLModel, table=True):
    """A one-time code that binds a decision given in the Prefect UI to the person it was sent
    to: the UI has no users, so the code is what proves who is deciding. Stored hashed."""

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    username: str = Field(max_length=64)
    code_hash: str = Field(max_length=128)
    sent_at: datetime = ts_field(nullable=False, default_now=True)
    expires_at: datetime = ts_field(nullable=False)
    used_at: datetime | None = ts_field()


class Decision(SQLModel, table=True):
    """The audit trail: every decision given at a gate, refused ones included."""

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    decider: str
    outcome: str
    comment: str = ""
    accepted: bool = True
    refusal_reason: str | None = None
    plan_version: int | None = None
    plan_hash: str | None = None
    signature: str | None = None
    # Anything else the typed input carried (a revised plan, line-by-line amounts...).
    payload: dict[str, Any] = json_field(dict)
    # The key of the input that carried this decision: a replay records nothing new.
    input_key: str | None = Field(default=None, unique=True)
    decided_at: datetime = ts_field(nullable=False, default_now=True)


# ---------------------------------------------------------------- activities


class ActivityClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class Activity(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    title: str
    klass: ActivityClass = enum_field(ActivityClass, index=True)
    theme: str = ""
    region_code: str = Field(foreign_key="region.code", index=True)
    club_id: int | None = Field(default=None, foreign_key="club.id", index=True)
    starts_on: date = Field(index=True)
    ends_on: date
    place: str = ""
    expected_participants: int = 0
    budget: list[dict[str, Any]] = json_field(list)
    subsidy_requested: float = 0
    invited_regions: list[str] = json_field(list)
    # proposed / in_review / sent_back / rejected / approved / announced / cancelled / archived
    status: str = Field(default="proposed", index=True)
    late: bool = False
    proposed_by: str
    created_at: datetime = ts_field(nullable=False, default_now=True)
    announced_at: datetime | None = ts_field()
    points_issued_at: datetime | None = ts_field()
    # The proposal as submitted: a second submission with the same code must match it.
    proposal: dict[str, Any] = json_field(dict)
    approved_at: datetime | None = ts_field()
    # Dated steps, derived from the dates by the working-day calendar when approved.
    warmup_on: date | None = Field(default=None, index=True)
    recap_due_on: date | None = Field(default=None, index=True)
    points_on: date | None = Field(default=None, index=True)
    cancelled_reason: str | None = None
    archived_at: datetime | None = ts_field()
    review_round: int = 1  # a proposal sent back and submitted again is reviewed in round 2
    # Before approval (B/C): one safety plan (text or link) for fire, earthquake, storm and
    # power loss; a crossing also names its support vehicle (domain/safety.py).
    safety_plan: str = ""
    support_vehicle: str = ""
    # Tier-only activity: the tiers allowed to register (empty: every member).
    tiers: list[str] = json_field(list)


class Registration(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("activity_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    registered_at: datetime = ts_field(nullable=False, default_now=True)
    checked_in_at: datetime | None = ts_field()
    is_organiser: bool = False
    source: str = "app"


class Recap(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", unique=True)
    participants: int
    media_links: list[str] = json_field(list)
    media_posts: int = 0
    media_reads: int = 0
    feedback_score: float | None = None
    notes: str = ""
    filed_by: str
    filed_at: datetime = ts_field(nullable=False, default_now=True)
    report_path: str | None = None


class SubsidyClaim(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", unique=True)
    status: str = Field(default="submitted", index=True)  # submitted/decided/paid
    total_requested: float = 0
    total_approved: float | None = None
    submitted_by: str
    submitted_at: datetime = ts_field(nullable=False, default_now=True)
    decided_at: datetime | None = ts_field()
    paid_at: datetime | None = ts_field()
    total_proposed: float | None = None
    decided_by: str | None = None
    paid_by: str | None = None
    payment_ref: str | None = None


class SubsidyLine(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("claim_id", "line_no"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="subsidyclaim.id", index=True)
    line_no: int
    category: str
    description: str = ""
    amount: float
    evidence: list[str] = json_field(list)
    proposed_action: str | None = None  # approve / reduce / reject
    proposed_amount: float | None = None
    proposal_reason: str | None = None
    proposal_rule: str | None = None
    decided_amount: float | None = None
    decision_comment: str | None = None


# ---------------------------------------------------------------- points


class PointsEntry(SQLModel, table=True):
    """The ledger: a member's balance is the sum of their rows, never an edited number."""

    __table_args__ = (sa.UniqueConstraint("activity_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    amount: int
    reason: str  # activity / organiser / referral / expiry / adjustment
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    idem_key: str = Field(unique=True, max_length=200)
    occurred_at: datetime = ts_field(nullable=False, default_now=True)
    expires_on: date | None = None


# ---------------------------------------------------------------- leads


class LeadStatus(StrEnum):
    open = "open"
    valid = "valid"
    invalid = "invalid"


class LeadImport(SQLModel, table=True):
    """One imported file or page; its content hash makes a second import a no-op."""

    id: int | None = Field(default=None, primary_key=True)
    source: str
    content_hash: str = Field(unique=True, max_length=64)
    filename: str | None = None
    rows: int = 0
    created: int = 0
    merged: int = 0
    rejected: int = 0
    imported_at: datetime = ts_field(nullable=False, default_now=True)
    kind: str = "leads"  # leads / outcomes
    encoding: str | None = None
    business_day: date | None = None


class Lead(SQLModel, table=True):
    # Every index costs each of the 20,000 inserts of a day, so there is one per query shape
    # and none that no query uses (EXPLAIN QUERY PLAN checked on SQLite).
    __table_args__ = (
        # Intake dedupe: open leads of these phones.
        sa.Index("ix_lead_phone_status", "phone", "status"),
        # Idempotent intake: a row of a source is stored once.
        sa.Index("ix_lead_source_ref", "source_ref", unique=True),
        # The open leads' work, filtered in the index itself: the sweep's overdue calls (a
        # range) and due appointments, each agent's open load, the unassigned and the not yet
        # listed leads. Due date second: a day's new leads share it, so their entries land
        # side by side.
        sa.Index(
            "ix_lead_open_work",
            "status",
            "next_call_due",
            "agent_id",
            "listed_at",
            "appointment_at",
        ),
        # What each agent was given today (their daily capacity).
        sa.Index("ix_lead_assigned_at", "assigned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=32)  # normalised E.164
    name: str = ""
    model: str = ""
    city: str
    region_code: str | None = Field(default=None, foreign_key="region.code")
    source: str
    sources: list[str] = json_field(list)
    arrived_at: datetime = ts_field(nullable=False)
    business_day: date = Field(index=True)
    status: LeadStatus = enum_field(LeadStatus, LeadStatus.open)
    outcome: str | None = None
    agent_id: int | None = Field(default=None, foreign_key="person.id")
    next_call_no: int = 1
    next_call_due: date | None = None
    appointment_at: datetime | None = ts_field()
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    handed_off_at: datetime | None = ts_field()
    # The second-tier outlet covering the lead's city, named to its parent dealer (issue 16).
    outlet_code: str | None = None
    handoff_due_on: date | None = None
    accepted_at: datetime | None = ts_field()
    closed_at: datetime | None = ts_field()
    import_id: int | None = Field(default=None, foreign_key="leadimport.id")
    # The source's own key of the row (file hash + line, or the API's id): a re-run after a
    # crash inserts nothing twice.
    source_ref: str | None = Field(default=None, max_length=200)
    call_day: date | None = None  # calls 1 and 2
    third_call_due: date | None = None
    assigned_at: datetime | None = ts_field()
    listed_at: datetime | None = ts_field()  # put on its agent's call list (notified)
    appointment_notified_at: datetime | None = ts_field()
    handoff_round: int = 0
    converted_at: datetime | None = ts_field()  # the order's date (domain.deals)
    lost_at: datetime | None = ts_field()  # the deal was lost (战败): no conversion


class CallAttempt(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("lead_id", "call_no"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    call_no: int
    outcome: str
    agent_id: int | None = Field(default=None, foreign_key="person.id")
    called_at: datetime = ts_field(nullable=False)
    appointment_at: datetime | None = ts_field()
    resolution: str | None = None
    recorded_at: datetime = ts_field(nullable=False, default_now=True)


# ---------------------------------------------------------------- notifications


class NotificationStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"
    # Not sent: the member withdrew consent after it was queued (never sent later).
    withheld = "withheld"


class Notification(SQLModel, table=True):
    """The outbox: a message is a row first; the sender delivers it once."""

    __table_args__ = (sa.Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(unique=True, max_length=200)
    recipient: str = Field(
        index=True
    )  # person:<username> / dealer:<code> / role:<role>[:<region>] / member:<no>
    template: str
    context: dict[str, Any] = json_field(dict)
    title: str
    body: str
    urgent: bool = False
    status: NotificationStatus = enum_field(NotificationStatus, NotificationStatus.pending)
    attempts: int = 0
    last_error: str | None = None
    # Indexes of the recipient's channels already delivered: a retry skips them.
    delivered_channels: list[int] = json_field(list)
    created_at: datetime = ts_field(nullable=False, default_now=True)
    next_attempt_at: datetime = ts_field(nullable=False, default_now=True)
    lease_until: datetime | None = ts_field()
    sent_at: datetime | None = ts_field()
    # Sends repeated after an unknown outcome (a timeout, or a sender that crashed holding the
    # lease): a receiver that cannot deduplicate by key may have seen the message twice.
    resends: int = 0
    # service / marketing (domain/consent.py): marketing to a member needs their consent.
    purpose: str = Field(default="service", max_length=16)


# ---------------------------------------------------------------- run recovery


class RunRecovery(SQLModel, table=True):
    """What the recovery sweep (or `clubflow decide`) did about a run whose process died.

    One row per (run, attempt): inserting it is the claim, so two sweeps never replay the
    same run twice for the same death, and the count of a run's rows bounds its replays."""

    __tablename__ = "run_recovery"
    __table_args__ = (sa.UniqueConstraint("flow_run_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(index=True, max_length=64)
    flow_run_name: str = ""
    deployment: str = ""
    attempt: int  # 1, 2, ... for replays; max + 1 is the row that gave up
    found_state: str = Field(max_length=32)  # Running / Pending / Crashed / Suspended
    problem: str  # what was wrong: no heartbeat since ..., suspended without its form, ...
    action: str = Field(max_length=32)  # replayed / woken / gave_up / closed
    last_seen_at: datetime | None = ts_field()  # last heartbeat or state change of the run
    recovered_at: datetime = ts_field(nullable=False, default_now=True)
    recovered_by: str = "recover-runs"  # the sweep, or decide:<username>
