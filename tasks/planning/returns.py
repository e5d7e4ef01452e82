"""The dealers' monthly return and the clubs' content.

On the 1st the operator's flow sends every active dealer its member report about last month
(the club report's own facts, rendered once and kept as sent) and the questionnaire; the
dealer's staff or its club's admin answer it (a DealerFeedback row), which the reminder on the
8th and the club report read. Clubs submit their content by kind (portal form or CSV).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.club_report import club_kpis, percent, region_kpis
from domain.models import Club, Dealer, Member
from domain.models_planning import ClubContent, DealerFeedback, DealerReturn
from domain.monthly_return import (
    ContentItem,
    ContentKind,
    ReturnAnswer,
    analysis_lines,
    correction_refusal,
    return_due,
)
from domain.permissions import club_refusal, dealer_return_refusal
from domain.planning import next_month
from domain.tabular import TableError, line_error, parse_column_map, read_table
from tasks.audit import actor_of
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_notifications
from tasks.planning.club_report import REGION_ZH, _start_of, gather_club_facts
from tasks.render import render


class ReturnError(ValueError):
    """The return cannot be answered as asked (unknown dealer, not sent, no more corrections)."""


@dataclass
class ReturnsSent:
    month: str
    sent: int  # returns sent by this run
    already: int  # sent by an earlier run (nothing queued again)
    queued: int


def activations_in_month(*, session: Session, month: date) -> dict[int, int]:
    """Members activated in `month` (Shanghai dates), per club."""
    start, end = _start_of(month), _start_of(next_month(month))
    return dict(
        session.execute(
            select(Member.club_id, func.count())
            .where(
                Member.club_id.is_not(None),
                Member.activated_at >= start,
                Member.activated_at < end,
            )
            .group_by(Member.club_id)
        ).all()
    )


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def member_reports(
    *, session: Session, month: date, settings: Settings
) -> dict[str, dict[str, object]]:
    """The member report's context per dealer code: the club report's facts and KPIs
    (gather_club_facts, domain.club_report), the month's activations, and the analysis."""
    facts = gather_club_facts(session=session, month=month, settings=settings)
    clubs = {k.key: k for k in club_kpis(facts)}
    regions = {k.key: k for k in region_kpis(facts, REGION_ZH)}
    activations = activations_in_month(session=session, month=month)
    out = {}
    for f in facts:
        if not f.dealer_code:
            continue
        k, r = clubs[f.club_code], regions[f.region_code]
        out[f.dealer_code] = {
            "club": f.club_name,
            "region": REGION_ZH.get(f.region_code, f.region_code),
            "registrations": k.new_members,
            "activations": activations.get(f.club_id, 0),
            "members_at_start": k.members_at_start,
            "members_at_end": k.members_at_end,
            "growth": percent(k.member_growth),
            "region_growth": percent(r.member_growth),
            "reactivated": k.reactivated,
            "activities": k.activities,
            "participants": k.participants,
            "per_activity": _ratio(k.participants_per_activity),
            "region_per_activity": _ratio(r.participants_per_activity),
            "posts": k.posts,
            "reads": k.reads,
            "essence": k.essence,
            "self_media": k.self_media,
            "self_media_min_reads": settings.self_media_min_reads,
            "reposts": k.reposts,
            "event_registrations": k.event_registrations,
            "analysis": analysis_lines(k, r),
        }
    return out


def send_monthly_returns(
    *, session: Session, month: date, now: datetime, settings: Settings
) -> ReturnsSent:
    """Every active dealer's return about `month`: the report rendered and kept, the row
    (one per dealer and month) and one message with the link, in one transaction. A dealer
    already sent is left alone, so a re-run sends nothing new."""
    due = return_due(month, settings.dealer_feedback_due_day)
    dealers = session.execute(
        select(Dealer.id, Dealer.code, Dealer.name)
        .where(Dealer.active.is_(True))
        .order_by(Dealer.code)
    ).all()
    sent_before = set(
        session.execute(select(DealerReturn.dealer_id).where(DealerReturn.month == month))
        .scalars()
        .all()
    )
    todo = [d for d in dealers if d.id not in sent_before]
    reports = member_reports(session=session, month=month, settings=settings) if todo else {}
    rows, requests = [], []
    link = portal_link(f"/returns?month={month:%Y-%m}", settings=settings, now=now)
    for d in todo:
        context = {
            "dealer": d.name,
            "month": f"{month:%Y-%m}",
            "due_on": due.isoformat(),
            "club": None,
            **reports.get(d.code, {}),
        }
        report = render("reports/planning_monthly_return.md.j2", context).strip()
        rows.append(
            {
                "dealer_id": d.id,
                "month": month,
                "due_on": due,
                "report_md": report,
                "sent_at": now,
                "answered_at": None,
            }
        )
        requests.append(
            NotificationRequest(
                recipient=f"dealer:{d.code}",
                template="planning_monthly_return",
                context={
                    "dealer": d.name,
                    "month": f"{month:%Y-%m}",
                    "due_on": due.isoformat(),
                    "report": report,
                    "link": link,
                },
                idem_key=f"monthly-return:{month:%Y-%m}:dealer:{d.code}",
            )
        )
    new = insert_ignoring_conflicts(session, DealerReturn, rows, on=["dealer_id", "month"])
    queued = 0
    if requests:
        queued = queue_notifications(
            session=session, requests=requests, now=now, settings=settings
        ).queued
    return ReturnsSent(f"{month:%Y-%m}", len(new), len(dealers) - len(todo), queued)


# ---------------------------------------------------------------- answering


@dataclass(frozen=True)
class ReturnView:
    dealer_id: int
    dealer_code: str
    dealer_name: str
    club_id: int | None
    club_code: str | None
    month: date
    due_on: date
    report_md: str
    sent_at: datetime
    answered_at: datetime | None
    answer: DealerFeedback | None


def _dealer(session: Session, code: str) -> Dealer:
    dealer = session.execute(select(Dealer).where(Dealer.code == code)).scalar_one_or_none()
    if dealer is None:
        raise ReturnError(f"unknown dealer {code!r}")
    return dealer


def _club_of(session: Session, dealer_id: int) -> Club | None:
    return session.execute(select(Club).where(Club.dealer_id == dealer_id)).scalar_one_or_none()


def returns_of(*, session: Session, dealer_id: int) -> list[ReturnView]:
    """The dealer's returns, newest month first, each with its answer."""
    dealer = session.get(Dealer, dealer_id)
    club = _club_of(session, dealer_id)
    answers = {
        a.month: a
        for a in session.execute(
            select(DealerFeedback).where(DealerFeedback.dealer_id == dealer_id)
        )
        .scalars()
        .all()
    }
    rows = session.execute(
        select(DealerReturn)
        .where(DealerReturn.dealer_id == dealer_id)
        .order_by(DealerReturn.month.desc())
    ).scalars()
    return [
        ReturnView(
            dealer_id=dealer.id,
            dealer_code=dealer.code,
            dealer_name=dealer.name,
            club_id=club.id if club else None,
            club_code=club.code if club else None,
            month=r.month,
            due_on=r.due_on,
            report_md=r.report_md,
            sent_at=r.sent_at,
            answered_at=r.answered_at,
            answer=answers.get(r.month),
        )
        for r in rows
    ]


def return_refusal(*, session: Session, dealer_code: str, username: str) -> str | None:
    """Why `username` may not answer `dealer_code`'s return, or None."""
    try:
        dealer = _dealer(session, dealer_code)
    except ReturnError as exc:
        return str(exc)
    club = _club_of(session, dealer.id)
    return dealer_return_refusal(
        actor_of(session=session, username=username),
        username=username,
        dealer_id=dealer.id,
        dealer=dealer.code,
        club_id=club.id if club else None,
    )


@dataclass(frozen=True)
class Answered:
    dealer_code: str
    month: str
    corrected: bool
    late: bool


def answer_return(
    *,
    session: Session,
    dealer_code: str,
    month: date,
    answer: ReturnAnswer,
    by: str,
    now: datetime,
    settings: Settings,
) -> Answered:
    """Store the dealer's answer about `month` (the caller checked who `by` is). The first
    answer creates the DealerFeedback row; a correction up to the due date replaces it."""
    dealer = _dealer(session, dealer_code)
    sent = session.execute(
        select(DealerReturn).where(DealerReturn.dealer_id == dealer.id, DealerReturn.month == month)
    ).scalar_one_or_none()
    if sent is None:
        raise ReturnError(f"no monthly return about {month:%Y-%m} was sent to dealer {dealer.code}")
    today = calendar.business_date(now)
    existing = session.execute(
        select(DealerFeedback).where(
            DealerFeedback.dealer_id == dealer.id, DealerFeedback.month == month
        )
    ).scalar_one_or_none()
    refusal = correction_refusal(
        answered=existing is not None,
        today=today,
        due_on=sent.due_on,
        corrections=settings.dealer_return_corrections,
    )
    if refusal:
        raise ReturnError(f"dealer {dealer.code} {month:%Y-%m}: {refusal}")
    values = answer.model_dump()
    if existing is None:
        insert_ignoring_conflicts(
            session,
            DealerFeedback,
            [
                {
                    "dealer_id": dealer.id,
                    "month": month,
                    "submitted_by": by,
                    "submitted_at": now,
                    "corrected_at": None,
                    **values,
                }
            ],
            on=["dealer_id", "month"],
        )
        sent.answered_at = now
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.corrected_at = now
        existing.submitted_by = by
    session.flush()
    return Answered(dealer.code, f"{month:%Y-%m}", existing is not None, today > sent.due_on)


@dataclass(frozen=True)
class ReturnStatus:
    dealer_code: str
    dealer_name: str
    sent_at: datetime
    due_on: date
    answered_at: datetime | None
    submitted_by: str | None


def return_statuses(*, session: Session, month: date) -> list[ReturnStatus]:
    """The operator's view of a month: every return sent and whether it is answered."""
    rows = session.execute(
        select(
            Dealer.code,
            Dealer.name,
            DealerReturn.sent_at,
            DealerReturn.due_on,
            DealerReturn.answered_at,
            DealerFeedback.submitted_by,
        )
        .join(Dealer, Dealer.id == DealerReturn.dealer_id)
        .outerjoin(
            DealerFeedback,
            (DealerFeedback.dealer_id == DealerReturn.dealer_id)
            & (DealerFeedback.month == DealerReturn.month),
        )
        .where(DealerReturn.month == month)
        .order_by(Dealer.code)
    ).all()
    return [ReturnStatus(*r) for r in rows]


def latest_return_month(*, session: Session) -> date | None:
    return session.execute(select(func.max(DealerReturn.month))).scalar_one_or_none()


# ---------------------------------------------------------------- club content

# Header names (en and zh) of each content field, read by domain.tabular.
CONTENT_COLUMNS = {
    "club_code": ("club", "club_code", "俱乐部"),
    "external_id": ("external_id", "id", "url", "链接", "编号"),
    "kind": ("kind", "type", "类型"),
    "published_on": ("published_on", "date", "发布日期", "日期"),
    "reads": ("reads", "阅读", "阅读量"),
    "count": ("count", "数量", "次数", "人数"),
    "channel": ("channel", "平台", "渠道"),
    "title": ("title", "标题"),
}
KIND_WORDS = {
    "帖子": ContentKind.post,
    "精华": ContentKind.essence,
    "精华帖": ContentKind.essence,
    "论坛精华帖": ContentKind.essence,
    "自媒体": ContentKind.self_media,
    "自媒体文章": ContentKind.self_media,
    "转发": ContentKind.repost,
    "报名": ContentKind.event_registration,
    "品牌活动报名": ContentKind.event_registration,
}


@dataclass(frozen=True)
class ContentRow:
    line: int
    club_code: str
    item: ContentItem


@dataclass
class ContentImport:
    added: int = 0
    already: int = 0
    refused: list[str] = field(default_factory=list)  # one line each: `line N: field: why`


def parse_content_csv(
    data: bytes | str, column_map: list[str] | None = None
) -> tuple[list[ContentRow], list[str]]:
    """The rows of a content CSV and the lines refused, each naming its line and field.
    Required: club, external_id, published_on; kind (post by default; en or zh names),
    reads, count, channel, title optional."""
    from pydantic import ValidationError

    try:
        table = read_table(
            data,
            CONTENT_COLUMNS,
            ("club_code", "external_id", "published_on"),
            parse_column_map(column_map, CONTENT_COLUMNS),
        )
    except TableError as exc:
        raise ReturnError(f"content file: {exc}") from None
    rows, refused = [], [bad.reason for bad in table.bad_lines]
    for line, record in table.records:
        values = {k: v for k, v in record.items() if k in CONTENT_COLUMNS and v != ""}
        club = values.pop("club_code", "")
        if not club:
            refused.append(line_error(line, "club", "empty"))
            continue
        if "kind" in values:
            values["kind"] = KIND_WORDS.get(values["kind"], values["kind"].lower())
        try:
            rows.append(ContentRow(line, club, ContentItem.model_validate(values)))
        except ValidationError as exc:
            e = exc.errors()[0]
            name = str(e["loc"][0]) if e["loc"] else ""
            message = e["msg"].removeprefix("Value error, ")
            if not name and ":" in message:
                name, _, message = (p.strip() for p in message.partition(":"))
            value = values.get(name)
            refused.append(
                line_error(line, name or None, f"{value!r}: {message}" if value else message)
            )
    return rows, refused


# Besides the club's own (its admin, its dealer), the operator may load a club's content.
CONTENT_OPERATORS = ("agency", "campaign_manager", "it")


def content_refusal(*, session: Session, club: Club, username: str) -> str | None:
    actor = actor_of(session=session, username=username)
    if actor is not None and actor.active and actor.role in CONTENT_OPERATORS:
        return None
    return club_refusal(
        actor,
        username=username,
        club_id=club.id,
        dealer_id=club.dealer_id,
        club=club.code,
        action="club content",
    )


def _content_row(club_id: int, item: ContentItem, by: str) -> dict:
    return {"club_id": club_id, **item.model_dump(mode="python"), "submitted_by": by}


def add_content(*, session: Session, club_id: int, item: ContentItem, by: str) -> bool:
    """One content item of a club (the portal form); False when its id is already stored."""
    return bool(
        insert_ignoring_conflicts(
            session,
            ClubContent,
            [_content_row(club_id, item, by)],
            on=["club_id", "external_id"],
        )
    )


def import_content(
    *, session: Session, rows: list[ContentRow], by: str, now: datetime
) -> ContentImport:
    """Store the rows `by` may submit (idempotent per club and external id); a row of an
    unknown club or of a club `by` may not act for is refused by line, and recorded."""
    from tasks.audit import record_refusal

    result = ContentImport()
    codes = {r.club_code for r in rows}
    clubs = {c.code: c for c in session.execute(select(Club).where(Club.code.in_(codes))).scalars()}
    allowed: dict[str, str | None] = {}
    by_club: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        club = clubs.get(r.club_code)
        if club is None:
            result.refused.append(line_error(r.line, "club", f"unknown club {r.club_code!r}"))
            continue
        if club.code not in allowed:
            allowed[club.code] = content_refusal(session=session, club=club, username=by)
            if allowed[club.code]:
                record_refusal(
                    session=session,
                    action="planning.import-content",
                    subject=f"club:{club.code}",
                    actor=by,
                    reason=allowed[club.code],
                    now=now,
                )
        if allowed[club.code]:
            result.refused.append(line_error(r.line, "club", allowed[club.code]))
            continue
        by_club[club.id].append(_content_row(club.id, r.item, by))
    for club_rows in by_club.values():
        new = insert_ignoring_conflicts(
            session, ClubContent, club_rows, on=["club_id", "external_id"]
        )
        result.added += len(new)
        result.already += len(club_rows) - len(new)
    return result


def club_content(*, session: Session, club_id: int, month: date) -> list[ClubContent]:
    return list(
        session.execute(
            select(ClubContent)
            .where(
                ClubContent.club_id == club_id,
                ClubContent.published_on >= month,
                ClubContent.published_on < next_month(month),
            )
            .order_by(ClubContent.published_on, ClubContent.id)
        ).scalars()
    )


# ---------------------------------------------------------------- tasks

send_monthly_returns_task = data_task(send_monthly_returns, retries=2)


@task(name="publish-monthly-returns", cache_policy=NO_CACHE)
def publish_monthly_returns_task(sent: ReturnsSent) -> None:
    create_table_artifact(
        key=f"monthly-returns-{sent.month}",
        table=[
            {"month": sent.month, "sent": sent.sent, "already": sent.already, "queued": sent.queued}
        ],
        description=f"Dealers' monthly returns about {sent.month}: sent by this run",
    )
