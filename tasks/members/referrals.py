"""Referral rewards: a referred member who activates (registration) or buys gives both sides
their points once; the referrer is rewarded for at most `referral_yearly_cap` events a year.

A reward is a `ReferralReward` row (unique per referred member and event) and its ledger rows
(keyed by the reward), written with the notifications in one transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.members import MemberStatus, recipient, referral_reward_for_referrer
from domain.models import Member
from domain.models_members import MemberInteraction, ReferralReward
from tasks.common import data_task
from tasks.members.ledger import grant_points, recompute_members
from tasks.outbox import NotificationRequest, queue_notifications

EVENT_ZH = {"register": "注册激活", "purchase": "购车"}


@dataclass
class ReferralReport:
    rewarded: int = 0
    capped: int = 0
    points: int = 0
    events: list[str] = field(default_factory=list)  # "M000061 register"


def pending_referral_events(*, session: Session) -> list[tuple[int, int, str, datetime]]:
    """(referee id, referrer id, event, when) of referral events not rewarded yet, oldest
    first: activation of a referred member, and a referred member's first purchase."""
    done = aliased(ReferralReward)
    registered = (
        select(Member.id, Member.referred_by_id, Member.activated_at)
        .outerjoin(done, and_(done.referee_id == Member.id, done.event == "register"))
        .where(
            Member.referred_by_id.is_not(None),
            Member.status == MemberStatus.active,
            Member.activated_at.is_not(None),
            done.id.is_(None),
        )
    )
    first_purchase = (
        select(MemberInteraction.member_id, func.min(MemberInteraction.occurred_at).label("at"))
        .where(MemberInteraction.kind == "purchase")
        .group_by(MemberInteraction.member_id)
        .subquery()
    )
    purchased = (
        select(Member.id, Member.referred_by_id, first_purchase.c.at)
        .join(first_purchase, first_purchase.c.member_id == Member.id)
        .outerjoin(done, and_(done.referee_id == Member.id, done.event == "purchase"))
        .where(Member.referred_by_id.is_not(None), done.id.is_(None))
    )
    events = [(a, b, "register", at) for a, b, at in session.execute(registered).all()]
    events += [(a, b, "purchase", at) for a, b, at in session.execute(purchased).all()]
    return sorted(events, key=lambda e: (e[3], e[0], e[2]))


def reward_referrals(*, session: Session, now: datetime, settings: Settings) -> ReferralReport:
    report = ReferralReport()
    events = pending_referral_events(session=session)
    if not events:
        return report
    years = {business_date(at).year for *_, at in events}
    used = Counter(
        dict(
            (
                ((referrer, year), count)
                for referrer, year, count in session.execute(
                    select(ReferralReward.referrer_id, ReferralReward.year, func.count())
                    .where(ReferralReward.year.in_(years), ReferralReward.referrer_points > 0)
                    .group_by(ReferralReward.referrer_id, ReferralReward.year)
                ).all()
            )
        )
    )
    rows = []
    for referee, referrer, event, at in events:
        year = business_date(at).year
        points = settings.referral_points.get(event, 0)
        referrer_points = referral_reward_for_referrer(
            points, used[(referrer, year)], settings.referral_yearly_cap
        )
        if referrer_points:
            used[(referrer, year)] += 1
        rows.append(
            {
                "referrer_id": referrer,
                "referee_id": referee,
                "event": event,
                "year": year,
                "referrer_points": referrer_points,
                "referee_points": points,
                "capped": referrer_points == 0 and points > 0,
                "rewarded_at": now,
            }
        )
    new_ids = insert_ignoring_conflicts(session, ReferralReward, rows, on=["referee_id", "event"])
    if not new_ids:
        return report
    rewards = (
        session.execute(
            select(ReferralReward).where(ReferralReward.id.in_(new_ids)).order_by(ReferralReward.id)
        )
        .scalars()
        .all()
    )
    ids = {r.referrer_id for r in rewards} | {r.referee_id for r in rewards}
    people = {
        i: (no, name)
        for i, no, name in session.execute(
            select(Member.id, Member.member_no, Member.name).where(Member.id.in_(ids))
        ).all()
    }
    ledger, requests = [], []
    for reward in rewards:
        sides = (
            ("referrer", reward.referrer_id, reward.referrer_points, reward.referee_id),
            ("referee", reward.referee_id, reward.referee_points, reward.referrer_id),
        )
        for side, member_id, points, other in sides:
            if points <= 0:
                continue
            ledger.append(
                {
                    "member_id": member_id,
                    "amount": points,
                    "reason": "referral",
                    "idem_key": f"referral:{reward.id}:{side}",
                    "occurred_at": now,
                }
            )
            no, name = people[member_id]
            requests.append(
                NotificationRequest(
                    recipient=recipient(no),
                    template="member_referral_reward",
                    context={
                        "name": name,
                        "points": points,
                        "side": side,
                        "other": people[other][1],
                        "event": EVENT_ZH.get(reward.event, reward.event),
                    },
                    idem_key=f"member:{no}:referral:{reward.id}:{side}",
                )
            )
        report.rewarded += 1
        report.capped += reward.capped
        report.points += reward.referrer_points + reward.referee_points
        report.events.append(f"{people[reward.referee_id][0]} {reward.event}")
    grant_points(session=session, rows=ledger, settings=settings)
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    recompute_members(session=session, member_ids=ids, now=now, settings=settings)
    return report


reward_referrals_task = data_task(
    reward_referrals, name="pay-referral-rewards", retries=2, retry_delay_seconds=5
)
