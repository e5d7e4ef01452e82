"""A small rewards world for the store, CLI, flow and portal tests: HQ, a dealer and its
staff, members with points from the ledger, and a catalogue. Fixed dates only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.settings import get_settings
from clubflow.world import seed_regions
from domain.models import Dealer, Member, Notification, Person, PointsEntry, Role
from domain.models_rewards import Reward
from domain.rewards import RewardTerms
from tasks.members.ledger import grant_points, recompute_members
from tasks.members.rewards_catalogue import save_reward

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SH)


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def terms(code: str = "WASH-1", **values) -> RewardTerms:
    base = {
        "code": code,
        "name": "精洗一次",
        "kind": "car_wash",
        "points": 300,
        "stock": 10,
        "valid_from": date(2026, 11, 1),
        "valid_to": date(2027, 3, 31),
        "voucher_days": 30,
        "refund_on_expiry": True,
    }
    return RewardTerms(**{**base, **values})


def seed_people(session: Session) -> None:
    """HQ's manager, a club admin, dealer D-BJ1 and its staff `dealer.bj1`."""
    seed_regions(session=session)
    region = "beijing"
    session.add(Dealer(code="D-BJ1", name="北京一店", city="北京", region_code=region))
    session.flush()
    dealer_id = session.execute(select(Dealer.id).where(Dealer.code == "D-BJ1")).scalar_one()
    session.add_all(
        [
            Person(username="hq.manager", name="周经理", role=Role.campaign_manager),
            Person(username="finance", name="财务-何", role=Role.finance),
            Person(
                username="dealer.bj1",
                name="北京一店顾问",
                role=Role.dealer,
                region_code=region,
                dealer_id=dealer_id,
            ),
        ]
    )
    session.flush()


def add_member(session: Session, no: str, points: int, *, phone: str | None = None) -> Member:
    """A member whose balance comes from one ledger grant."""
    member = Member(
        member_no=no,
        name=f"王{no[-2:]}",
        phone=phone or f"+86139{int(no[1:]):08d}",
        status="active",
    )
    session.add(member)
    session.flush()
    if points:
        grant_points(
            session=session,
            rows=[
                {
                    "member_id": member.id,
                    "amount": points,
                    "reason": "adjustment",
                    "idem_key": f"seed:{no}",
                    "occurred_at": at(2026, 6, 1),
                }
            ],
            settings=get_settings(),
        )
        recompute_members(
            session=session,
            member_ids=[member.id],
            now=at(2026, 6, 1),
            notify=False,
            settings=get_settings(),
        )
    session.refresh(member)
    return member


def add_reward(session: Session, code: str = "WASH-1", **values) -> Reward:
    outcome = save_reward(
        session=session,
        terms=terms(code, **values),
        by="hq.manager",
        now=NOW,
        settings=get_settings(),
    )
    assert outcome.refused is None, outcome.refused
    return outcome.reward


def balance_and_ledger(session: Session, no: str) -> tuple[int, int]:
    member = session.execute(select(Member).where(Member.member_no == no)).scalar_one()
    session.refresh(member)
    total = session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.member_id == member.id
        )
    ).scalar_one()
    return member.points, int(total)


def messages(session: Session, template: str) -> list[Notification]:
    return list(
        session.execute(
            select(Notification).where(Notification.template == template).order_by(Notification.id)
        ).scalars()
    )
