"""The monthly club report and the dealers' feedback reminder: the store's facts gathered with
one GROUP BY per kind, the figures from domain.club_report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import case, distinct, func, select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ
from domain.club_report import (
    NOT_ANSWERED,
    ClubFacts,
    Kpis,
    bonus_share,
    club_kpis,
    feedback_due,
    percent,
    region_kpis,
    score,
)
from domain.models import Activity, Club, Dealer, Member, Recap, Registration
from domain.models_complaints import SatisfactionCall
from domain.models_planning import ClubContent, DealerFeedback
from domain.monthly_return import content_counts
from domain.planning import next_month
from domain.regions import REGIONS
from tasks.common import data_task
from tasks.members.segments import reactivated_in_month
from tasks.outbox import NotificationRequest

REGION_ZH = {r.code: r.name_zh for r in REGIONS}
# Activities that did not take place (or not yet): never counted, even with stray check-ins.
NOT_HELD = ("proposed", "in_review", "sent_back", "rejected", "cancelled")


def _start_of(day: date) -> datetime:
    """Midnight in Asia/Shanghai: a member who joined at 23:30 on the 31st joined that month."""
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)


def gather_club_facts(*, session: Session, month: date, settings: Settings) -> list[ClubFacts]:
    start, end = month, next_month(month)
    clubs = session.execute(
        select(Club.id, Club.code, Club.name, Club.region_code, Dealer.code.label("dealer"))
        .outerjoin(Dealer, Dealer.id == Club.dealer_id)
        .order_by(Club.region_code, Club.code)
    ).all()
    in_month = (
        Activity.club_id.is_not(None),
        Activity.starts_on >= start,
        Activity.starts_on < end,
        Activity.status.not_in(NOT_HELD),
    )
    held = {
        club_id: (activities, participants)
        for club_id, activities, participants in session.execute(
            select(Activity.club_id, func.count(distinct(Activity.id)), func.count(Registration.id))
            .join(Registration, Registration.activity_id == Activity.id)
            .where(*in_month, Registration.checked_in_at.is_not(None))
            .group_by(Activity.club_id)
        ).all()
    }
    by_kind: dict[int, list[tuple[str, int, int, int]]] = defaultdict(list)
    for club_id, kind, reads, count, read_enough in session.execute(
        select(
            ClubContent.club_id,
            ClubContent.kind,
            func.coalesce(func.sum(ClubContent.reads), 0),
            func.coalesce(func.sum(ClubContent.count), 0),
            func.coalesce(
                func.sum(
                    case(
                        (ClubContent.reads >= settings.self_media_min_reads, ClubContent.count),
                        else_=0,
                    )
                ),
                0,
            ),
        )
        .where(ClubContent.published_on >= start, ClubContent.published_on < end)
        .group_by(ClubContent.club_id, ClubContent.kind)
    ).all():
        by_kind[club_id].append((kind, reads, count, read_enough))
    counted = {club_id: content_counts(rows) for club_id, rows in by_kind.items()}
    content: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for club_id, c in counted.items():
        content[club_id][0] += c["posts"]
        content[club_id][1] += c["reads"]
    # The recaps of the month's activities report their media posts and reads too.
    for club_id, posts, reads in session.execute(
        select(
            Activity.club_id,
            func.coalesce(func.sum(Recap.media_posts), 0),
            func.coalesce(func.sum(Recap.media_reads), 0),
        )
        .join(Recap, Recap.activity_id == Activity.id)
        .where(*in_month)
        .group_by(Activity.club_id)
    ).all():
        content[club_id][0] += posts
        content[club_id][1] += reads
    month_start, month_end = _start_of(start), _start_of(end)
    members = {
        club_id: (at_start, new)
        for club_id, at_start, new in session.execute(
            select(
                Member.club_id,
                func.count().filter(Member.joined_at < month_start),
                func.count().filter(Member.joined_at >= month_start, Member.joined_at < month_end),
            )
            .where(Member.club_id.is_not(None))
            .group_by(Member.club_id)
        ).all()
    }
    returns = {
        row.dealer_id: row
        for row in session.execute(select(DealerFeedback).where(DealerFeedback.month == start))
        .scalars()
        .all()
    }
    satisfaction = {
        club_id: (responses, total)
        for club_id, responses, total in session.execute(
            select(
                SatisfactionCall.club_id,
                func.count(SatisfactionCall.id),
                func.coalesce(func.sum(SatisfactionCall.score), 0),
            )
            .where(
                SatisfactionCall.score.is_not(None),
                SatisfactionCall.answered_at >= month_start,
                SatisfactionCall.answered_at < month_end,
            )
            .group_by(SatisfactionCall.club_id)
        ).all()
    }
    reactivated = reactivated_in_month(session=session, year=start.year, month=start.month)
    dealer_ids = dict(session.execute(select(Dealer.code, Dealer.id)).all())
    facts = []
    for c in clubs:
        activities, participants = held.get(c.id, (0, 0))
        posts, reads = content.get(c.id, (0, 0))
        at_start, new = members.get(c.id, (0, 0))
        ret = returns.get(dealer_ids.get(c.dealer)) if c.dealer else None
        kinds = counted.get(c.id, {})
        responses, total = satisfaction.get(c.id, (0, 0))
        facts.append(
            ClubFacts(
                club_id=c.id,
                club_code=c.code,
                club_name=c.name,
                region_code=c.region_code,
                dealer_code=c.dealer,
                activities=activities,
                participants=participants,
                posts=posts,
                reads=reads,
                members_at_start=at_start,
                new_members=new,
                reactivated=reactivated.get(c.id, 0),
                sales_units=ret.sales_units if ret else None,
                referral_sales_units=ret.referral_sales_units if ret else None,
                service_revenue=ret.service_revenue if ret else None,
                member_service_revenue=ret.member_service_revenue if ret else None,
                answered=ret is not None,
                wechat_groups=ret.wechat_groups if ret else None,
                wechat_members=ret.wechat_members if ret else None,
                essence=kinds.get("essence", 0),
                self_media=kinds.get("self_media", 0),
                reposts=kinds.get("reposts", 0),
                event_registrations=kinds.get("event_registrations", 0),
                satisfaction_responses=responses,
                satisfaction_total=total,
            )
        )
    return facts


def kpi_row(k: Kpis, label: str) -> dict[str, Any]:
    return {
        label: k.name,
        "activities": k.activities,
        "participants": k.participants,
        "posts": k.posts,
        "reads": k.reads,
        "members at start": k.members_at_start,
        "new members": k.new_members,
        "reactivated": k.reactivated,
        "growth": percent(k.member_growth),
        "essence posts": k.essence,
        "self-media": k.self_media,
        "reposts": k.reposts,
        "event registrations": k.event_registrations,
        "referral share": bonus_share(k.referral_share, answered=k.answered > 0, whole="销量"),
        "after-sales share": bonus_share(
            k.after_sales_share, answered=k.answered > 0, whole="售后产值"
        ),
        "wechat members": _wechat(k),
        "satisfaction": score(k.satisfaction),
        "satisfaction responses": k.satisfaction_responses,
    }


def _wechat(k: Kpis) -> int | str:
    # Optional in the questionnaire: "未填" when the dealer answered without it.
    if not k.answered:
        return NOT_ANSWERED
    return "未填" if k.wechat_members is None else k.wechat_members


def dealer_report_requests(
    facts: list[ClubFacts], month: date, *, feedback_due_day: int
) -> list[NotificationRequest]:
    """One message per dealer with their own club's figures only."""
    due = feedback_due(month, feedback_due_day)
    by_code = {k.key: k for k in club_kpis(facts)}
    requests = []
    for f in facts:
        if not f.dealer_code:
            continue
        k = by_code[f.club_code]
        requests.append(
            NotificationRequest(
                recipient=f"dealer:{f.dealer_code}",
                template="planning_club_report",
                context={
                    "club": f.club_name,
                    "region": REGION_ZH.get(f.region_code, f.region_code),
                    "month": f"{month:%Y-%m}",
                    "activities": k.activities,
                    "participants": k.participants,
                    "posts": k.posts,
                    "reads": k.reads,
                    "members_at_start": k.members_at_start,
                    "new_members": k.new_members,
                    "reactivated": k.reactivated,
                    "growth": percent(k.member_growth),
                    "essence": k.essence,
                    "self_media": k.self_media,
                    "reposts": k.reposts,
                    "event_registrations": k.event_registrations,
                    "referral_share": bonus_share(
                        k.referral_share, answered=f.answered, whole="销量"
                    ),
                    "after_sales_share": bonus_share(
                        k.after_sales_share, answered=f.answered, whole="售后产值"
                    ),
                    "satisfaction": score(k.satisfaction),
                    "satisfaction_responses": k.satisfaction_responses,
                    "feedback_due": due.isoformat(),
                },
                idem_key=f"club-report:{month:%Y-%m}:dealer:{f.dealer_code}",
            )
        )
    return requests


def find_missing_feedback(
    *, session: Session, month: date, now: datetime, settings: Settings
) -> list[NotificationRequest]:
    """Active dealers who have not answered their return about `month` (no DealerFeedback
    row, written by the portal's /returns and `clubflow planning return`): one reminder each,
    ever, with the link to the questionnaire."""
    handed_in = select(DealerFeedback.dealer_id).where(DealerFeedback.month == month)
    dealers = session.execute(
        select(Dealer.code, Dealer.name)
        .where(Dealer.active.is_(True), Dealer.id.not_in(handed_in))
        .order_by(Dealer.code)
    ).all()
    due = feedback_due(month, settings.dealer_feedback_due_day)
    link = portal_link(f"/returns?month={month:%Y-%m}", settings=settings, now=now)
    return [
        NotificationRequest(
            recipient=f"dealer:{code}",
            template="planning_feedback_reminder",
            context={
                "dealer": name,
                "month": f"{month:%Y-%m}",
                "due_on": due.isoformat(),
                "link": link,
            },
            idem_key=f"feedback:{month:%Y-%m}:dealer:{code}:reminder",
        )
        for code, name in dealers
    ]


# ---------------------------------------------------------------- tasks


gather_club_facts_task = data_task(gather_club_facts, retries=2)
find_missing_feedback_task = data_task(find_missing_feedback)


@task(name="publish-club-report", cache_policy=NO_CACHE)
def publish_club_report_task(facts: list[ClubFacts], month: date) -> dict[str, int]:
    key = f"club-report-{month:%Y-%m}"
    regions = region_kpis(facts, REGION_ZH)
    create_table_artifact(
        key=f"{key}-regions",
        table=[{**kpi_row(k, "region"), "clubs": k.clubs} for k in regions],
        description=f"Club KPIs {month:%Y-%m} by region",
    )
    create_table_artifact(
        key=f"{key}-clubs",
        table=[{"code": k.key, **kpi_row(k, "club")} for k in club_kpis(facts)],
        description=f"Club KPIs {month:%Y-%m} by club",
    )
    return {"clubs": len(facts), "regions": len(regions)}


@task(name="compose-dealer-reports", cache_policy=NO_CACHE)
def compose_dealer_reports_task(
    facts: list[ClubFacts], month: date, settings: Settings
) -> list[NotificationRequest]:
    return dealer_report_requests(facts, month, feedback_due_day=settings.dealer_feedback_due_day)
