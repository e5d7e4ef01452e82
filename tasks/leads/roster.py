"""The service team's hours and the agents' roster.

Calls follow the service hours (domain.leads_plan.ServiceHours): every day, holidays
included, around the clock on peak dates. Peak dates are the campaigns' launch days and the
dates listed in `leads_peak_dates`. An agent is on duty every day unless the call supervisor
recorded a day off; on a peak date the supervisor names who covers the night, and the intake
run warns the supervisor once per date while fewer than `leads_peak_min_agents` do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.campaigns import CampaignStatus
from domain.leads_plan import ServiceHours
from domain.models import Campaign, Person, Role
from domain.models_roster import AgentRosterDay
from domain.permissions import role_refusal
from tasks.audit import actor_of
from tasks.common import data_task, run_logger
from tasks.leads.common import LeadsError
from tasks.outbox import NotificationRequest, queue_notifications

# A day of an agent's roster: off, on duty (the service hours), or on duty with night cover.
OFF, ON, NIGHT = "off", "on", "night"
STATES = (OFF, ON, NIGHT)
LABELS = {OFF: "休", ON: "班", NIGHT: "夜"}


def peak_dates(*, session: Session, settings: Settings, start: date, end: date) -> list[date]:
    """Peak dates from `start` to `end` inclusive: launch days of campaigns not rejected, and
    the festival dates of the settings."""
    launches = session.execute(
        select(Campaign.launch_date)
        .where(Campaign.launch_date >= start, Campaign.launch_date <= end)
        .where(Campaign.status != CampaignStatus.rejected)
    ).scalars()
    extra = (d for d in settings.leads_peak_dates if start <= d <= end)
    return sorted({*launches, *extra})


def service_hours(
    *, session: Session, settings: Settings, start: date, end: date | None = None
) -> ServiceHours:
    """The service hours for moments from `start` to `end` (default: `start`); the peak dates
    known reach a day either side (a lead after the close is called the next day)."""
    end = end or start
    return ServiceHours(
        opens=settings.leads_service_opens,
        closes=settings.leads_service_closes,
        peak_dates=frozenset(
            peak_dates(
                session=session,
                settings=settings,
                start=start - timedelta(days=1),
                end=end + timedelta(days=1),
            )
        ),
    )


def agents_off(*, session: Session, day: date) -> set[int]:
    """Agents with a day off recorded for `day`."""
    return set(
        session.execute(
            select(AgentRosterDay.agent_id)
            .where(AgentRosterDay.day == day)
            .where(AgentRosterDay.on_duty.is_(False))
        ).scalars()
    )


@dataclass
class RosterChange:
    agent: str
    days: dict[date, str] = field(default_factory=dict)


def set_roster(
    *,
    session: Session,
    agent: str,
    days: dict[date, str],
    by: str,
    now: datetime,
) -> RosterChange:
    """Record `agent`'s days (off, on or night). Only the call supervisor changes the roster;
    LeadsError says why not (the caller records the refusal)."""
    reason = role_refusal(
        actor_of(session=session, username=by),
        username=by,
        roles=(Role.call_supervisor.value,),
        action="changing the roster",
    )
    if reason:
        raise LeadsError(reason)
    person = session.execute(select(Person).where(Person.username == agent)).scalar_one_or_none()
    if person is None or person.role != Role.call_agent:
        raise LeadsError(f"{agent!r} is not a call agent")
    for day, state in days.items():
        if state not in STATES:
            raise LeadsError(f"{day}: unknown roster state {state!r} (one of {', '.join(STATES)})")
    existing = {
        row.day: row
        for row in session.execute(
            select(AgentRosterDay)
            .where(AgentRosterDay.agent_id == person.id)
            .where(AgentRosterDay.day.in_(list(days)))
        ).scalars()
    }
    new = []
    for day, state in sorted(days.items()):
        values = {"on_duty": state != OFF, "night": state == NIGHT, "set_by": by, "set_at": now}
        row = existing.get(day)
        if row is None:
            new.append({"agent_id": person.id, "day": day, **values})
        else:
            for key, value in values.items():
                setattr(row, key, value)
    # A concurrent change of the same day wins; this one then changes nothing twice.
    insert_ignoring_conflicts(session, AgentRosterDay, new, on=["agent_id", "day"])
    session.flush()
    return RosterChange(agent=agent, days=dict(sorted(days.items())))


@dataclass
class RosterWeek:
    days: list[date]
    peak: set[date]
    # (username, name) → state per day
    agents: dict[tuple[str, str], dict[date, str]]
    min_agents: int

    def night_cover(self, day: date) -> int:
        return sum(1 for states in self.agents.values() if states[day] == NIGHT)

    def short(self, day: date) -> bool:
        return day in self.peak and self.night_cover(day) < self.min_agents


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def roster_week(
    *, session: Session, week_of: date, settings: Settings, only: str | None = None
) -> RosterWeek:
    """The roster of the week (Monday to Sunday) holding `week_of`; `only`: one agent's."""
    start = week_start(week_of)
    days = [start + timedelta(days=n) for n in range(7)]
    query = (
        select(Person.id, Person.username, Person.name)
        .where(Person.role == Role.call_agent)
        .where(Person.active.is_(True))
        .order_by(Person.username)
    )
    if only is not None:
        query = query.where(Person.username == only)
    people = session.execute(query).all()
    recorded = {
        (row.agent_id, row.day): row
        for row in session.execute(
            select(AgentRosterDay).where(
                AgentRosterDay.day >= days[0], AgentRosterDay.day <= days[-1]
            )
        ).scalars()
    }
    agents: dict[tuple[str, str], dict[date, str]] = {}
    for agent_id, username, name in people:
        states = {}
        for day in days:
            row = recorded.get((agent_id, day))
            states[day] = (
                ON if row is None else (OFF if not row.on_duty else NIGHT if row.night else ON)
            )
        agents[(username, name)] = states
    peak = set(peak_dates(session=session, settings=settings, start=days[0], end=days[-1]))
    return RosterWeek(days, peak, agents, settings.leads_peak_min_agents)


@dataclass
class PeakCheck:
    peak_dates: list[date] = field(default_factory=list)
    short: dict[date, int] = field(default_factory=dict)  # date → agents on night cover


def check_peak_roster(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> PeakCheck:
    """Peak dates from today to `leads_peak_check_days` ahead with fewer agents on night cover
    than `leads_peak_min_agents`: the call supervisor is told, once per date."""
    today = business_date(now)
    end = today + timedelta(days=settings.leads_peak_check_days)
    result = PeakCheck(peak_dates(session=session, settings=settings, start=today, end=end))
    requests = []
    for day in result.peak_dates:
        week = roster_week(session=session, week_of=day, settings=settings)
        cover = week.night_cover(day)
        if cover >= settings.leads_peak_min_agents:
            continue
        result.short[day] = cover
        requests.append(
            NotificationRequest(
                recipient="role:call_supervisor",
                template="leads_peak_roster_short",
                context={
                    "day": day.isoformat(),
                    "cover": cover,
                    "needed": settings.leads_peak_min_agents,
                    "link": portal_link(
                        f"/roster?week_of={day.isoformat()}", settings=settings, now=now
                    ),
                },
                idem_key=f"leads:peak-roster:{day.isoformat()}",
            )
        )
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
        run_logger("leads").warning(
            "peak dates short of night cover: %s",
            ", ".join(
                f"{d} ({n}/{settings.leads_peak_min_agents})" for d, n in result.short.items()
            ),
        )
    return result


# Warn the call supervisor of peak dates the roster does not cover (once per date).
check_peak_roster_task = data_task(check_peak_roster, retries=1, retry_delay_seconds=5)
