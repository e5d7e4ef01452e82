"""Settings: the one place that reads CLUBFLOW_* environment variables.

Policy numbers are defaults here (docs/rules.md writes them down), never literals in rules:
the rules in domain/ take them as parameters. The business timezone is not a setting: the
brand's business days are Asia/Shanghai days (domain.calendar.BUSINESS_TZ).
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.subsidy import SubsidyPolicy

PLACEHOLDER_SECRETS = {
    "",
    "changethis",
    "changeme",
    "secret",
    "password",
    "xxx",
    "todo",
    "placeholder",
}

DEFAULT_POINTS_BY_CLASS = {"A": 300, "B": 200, "C": 100, "D": 50, "E": 20}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLUBFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./.clubflow/clubflow.db"
    # Signs gate decisions (HMAC over the plan hash) so an edited audit row is detectable.
    signing_key: SecretStr = SecretStr("changethis")

    # Campaigns: the pipeline starts 45 days before launch (docs/rules.md)
    campaign_lead_days: int = Field(45, ge=1)
    signoff_before_launch_days: int = 30
    feasibility_working_days: int = 2
    golive_before_launch_working_days: int = 3
    training_before_launch_working_days: int = 2
    report_due_days: int = 7

    # Activities: warm-up window, recap, points by class A–E
    warmup_opens_before_days: int = 7
    warmup_closes_before_days: int = 3
    recap_due_days: int = 7
    points_after_working_days: int = Field(10, ge=5, le=15)
    points_by_class: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_POINTS_BY_CLASS))
    organiser_points_bonus: int = 100

    # Activities: subsidy policy. Caps per class and category, per-participant
    # caps for materials, categories allowed per class (those with a cap), class total cap.
    # Defaults in domain/subsidy.py; override as JSON, e.g.
    # CLUBFLOW_SUBSIDY_POLICY='{"classes": {"C": {"total_cap": 6000, "caps": {"venue": 2000}}}}'
    # (a class given replaces that class's defaults; classes not given keep theirs).
    subsidy_policy: SubsidyPolicy = Field(default_factory=SubsidyPolicy)
    # Where rendered recaps and claim decisions are written (HTML files).
    reports_dir: str = "./.clubflow/reports"
    # Recap overdue: remind the club on the due date, escalate to the specialist this many
    # working days later.
    recap_escalate_after_working_days: int = Field(2, ge=1)
    # A review gate is due this many working days after it opens (never after the warm-up
    # window opens, so a timely review keeps the announcement on time).
    activity_review_working_days: int = Field(2, ge=1)
    # The specialist decides a subsidy claim within this many working days.
    claim_review_working_days: int = Field(5, ge=1)

    # Gates: a reminder on the due date, an escalation this many working days later.
    escalate_after_working_days: int = Field(2, ge=1)

    # Campaign pipeline and gate machinery. A suspended gate run fails when this
    # runs out; the sweep reminds and escalates long before.
    gate_wait_timeout_days: int = Field(120, ge=1)
    # A plan review round or a revision is due this many working days after it opens
    # (a review round at the latest by the sign-off date).
    campaign_gate_working_days: int = Field(3, ge=1)
    # Where post-campaign reports are written as HTML files.
    campaign_reports_dir: str = "./.clubflow/reports"
    # Campaigns from build to live: slots, build and function test, go-live, live KPIs.
    # The agency records the platform slots this many working days after IT's check (ours).
    slots_working_days: int = Field(5, ge=1)
    # Page build and function test: done this many days after IT's check (10–15 by the rules).
    build_test_days: int = Field(15, ge=10, le=15)
    # Pages go live L-3 … L-2 working days; the agency confirms by L-2.
    golive_confirm_before_launch_working_days: int = Field(2, ge=1)
    # A live KPI is behind pace when actual < target × elapsed share × this (ours).
    kpi_pace_tolerance: float = Field(0.9, gt=0, le=1)
    # ExternalSystem block name of the agency's live KPI API (ours).
    campaign_kpi_source_block: str = "agency-kpis"

    # Quarterly planning, crossing rotation and club report.
    # The annual national gathering (集结令): a winter snow event (ice fishing, snow play,
    # hot pot on the snow) in January, hosted by the snow region.
    national_gathering_month: int = Field(1, ge=1, le=12)
    national_gathering_host: str = "shenyang"
    national_gathering_terrain: str = "snow"
    national_gathering_features: str = "冰钓、雪地游戏、雪地火锅"
    # A club's monthly plan is due this many working days before its month starts.
    monthly_plan_due_working_days: int = Field(5, ge=1)
    # Where the quarter plan's ICS calendar files are written.
    plans_dir: str = "./.clubflow/plans"
    # Year-end best crossing: weights of checked-in participants, feedback score, media reach
    # (each normalised to the year's best before weighting).
    crossing_score_weights: dict[str, float] = Field(
        default_factory=lambda: {"participants": 0.5, "feedback": 0.3, "media": 0.2}
    )
    # Dealers' monthly feedback is due on this day of the month (the 10th by the rules).
    dealer_feedback_due_day: int = Field(10, ge=1, le=28)
    # Monthly return and club content: a self-media article counts for the club report when
    # read at least this often (the brand: "over 1,000 reads"; inclusive is ours).
    self_media_min_reads: int = Field(1000, ge=0)
    # The answer to a monthly return may be corrected up to its due date (ours).
    dealer_return_corrections: bool = True
    # Quarter confirmation, activity materials and preparation, competitor tracking.
    # HQ confirms the draft quarter plan within this many working days of the draft.
    quarter_confirm_working_days: int = Field(5, ge=1)
    # Class A/B/C handbooks and operations materials are due this many weeks before the
    # start; the organiser is reminded this many working days before, HQ hears this many after.
    materials_weeks_before: int = Field(3, ge=1)
    materials_reminder_working_days: int = Field(3, ge=0)
    materials_escalate_after_working_days: int = Field(2, ge=1)
    # Preparation starts this many weeks before; the organiser hears this many working days
    # before that day.
    preparation_weeks_before: int = Field(2, ge=1)
    preparation_notice_working_days: int = Field(2, ge=0)
    # The competitor brands the operator tracks, and the monthly report's ladder (it is due
    # on the month's last working day): reminder before, escalation after, in working days.
    competitor_brands: list[str] = Field(
        default_factory=lambda: ["坦克", "方程豹", "北京越野", "哈弗", "长城炮", "Jeep"]
    )
    competitor_report_reminder_working_days: int = Field(2, ge=0)
    competitor_report_escalate_after_working_days: int = Field(1, ge=1)

    # Notifications
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    outbox_batch_size: int = Field(500, ge=1)
    outbox_inline_attempts: int = Field(3, ge=1)
    outbox_retry_backoff_seconds: float = Field(60.0, ge=0)
    outbox_max_attempts: int = Field(12, ge=1)
    outbox_send_timeout_seconds: float = Field(10.0, gt=0)

    # Leads: the open window, the dealer's acceptance
    lead_open_window_days: int = 30
    handoff_accept_working_days: int = 1
    # Lead callbacks. Lead CSV files dropped here are imported by the intake
    # deployment (moved to done/ once stored); agents' call lists and reject files go to exports.
    leads_inbox_dir: str = "./.clubflow/leads/inbox"
    leads_export_dir: str = "./.clubflow/leads/exports"
    # ExternalSystem block names of the paged HTTP lead source and of the call centre.
    leads_source_block: str = "lead-source"
    leads_call_centre_block: str = "call-centre"
    # An overdue call reminds its agent; this many working days overdue, the supervisor.
    leads_overdue_escalate_working_days: int = Field(1, ge=1)
    # Weekly revisit of leads left unconverted this long (two months by the lead rules).
    leads_revisit_after_days: int = Field(60, ge=1)
    # Deals (follow-up after acceptance; ours): the dealer system's ExternalSystem block, and
    # how many days of leads up to the report's day the daily funnel covers.
    leads_dealer_system_block: str = "dealer-system"
    deals_funnel_days: int = Field(30, ge=1)
    # Leads: revisit results (ours). A lead unreachable this many weekly revisits in a row
    # is closed and leaves the list.
    leads_revisit_unreachable_weeks: int = Field(3, ge=1)
    # Service hours: calls follow the service team (every day, holidays included), not the
    # office calendar; around the clock on peak dates (campaign launch days plus this list).
    leads_service_opens: time = time(9, 0)
    leads_service_closes: time = time(23, 0)
    leads_peak_dates: list[date] = Field(default_factory=list)
    # Agents on night cover a peak date needs, and how many days ahead the roster is checked.
    leads_peak_min_agents: int = Field(2, ge=1)
    leads_peak_check_days: int = Field(7, ge=0)

    # Members: tiers and points expiry
    silver_points: int = 5000
    silver_services: int = 3
    gold_points: int = 15000
    points_expire_years: int = 2

    # Members: lifecycle policy.
    # Activation: the code works from registration day 0 up to day window-1; a reminder on
    # `activation_reminder_day`; the registration expires on day `activation_window_days`.
    activation_window_days: int = Field(7, ge=3, le=7)
    activation_reminder_day: int = Field(3, ge=1, le=6)
    activation_max_attempts: int = Field(5, ge=1)
    # The monthly run warns about points expiring within this many days, then expires them.
    points_expiry_warning_days: int = Field(30, ge=1)
    # Segments by days since the last interaction: active ≤ 90 < sleeping ≤ 365 < lost.
    segment_active_days: int = Field(90, ge=1)
    segment_lost_days: int = Field(365, ge=2)
    # Referral rewards: points per event for each side, and how many events a referrer is
    # rewarded for per calendar year (the referred member is rewarded regardless).
    referral_points: dict[str, int] = Field(
        default_factory=lambda: {"register": 200, "purchase": 2000}
    )
    referral_yearly_cap: int = Field(5, ge=0)
    # The birthday-month benefit named in the greeting.
    birthday_benefit: str = "生日当月到店保养享工时费八折，并可领取车友会生日礼品一份"

    # Run recovery (the recover-runs sweep). Serve/worker processes send a flow-run heartbeat
    # every 30 s (PREFECT_FLOWS_HEARTBEAT_FREQUENCY); a Running or Pending run silent for
    # longer than this is taken as dead and replayed from the top.
    recovery_stale_after_seconds: int = Field(120, ge=1)
    # A run Suspended this long without its input form stored died while suspending: woken.
    recovery_suspend_grace_seconds: int = Field(60, ge=1)
    # Replays of one run before the sweep gives up, marks it Crashed and tells `recovery_notify`.
    recovery_max_replays: int = Field(3, ge=1)
    # Runs whose last state is older than this are left alone (history, not a live incident).
    recovery_lookback_hours: int = Field(48, ge=1)
    recovery_notify: str = "role:it"
    # How often the recover-runs deployment runs (prefect.yaml says the same; shown to users).
    recovery_every_minutes: int = Field(3, ge=1)

    # The portal (clubflow/portal): where people outside HQ sign in and act.
    # The address links in notifications point to (`clubflow up` sets it to its portal).
    portal_url: str = "http://127.0.0.1:4201"
    portal_session_hours: int = Field(12, ge=1)
    # A one-time sign-in code, and a Prefect UI decision code, work this long.
    portal_code_minutes: int = Field(10, ge=1)
    decision_code_hours: int = Field(72, ge=1)
    # Wrong decision codes a person may type per code sent to them; then it stops working.
    decision_code_tries: int = Field(5, ge=1)
    # Sign-in attempts allowed per person and per address in a window of this many minutes.
    portal_signin_limit: int = Field(10, ge=1)
    portal_signin_window_minutes: int = Field(15, ge=1)
    # A deep link in a notification works this many days (and still asks for sign-in).
    portal_link_days: int = Field(14, ge=1)
    # Claim evidence: allowed types and size. Stored under `evidence_dir`, or in an
    # S3-compatible store when `evidence_s3_url` is set (e.g. http://127.0.0.1:9000/bucket).
    evidence_dir: str = "./.clubflow/evidence"
    evidence_max_mb: int = Field(10, ge=1)
    evidence_types: list[str] = Field(
        default_factory=lambda: ["image/jpeg", "image/png", "application/pdf", "video/mp4"]
    )
    evidence_s3_url: str = ""
    evidence_s3_access_key: str = ""
    evidence_s3_secret_key: SecretStr = SecretStr("")
    evidence_s3_region: str = "us-east-1"

    # --- rewards: spending points (issue 15)
    # A voucher works this many days when a catalogue row gives none (ours).
    rewards_voucher_days: int = Field(30, ge=1)
    # The dearest reward the catalogue accepts, in points (ours; a typo guard).
    rewards_max_points: int = Field(100_000, ge=1)
    # Random bytes in a voucher code (10 bytes = 16 base32 characters, ours).
    rewards_code_bytes: int = Field(10, ge=8, le=15)
    # --- points earned by spending, budget and anomaly (issue 15)
    # Points per yuan of a dealer-system bill, per kind (1 yuan = 1 point).
    points_per_yuan: dict[str, float] = Field(
        default_factory=lambda: {"purchase": 1.0, "service": 1.0, "parts": 1.0}
    )
    # Spending points are multiplied by the member's tier (ours).
    tier_points_multiplier: dict[str, float] = Field(
        default_factory=lambda: {"ordinary": 1.0, "silver": 1.2, "gold": 1.5}
    )
    # Online interactions and service reviews: points per kind and a daily cap (ours).
    online_points: dict[str, int] = Field(
        default_factory=lambda: {"signin": 1, "post": 5, "share": 2, "review": 10}
    )
    online_points_daily_cap: int = Field(20, ge=0)
    points_yuan_per_point: float = Field(0.01, gt=0)  # the exchange rate (ours)
    points_monthly_budget_yuan: float = Field(200_000.0, ge=0)  # (ours)
    points_budget_warn_share: float = Field(0.8, gt=0, le=1)
    points_budget_notify: str = "role:campaign_manager"
    points_anomaly_threshold: int = Field(5_000, ge=1)  # points in one business day (ours)
    points_anomaly_notify: str = "role:campaign_manager"
    # --- retention and consent (issue 15)
    # Lost members' call-backs an agent takes per service day (beside their leads) (ours).
    retention_callbacks_per_agent_day: int = Field(20, ge=1)
    # Sleeping members' offers: at most this many per member within this many months (ours).
    retention_offer_cap: int = Field(3, ge=1)
    retention_offer_window_months: int = Field(6, ge=1)
    # The month's offer text (ours; the marketing team changes it each month).
    retention_offer_text: str = "本月到店保养享工时费八折"
    # --- disputes and emergencies (issue 16)
    dispute_ack_working_days: int = 1  # 受理 within this many working days of filing (ours)
    dispute_resolve_working_days: int = 20  # settled or in litigation after 受理 (ours)
    dispute_escalate_after_working_days: int = 2  # overdue by this many more: level 2 (ours)
    # --- second-tier outlets (issue 16)
    # A document's expiry reminder goes this many days before it expires.
    outlet_document_reminder_days: int = Field(30, ge=1)
    # Working days each outlet review (qualification, risk, contract) may take.
    outlet_review_working_days: int = Field(5, ge=1)
    # The risk checklist: item → weight (the weights sum to 1); each item scored 0-100.
    outlet_risk_weights: dict[str, float] = Field(
        default_factory=lambda: {"credit": 0.4, "finance": 0.35, "business": 0.25}
    )
    # The weighted score an outlet needs to pass the risk assessment.
    outlet_risk_pass_mark: float = Field(60, ge=0, le=100)
    # --- tiers (issue 15)
    # Purchases within a year (365 days up to the day) that reach silver / gold, in yuan.
    silver_purchase_yuan: float = 50_000
    gold_purchase_yuan: float = 150_000
    # Birthday-month points per tier, granted once a year, and the reminder lead (days).
    birthday_points_by_tier: dict[str, int] = {"ordinary": 0, "silver": 200, "gold": 500}
    birthday_reminder_days: int = 7
    # Points renewal: which tiers may renew, by how many months, how soon before expiry.
    points_renewal_tiers: list[str] = ["silver", "gold"]
    points_renewal_months: int = 6
    points_renewal_window_days: int = 60
    # --- club onboarding and rating (issue 16)
    # The club name standard: parts joined by this separator, and the alliance label.
    club_name_separator: str = "·"
    club_name_parts: int = Field(5, ge=2)
    club_alliance_label: str = "羽林"
    # Qualification checklist: items that must pass before a club is active, and optional ones.
    club_required_items: list[str] = Field(
        default_factory=lambda: [
            "name",
            "logo",
            "car_stickers",
            "team_flag",
            "offroad_venue",
            "wechat_group",
            "forum_id",
        ]
    )
    club_optional_items: list[str] = Field(default_factory=lambda: ["official_account"])
    # The specialist reviews a submission within this many working days; then reminded,
    # then escalated (club_review_escalate_after_working_days).
    club_review_working_days: int = Field(3, ge=1)
    # The official account is due this many days after registration (not needed to activate).
    club_official_account_days: int = Field(30, ge=1)
    # Monthly score weights per KPI (score = sum of weight x figure).
    club_score_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "activity_participants": 1.0,
            "content_pieces": 5.0,
            "member_growth": 2.0,
            "referral_share": 50.0,
            "aftersales_share": 30.0,
            "wechat_members": 0.1,
        }
    )
    # Yearly awards: announced in this month for the previous year, top N national / per region.
    club_awards_month: int = Field(1, ge=1, le=12)
    club_awards_national: int = Field(3, ge=1)
    club_awards_regional: int = Field(1, ge=1)
    # --- complaints and satisfaction (issue 15)
    # Working days after the arrival's business date for each stage (0 = the same day);
    # after-sales issues are contacted (received) the same day (DOMAIN 12).
    complaint_receive_days: int = Field(1, ge=0)
    complaint_after_sales_contact_days: int = Field(0, ge=0)
    complaint_handle_days: int = Field(3, ge=0)
    complaint_answer_days: int = Field(5, ge=0)
    # A late stage goes to the handler/desk at once, to the supervisor and HQ this many
    # working days later.
    complaint_second_escalation_days: int = Field(2, ge=0)
    # An answered complaint without the member's reply closes after this many working days.
    complaint_auto_close_days: int = Field(7, ge=1)
    # Satisfaction calls after an activity: share of checked-in participants, min and max.
    satisfaction_share: float = Field(0.2, gt=0, le=1)
    satisfaction_min: int = Field(3, ge=0)
    satisfaction_max: int = Field(30, ge=1)
    # --- club onboarding deadlines (issue 16): a submission waits at most
    # `club_review_working_days` for review, then the specialist is reminded; this many
    # working days after that it goes to the campaign manager.
    club_review_escalate_after_working_days: int = Field(3, ge=1)
    # The dealer is reminded this many days before the official account is due.
    club_official_account_remind_days: int = Field(7, ge=0)
    # Lead intake reads a file in chunks of this many lines (ours): memory stays flat whatever
    # the file's size, and a chunk's rows are stored with a few statements.
    leads_intake_chunk_rows: int = Field(10_000, ge=1)
    # The delivery loop (`clubflow up`'s deliver part, `clubflow deliver --loop`): everything
    # due every this many seconds, and an urgent message (a sign-in or decision code, an
    # incident) as soon as a look for one, every `outbox_loop_urgent_poll_seconds`, finds it.
    outbox_loop_seconds: float = Field(10.0, gt=0)
    # How often the serve process (`clubflow up`) and `clubflow worker` ask the server for runs
    # to start, a resumed gate's run included: Prefect's default of 10 s would add up to 10 s
    # to every decision (docs/scale.md). One cheap query a second per process.
    run_poll_seconds: int = Field(1, ge=1)
    outbox_loop_urgent_poll_seconds: float = Field(1.0, gt=0)
    # Rows a sender claims (and records) in one transaction: fewer commits per message; the
    # lease covers the whole chunk's sends.
    outbox_claim_chunk: int = Field(20, ge=1)
    # Finished flow runs of housekeeping deployments (tag `housekeeping`) are kept this many
    # days, then the daily prune-housekeeping-runs deletes them (business runs are kept).
    housekeeping_runs_keep_days: float = Field(2.0, gt=0)

    @field_validator("points_by_class")
    @classmethod
    def _all_classes(cls, value: dict[str, int]) -> dict[str, int]:
        missing = set("ABCDE") - set(value)
        if missing:
            raise ValueError(f"points_by_class lacks classes {sorted(missing)}")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        if self.signing_key.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "CLUBFLOW_SIGNING_KEY is empty or a placeholder; set a real secret "
                f"outside development (environment={self.environment})"
            )
        password = urlsplit(self.database_url).password
        if password is not None and password.lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "CLUBFLOW_DATABASE_URL carries a placeholder password; "
                f"set a real one outside development (environment={self.environment})"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
