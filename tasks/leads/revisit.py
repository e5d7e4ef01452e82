"""Weekly revisit: leads unconverted for over two months, listed once a week until a result
takes them off the list, and the result each revisit call reports back.

Unconverted means: a valid, interested lead handed to a dealer and not converted, closed more
than the policy's days ago; or a lead still open (appointments) that arrived that long ago.
A revisit's result closes the lead (domain.leads_revisit) or keeps it on next week's list.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import and_, exists, or_, select, update
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ, business_date
from domain.leads_revisit import (
    LABELS,
    RevisitOutcome,
    RevisitRejected,
    parse_revisit_outcome,
    revisit_effect,
    revisit_refusal,
    unreachable_streak,
    week_of,
)
from domain.models import CallAttempt, Lead, LeadStatus, Person, Role
from domain.models_leads import LeadRevisit
from tasks.audit import actor_of
from tasks.common import data_task, run_logger
from tasks.leads.common import LeadsError, export_dir
from tasks.outbox import NotificationRequest, queue_notifications

PAGE_PATH = "/revisits"


def closed_by_revisit() -> sa.ColumnElement[bool]:
    """The lead has a revisit whose result took it off the list."""
    closed = sa.orm.aliased(LeadRevisit)
    return exists().where(closed.lead_id == Lead.id, closed.closed_lead.is_(True))


def unconverted_filter() -> sa.ColumnElement[bool]:
    """A lead still to be won (not ordered, not lost, not closed by a revisit's result): the
    one place the list, the results and "my tasks" ask it."""
    return and_(Lead.converted_at.is_(None), Lead.lost_at.is_(None), ~closed_by_revisit())


def due_for_revisit(*, now: datetime, settings: Settings) -> sa.ColumnElement[bool]:
    """Unconverted for over `leads_revisit_after_days` (strictly: the day itself is not yet)."""
    cutoff = now - timedelta(days=settings.leads_revisit_after_days)
    return and_(
        unconverted_filter(),
        or_(
            and_(
                Lead.status == LeadStatus.valid,
                Lead.outcome == "interested",
                Lead.closed_at < cutoff,
            ),
            and_(Lead.status == LeadStatus.open, Lead.arrived_at < cutoff),
        ),
    )


@dataclass
class RevisitListResult:
    week_of: date
    listed: int = 0  # on this week's list
    added: int = 0  # put on it by this run (0 when the week's list was already made)
    carried_over: int = 0  # on last week's list too
    newly_due: int = 0  # not on last week's list
    closed_last_week: int = 0  # last week's revisits whose result took the lead off the list
    converted_last_week: int = 0  # of those, ordered with us
    by_recipient: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "listed": self.listed,
            "carried_over": self.carried_over,
            "newly_due": self.newly_due,
            "closed_last_week": self.closed_last_week,
            "converted_last_week": self.converted_last_week,
        }


def list_revisits(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> RevisitListResult:
    week = week_of(business_date(now))
    rows = session.execute(
        select(Lead.id, Lead.name, Lead.phone, Lead.city, Lead.outcome, Lead.agent_id)
        .where(due_for_revisit(now=now, settings=settings))
        .order_by(Lead.id)
    ).all()
    result = RevisitListResult(week_of=week)
    if rows:
        result.added = len(
            insert_ignoring_conflicts(
                session,
                LeadRevisit,
                [
                    {"lead_id": r.id, "week_of": week, "agent_id": r.agent_id, "listed_at": now}
                    for r in rows
                ],
                on=["lead_id", "week_of"],
            )
        )
    _count_weeks(session, result)
    if rows:
        _tell_agents(session, rows, result, now=now, settings=settings, channels=channels)
    run_logger("leads").info(
        "week of %s: %s leads to revisit (%s carried over, %s newly due; %s closed last week)",
        week,
        result.listed,
        result.carried_over,
        result.newly_due,
        result.closed_last_week,
    )
    return result


def _count_weeks(session: Session, result: RevisitListResult) -> None:
    def week_rows(week: date) -> list:
        return session.execute(
            select(LeadRevisit.lead_id, LeadRevisit.result, LeadRevisit.closed_lead).where(
                LeadRevisit.week_of == week
            )
        ).all()

    this_week = {r.lead_id for r in week_rows(result.week_of)}
    last_week = week_rows(result.week_of - timedelta(days=7))
    result.listed = len(this_week)
    result.carried_over = len(this_week & {r.lead_id for r in last_week})
    result.newly_due = result.listed - result.carried_over
    result.closed_last_week = sum(1 for r in last_week if r.closed_lead)
    result.converted_last_week = sum(
        1 for r in last_week if r.closed_lead and r.result == RevisitOutcome.ordered
    )


def _tell_agents(
    session: Session,
    rows: list,
    result: RevisitListResult,
    *,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None,
) -> None:
    """Each agent (the supervisor for leads without one) gets the week's list as a CSV and
    a link to the page where the results are recorded; once a week, however often it runs."""
    week = result.week_of
    revisit_ids = dict(
        session.execute(
            select(LeadRevisit.lead_id, LeadRevisit.id).where(LeadRevisit.week_of == week)
        ).all()
    )
    last_results = dict(
        session.execute(
            select(LeadRevisit.lead_id, LeadRevisit.result)
            .where(LeadRevisit.week_of == week - timedelta(days=7))
            .where(LeadRevisit.result.is_not(None))
        ).all()
    )
    agents = dict(
        session.execute(
            select(Person.id, Person.username).where(Person.role == Role.call_agent)
        ).all()
    )
    groups: dict[str, list] = {}
    for row in rows:
        username = agents.get(row.agent_id)
        recipient = f"person:{username}" if username else "role:call_supervisor"
        groups.setdefault(recipient, []).append(row)
    folder = export_dir(settings.leads_export_dir, week)
    link = portal_link(PAGE_PATH, settings=settings, now=now)
    requests = []
    for recipient, leads in sorted(groups.items()):
        path = folder / f"revisit_{recipient.replace(':', '_')}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["revisit_id", "lead_id", "name", "phone", "city", "outcome", "last_result"]
            )
            writer.writerows(
                [
                    revisit_ids.get(r.id, ""),
                    r.id,
                    r.name,
                    r.phone,
                    r.city,
                    r.outcome or "",
                    LABELS.get(last_results.get(r.id), ""),
                ]
                for r in leads
            )
        result.by_recipient[recipient] = len(leads)
        requests.append(
            NotificationRequest(
                recipient=recipient,
                template="leads_revisit",
                context={
                    "week_of": week.isoformat(),
                    "count": len(leads),
                    "carried": sum(1 for r in leads if r.id in last_results),
                    "days": settings.leads_revisit_after_days,
                    "csv_path": str(path),
                    "link": link,
                },
                idem_key=f"leads:revisit:{week.isoformat()}:{recipient}",
            )
        )
    queue_notifications(
        session=session, requests=requests, now=now, settings=settings, channels=channels
    )


# Put this week's unconverted leads on the revisit list and tell their agents.
list_revisits_task = data_task(list_revisits, retries=1, retry_delay_seconds=5)


@task(name="publish-revisit-summary")
def publish_revisit_summary_task(result: RevisitListResult) -> str:
    lines = [
        f"# 回访名单 {result.week_of.isoformat()} 周",
        "",
        "| | 条数 |",
        "|---|---:|",
        f"| 本周名单 listed | {result.listed} |",
        f"| 上周延续 carried over | {result.carried_over} |",
        f"| 新到期 newly due | {result.newly_due} |",
        f"| 上周结束回访 closed last week | {result.closed_last_week} |",
        f"| 其中已下订 converted last week | {result.converted_last_week} |",
        "",
        "| 接收人 recipient | 条数 |",
        "|---|---:|",
        *(f"| {who} | {n} |" for who, n in sorted(result.by_recipient.items())),
    ]
    markdown = "\n".join(lines) + "\n"
    create_markdown_artifact(
        key="leads-weekly-revisit",
        markdown=markdown,
        description=f"Revisit list of the week of {result.week_of}",
    )
    return markdown


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class RecordedResult:
    revisit_id: int
    lead_id: int
    week_of: date
    outcome: RevisitOutcome
    converted: bool
    closed: bool
    unreachable_weeks: int  # in a row, this one included (0 for other results)

    @property
    def label(self) -> str:
        return LABELS[self.outcome]

    def line(self) -> str:
        """What the person who recorded it reads."""
        text = f"revisit {self.revisit_id} (lead {self.lead_id}): recorded {self.label}"
        if self.converted:
            return text + f"; lead {self.lead_id} converted (已转化), off the revisit list"
        if self.closed and self.outcome == RevisitOutcome.unreachable:
            return text + (
                f" ({self.unreachable_weeks} weeks in a row); lead {self.lead_id} closed "
                "(连续联系不上，结束回访)"
            )
        if self.closed:
            return text + f"; lead {self.lead_id} closed (结束回访)"
        return text + "; stays on next week's list (下周继续回访)"


def _username(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return session.execute(select(Person.username).where(Person.id == person_id)).scalar()


def revisit_result_refusal(*, session: Session, revisit: LeadRevisit, actor: str) -> str | None:
    """Why `actor` may not record `revisit`'s result (None: they may)."""
    return revisit_refusal(
        actor_of(session=session, username=actor),
        username=actor,
        agent_username=_username(session, revisit.agent_id),
    )


def record_revisit_result(
    *,
    session: Session,
    revisit_id: int,
    result: str,
    note: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> RecordedResult:
    """Record what the revisit call found, once; LeadsError names the revisit and why not.
    The caller records a refusal (it must outlive this transaction's rollback)."""
    revisit = session.get(LeadRevisit, revisit_id)
    if revisit is None:
        raise LeadsError(f"revisit {revisit_id}: no such revisit (回访记录不存在)")
    reason = revisit_result_refusal(session=session, revisit=revisit, actor=actor)
    if reason:
        raise LeadsError(f"revisit {revisit_id}: {reason}")
    try:
        outcome = parse_revisit_outcome(result)
    except RevisitRejected as exc:
        raise LeadsError(f"revisit {revisit_id}: {exc}") from exc
    if revisit.result is not None:
        raise LeadsError(_already(revisit))
    lead = session.get(Lead, revisit.lead_id)
    if (
        lead.converted_at is not None
        or session.execute(
            select(LeadRevisit.id).where(
                LeadRevisit.lead_id == lead.id, LeadRevisit.closed_lead.is_(True)
            )
        ).first()
    ):
        raise LeadsError(
            f"revisit {revisit_id}: lead {lead.id} is already off the revisit list "
            "(converted or closed) (线索已结束回访)"
        )
    history = session.execute(
        select(LeadRevisit.week_of, LeadRevisit.result).where(LeadRevisit.lead_id == lead.id)
    ).all()
    before = unreachable_streak(history, before=revisit.week_of)
    effect = revisit_effect(
        outcome,
        unreachable_before=before,
        unreachable_weeks=settings.leads_revisit_unreachable_weeks,
    )
    # Once, even when two people send the result at the same moment.
    stored = session.execute(
        update(LeadRevisit)
        .where(LeadRevisit.id == revisit_id, LeadRevisit.result.is_(None))
        .values(
            result=outcome.value,
            result_at=now,
            result_by=actor[:64],
            note=note.strip() or None,
            closed_lead=effect.closes,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not stored:
        session.refresh(revisit)
        raise LeadsError(_already(revisit))
    if effect.converts:
        session.execute(
            update(Lead)
            .where(Lead.id == lead.id, Lead.converted_at.is_(None))
            .values(converted_at=now)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return RecordedResult(
        revisit_id=revisit_id,
        lead_id=lead.id,
        week_of=revisit.week_of,
        outcome=outcome,
        converted=effect.converts,
        closed=effect.closes,
        unreachable_weeks=before + 1 if outcome == RevisitOutcome.unreachable else 0,
    )


def _already(revisit: LeadRevisit) -> str:
    label = LABELS.get(revisit.result, revisit.result)
    when = revisit.result_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    return (
        f"revisit {revisit.id} (lead {revisit.lead_id}): result already recorded: {label} "
        f"by {revisit.result_by} at {when} (回访结果已记录)"
    )


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class RevisitRow:
    revisit_id: int
    lead_id: int
    week_of: date
    name: str
    phone: str  # as stored: whoever shows it masks it
    city: str
    model: str
    lead_status: str
    since: datetime  # valid since (closed_at) or arrived, for open leads
    agent: str | None  # None: the call supervisor's list
    result: str | None
    result_at: datetime | None
    result_by: str | None
    note: str | None
    closed_lead: bool
    off_list: bool  # the lead was converted or closed (by this or another revisit)

    @property
    def result_label(self) -> str:
        return LABELS.get(self.result, self.result or "")

    @property
    def waiting(self) -> bool:
        return self.result is None and not self.off_list


def week_revisits(
    *, session: Session, week: date, agent: str | None = None, unassigned: bool = False
) -> list[RevisitRow]:
    """The revisits of `week`: all, one agent's (`agent`), or the supervisor's own
    (`unassigned`: leads without an agent)."""
    query = (
        select(LeadRevisit, Lead, Person.username, ~unconverted_filter())
        .join(Lead, Lead.id == LeadRevisit.lead_id)
        .outerjoin(Person, Person.id == LeadRevisit.agent_id)
        .where(LeadRevisit.week_of == week)
        .order_by(LeadRevisit.id)
    )
    if agent is not None:
        query = query.where(Person.username == agent)
    if unassigned:
        query = query.where(LeadRevisit.agent_id.is_(None))
    return [
        RevisitRow(
            revisit_id=revisit.id,
            lead_id=lead.id,
            week_of=revisit.week_of,
            name=lead.name,
            phone=lead.phone,
            city=lead.city,
            model=lead.model,
            lead_status=str(lead.status),
            since=lead.closed_at or lead.arrived_at,
            agent=username,
            result=revisit.result,
            result_at=revisit.result_at,
            result_by=revisit.result_by,
            note=revisit.note,
            closed_lead=revisit.closed_lead,
            off_list=bool(off_list),
        )
        for revisit, lead, username, off_list in session.execute(query).all()
    ]


def waiting_revisits(*, session: Session, agent_id: int | None) -> list[tuple[int, int, date]]:
    """(revisit id, lead id, week) of the revisits still waiting for a result: the lead's
    latest revisit, no result yet, the lead not converted or closed. `agent_id` None: the
    revisits without an agent (the call supervisor's)."""
    later = sa.orm.aliased(LeadRevisit)
    query = (
        select(LeadRevisit.id, LeadRevisit.lead_id, LeadRevisit.week_of)
        .join(Lead, Lead.id == LeadRevisit.lead_id)
        .where(LeadRevisit.result.is_(None))
        .where(unconverted_filter())
        .where(
            ~exists().where(
                later.lead_id == LeadRevisit.lead_id, later.week_of > LeadRevisit.week_of
            )
        )
        .order_by(LeadRevisit.week_of, LeadRevisit.id)
    )
    if agent_id is None:
        query = query.where(LeadRevisit.agent_id.is_(None))
    else:
        query = query.where(LeadRevisit.agent_id == agent_id)
    return [(r.id, r.lead_id, r.week_of) for r in session.execute(query).all()]


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    what: str  # 外呼 / 回访
    text: str


def lead_histories(*, session: Session, lead_ids: list[int]) -> dict[int, list[HistoryEntry]]:
    """Each lead's calls and revisit results, oldest first."""
    from domain.leads_outcomes import LABELS as CALL_LABELS
    from domain.leads_outcomes import Outcome

    histories: dict[int, list[HistoryEntry]] = {lead_id: [] for lead_id in lead_ids}
    if not lead_ids:
        return histories
    for call in session.execute(
        select(CallAttempt).where(CallAttempt.lead_id.in_(lead_ids)).order_by(CallAttempt.call_no)
    ).scalars():
        try:
            label = CALL_LABELS[Outcome(call.outcome)]
        except ValueError:
            label = call.outcome
        histories[call.lead_id].append(
            HistoryEntry(call.called_at, "外呼", f"第 {call.call_no} 次：{label}")
        )
    for revisit in session.execute(
        select(LeadRevisit)
        .where(LeadRevisit.lead_id.in_(lead_ids), LeadRevisit.result.is_not(None))
        .order_by(LeadRevisit.week_of)
    ).scalars():
        text = f"{revisit.week_of.isoformat()} 周：{LABELS.get(revisit.result, revisit.result)}"
        if revisit.note:
            text += f"（{revisit.note}）"
        text += f" · {revisit.result_by}"
        histories[revisit.lead_id].append(HistoryEntry(revisit.result_at, "回访", text))
    for entries in histories.values():
        entries.sort(key=lambda e: e.at)
    return histories
