"""Daily call statistics: by source, agent and outcome; contact rate, valid rate, hand-off
acceptance time; and the conversion funnel of the last days' leads (tasks/leads/funnel.py).
Aggregates only: no phone ever reaches the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.leads_outcomes import CONNECTED, LABELS, Outcome
from domain.models import CallAttempt, Lead, LeadImport, LeadStatus, Person
from domain.models_leads import LeadHandoff
from tasks.common import data_task, run_logger
from tasks.leads.common import day_bounds
from tasks.leads.funnel import DIMENSIONS, Funnel, deal_funnel, duration
from tasks.render import render


@dataclass
class DailyStatistics:
    day: date
    leads_by_source: dict[str, int] = field(default_factory=dict)
    merged: int = 0
    rejected: int = 0
    calls_by_agent: dict[str, int] = field(default_factory=dict)
    calls_by_outcome: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    connected: int = 0
    closed_valid: int = 0
    closed_invalid: int = 0
    handoffs_accepted: int = 0
    acceptance_hours_median: float | None = None
    # The funnel of the leads of the `funnel_days` days up to `day`, as of the day's end.
    funnel: Funnel | None = None

    @property
    def contact_rate(self) -> float:
        return self.connected / self.calls if self.calls else 0.0

    @property
    def valid_rate(self) -> float:
        closed = self.closed_valid + self.closed_invalid
        return self.closed_valid / closed if closed else 0.0


def daily_statistics(
    *, session: Session, day: date, funnel_days: int | None = None
) -> DailyStatistics:
    start, end = day_bounds(day)
    stats = DailyStatistics(day=day)
    if funnel_days:
        stats.funnel = deal_funnel(
            session=session, start=day - timedelta(days=funnel_days - 1), end=day, as_of=end
        )
    stats.leads_by_source = dict(
        session.execute(
            select(Lead.source, func.count())
            .where(Lead.business_day == day)
            .group_by(Lead.source)
            .order_by(func.count().desc())
        ).all()
    )
    merged, rejected = session.execute(
        select(
            func.coalesce(func.sum(LeadImport.merged), 0),
            func.coalesce(func.sum(LeadImport.rejected), 0),
        )
        .where(LeadImport.kind == "leads")
        .where(LeadImport.business_day == day)
    ).one()
    stats.merged, stats.rejected = int(merged), int(rejected)
    in_day = (CallAttempt.called_at >= start) & (CallAttempt.called_at < end)
    stats.calls_by_agent = dict(
        session.execute(
            select(func.coalesce(Person.username, "—"), func.count())
            .select_from(CallAttempt)
            .outerjoin(Person, Person.id == CallAttempt.agent_id)
            .where(in_day)
            .group_by(Person.username)
            .order_by(Person.username)
        ).all()
    )
    by_outcome = dict(
        session.execute(
            select(CallAttempt.outcome, func.count()).where(in_day).group_by(CallAttempt.outcome)
        ).all()
    )
    stats.calls_by_outcome = {
        f"{LABELS[Outcome(code)]} {code}": n for code, n in sorted(by_outcome.items())
    }
    stats.calls = sum(by_outcome.values())
    stats.connected = sum(n for code, n in by_outcome.items() if Outcome(code) in CONNECTED)
    closed = dict(
        session.execute(
            select(Lead.status, func.count())
            .where(Lead.closed_at >= start)
            .where(Lead.closed_at < end)
            .group_by(Lead.status)
        ).all()
    )
    stats.closed_valid = closed.get(LeadStatus.valid, 0)
    stats.closed_invalid = closed.get(LeadStatus.invalid, 0)
    accepted = session.execute(
        select(LeadHandoff.handed_at, LeadHandoff.accepted_at)
        .where(LeadHandoff.accepted_at >= start)
        .where(LeadHandoff.accepted_at < end)
    ).all()
    stats.handoffs_accepted = len(accepted)
    if accepted:
        hours = [(a - h).total_seconds() / 3600 for h, a in accepted]
        stats.acceptance_hours_median = round(median(hours), 1)
    return stats


def render_statistics(stats: DailyStatistics) -> str:
    return render(
        "reports/leads_daily.md.j2",
        {
            **asdict(stats),
            "contact_rate": stats.contact_rate,
            "valid_rate": stats.valid_rate,
            "dimensions": DIMENSIONS,
            "waits": {
                name: duration(hours)
                for name, hours in (stats.funnel.median_hours if stats.funnel else {}).items()
            },
        },
    )


def compute_statistics(
    *, session: Session, day: date, settings: Settings
) -> tuple[DailyStatistics, str]:
    """The day's figures, the funnel of the last `deals_funnel_days` days, and their markdown
    report."""
    stats = daily_statistics(session=session, day=day, funnel_days=settings.deals_funnel_days)
    run_logger("leads").info(
        "%s: %s calls, contact rate %.1f%%, valid rate %.1f%%",
        day,
        stats.calls,
        stats.contact_rate * 100,
        stats.valid_rate * 100,
    )
    return stats, render_statistics(stats)


compute_statistics_task = data_task(
    compute_statistics, name="compute-lead-statistics", retries=1, retry_delay_seconds=5
)
