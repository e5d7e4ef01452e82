"""A world to run in: the seven regions always; a demo world of clubs, people, members, leads."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain.calendar import business_date
from domain.models import Club, ClubGrade, Dealer, Lead, Member, Person, Region, Role
from domain.regions import REGIONS
from tasks.retention.consent import record_registration_consent

# Three dealer cities per region for the demo world.
CITIES: dict[str, tuple[str, ...]] = {
    "beijing": ("北京", "天津", "石家庄"),
    "lanzhou": ("兰州", "西安", "银川"),
    "chengdu": ("成都", "重庆", "昆明"),
    "guangzhou": ("广州", "深圳", "福州"),
    "nanjing": ("南京", "上海", "杭州"),
    "jinan": ("济南", "青岛", "郑州"),
    "shenyang": ("沈阳", "长春", "哈尔滨"),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def seed_regions(*, session: Session) -> int:
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "name_zh": r.name_zh,
            "signature_crossing": r.signature_crossing,
            "signature_crossing_zh": r.signature_crossing_zh,
            "terrain": r.terrain,
            "seasons": list(r.seasons),
        }
        for r in REGIONS
    ]
    existing = set(session.execute(select(Region.code)).scalars())
    new = [row for row in rows if row["code"] not in existing]
    session.add_all(Region(**row) for row in new)
    session.flush()
    return len(new)


@dataclass
class WorldSize:
    clubs_per_region: int = 3
    members: int = 200
    leads: int = 500


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])


def seed_demo_world(
    *, session: Session, size: WorldSize | None = None, seed: int = 7, now: datetime | None = None
) -> dict:
    """Idempotent: natural keys (codes, usernames, phones) make a second run add nothing.

    Members joined and leads arrived before `now` (default: the clock; tests pass a fixed one).
    """
    size = size or WorldSize()
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    counts = {"regions": seed_regions(session=session)}
    clubs = _demo_clubs(size)
    counts["dealers"], counts["clubs"] = _seed_dealers_and_clubs(session=session, clubs=clubs)
    club_ids = dict(session.execute(select(Club.code, Club.id)).all())
    counts["people"] = _seed_people(session=session, clubs=clubs, club_ids=club_ids)
    counts["members"] = _seed_members(
        session=session, size=size, club_ids=club_ids, rng=rng, now=now
    )
    if size.leads and not session.execute(select(Lead.id).limit(1)).first():
        counts["leads"] = _seed_leads(session=session, size=size, rng=rng, now=now)
    session.flush()
    return counts


@dataclass(frozen=True)
class _DemoClub:
    dealer_code: str
    city: str
    region: str
    index: int  # the first club of a region is its province-level club


def _demo_clubs(size: WorldSize) -> list[_DemoClub]:
    return [
        _DemoClub(
            f"{region.code[:2].upper()}{i + 1:03d}", CITIES[region.code][i % 3], region.code, i
        )
        for region in REGIONS
        for i in range(size.clubs_per_region)
    ]


def _seed_dealers_and_clubs(*, session: Session, clubs: list[_DemoClub]) -> tuple[int, int]:
    dealers = [
        {
            "code": c.dealer_code,
            "name": f"{c.city}越野4S店{c.index + 1}",
            "city": c.city,
            "region_code": c.region,
            "active": True,
        }
        for c in clubs
    ]
    new_dealers = len(insert_ignoring_conflicts(session, Dealer, dealers, on=["code"]))
    dealer_ids = dict(session.execute(select(Dealer.code, Dealer.id)).all())
    club_rows = [
        {
            "code": f"C-{c.dealer_code}",
            "name": f"{REGIONS_ZH[c.region]}·{c.city}车友会",
            "city": c.city,
            "region_code": c.region,
            "grade": ClubGrade.city if c.index else ClubGrade.province,
            "dealer_id": dealer_ids[c.dealer_code],
        }
        for c in clubs
    ]
    return new_dealers, len(insert_ignoring_conflicts(session, Club, club_rows, on=["code"]))


# HQ and the call centre; regional specialists and club admins are added per region and club.
HQ_PEOPLE = [
    {"username": "hq.manager", "name": "周经理", "role": Role.campaign_manager},
    {"username": "hq.manager2", "name": "吴经理", "role": Role.campaign_manager},
    {"username": "legal.counsel", "name": "郑律师", "role": Role.legal},
    {"username": "agency.lead", "name": "代理公司-林", "role": Role.agency},
    {"username": "it.lead", "name": "IT-郭", "role": Role.it},
    {"username": "finance", "name": "财务-何", "role": Role.finance},
    {"username": "legal", "name": "法务-钱", "role": Role.legal},
    {"username": "call.supervisor", "name": "客服主管-高", "role": Role.call_supervisor},
]
CALL_AGENTS = 6


def _seed_people(*, session: Session, clubs: list[_DemoClub], club_ids: dict[str, int]) -> int:
    people = [dict(p) for p in HQ_PEOPLE]
    people += [
        {
            "username": f"agent{n}",
            "name": f"客服{n}号",
            "role": Role.call_agent,
            "daily_capacity": 150,
        }
        for n in range(1, CALL_AGENTS + 1)
    ]
    people += [
        {
            "username": f"specialist.{region.code}",
            "name": f"{region.name_zh}专员",
            "role": Role.regional_specialist,
            "region_code": region.code,
        }
        for region in REGIONS
    ]
    people += [
        {
            "username": f"admin.{c.dealer_code.lower()}",
            "name": f"{c.dealer_code}俱乐部管理员",
            "role": Role.club_admin,
            "region_code": c.region,
            "club_id": club_ids[f"C-{c.dealer_code}"],
        }
        for c in clubs
    ]
    dealer_ids = dict(session.execute(select(Dealer.code, Dealer.id)).all())
    people += [
        {
            "username": f"dealer.{c.dealer_code.lower()}",
            "name": f"{c.dealer_code}经销商销售顾问",
            "role": Role.dealer,
            "region_code": c.region,
            "dealer_id": dealer_ids[c.dealer_code],
        }
        for c in clubs
    ]
    defaults = {
        "region_code": None,
        "club_id": None,
        "dealer_id": None,
        "daily_capacity": 0,
        "in_rotation": True,
    }
    rows = [{**defaults, **p, "active": True} for p in people]
    return len(insert_ignoring_conflicts(session, Person, rows, on=["username"]))


def _seed_members(
    *,
    session: Session,
    size: WorldSize,
    club_ids: dict[str, int],
    rng: random.Random,
    now: datetime,
) -> int:
    club_codes = sorted(club_ids)
    members = [
        {
            "member_no": f"M{n + 1:06d}",
            "name": _name(rng),
            "phone": f"+86139{n + 1:08d}",
            "club_id": club_ids[club_codes[n % len(club_codes)]],
            "tier": "ordinary",
            "points": 0,
            "rank": "陪戎校尉",
            "service_visits": 0,
            "status": "active",
            "joined_at": now - timedelta(days=rng.randint(1, 900)),
            "birthday": date(1970 + rng.randint(0, 35), rng.randint(1, 12), rng.randint(1, 28)),
        }
        for n in range(size.members)
    ]
    ids = insert_ignoring_conflicts(session, Member, members, on=["member_no"])
    # The demo world's members said yes to marketing at registration (retention offers).
    for member_id in ids:
        record_registration_consent(session=session, member_id=member_id, marketing=True, now=now)
    return len(ids)


def _seed_leads(*, session: Session, size: WorldSize, rng: random.Random, now: datetime) -> int:
    leads = []
    for n in range(size.leads):
        region = REGIONS[n % 7]
        arrived = now - timedelta(minutes=rng.randint(0, 60 * 24 * 3))
        leads.append(
            Lead(
                phone=f"+86137{n + 1:08d}",
                name=_name(rng),
                model="越野SUV",
                city=CITIES[region.code][n % 3],
                region_code=region.code,
                source=rng.choice(["汽车之家", "懂车帝", "官网", "经销商"]),
                sources=[],
                arrived_at=arrived,
                business_day=business_date(arrived),
                status="open",
                next_call_no=1,
            )
        )
    session.add_all(leads)
    return len(leads)


REGIONS_ZH = {r.code: r.name_zh for r in REGIONS}


def inbox_channels(*, session: Session, inbox_url: str):
    """A channels block that routes every person, dealer and role of the store to one inbox
    (json://host:port), each at its own path: person/<username>, dealer/<code>, role/<role>.
    It is marked as the demo's, so `clubflow up` may replace it and never a real one."""
    from blocks.channels import NotificationChannels

    base = inbox_url.rstrip("/")
    people = session.execute(select(Person.username, Person.role, Person.region_code)).all()
    dealers = session.execute(select(Dealer.code)).scalars().all()
    roles = {str(role): f"{base}/role/{role}" for role in Role}
    roles["ops"] = f"{base}/role/ops"  # who hears of dead messages and failing channels
    for p in people:
        if p.region_code:
            roles[f"{p.role}:{p.region_code}"] = f"{base}/role/{p.role}/{p.region_code}"
    return NotificationChannels(
        people={p.username: f"{base}/person/{p.username}" for p in people},
        dealers={code: f"{base}/dealer/{code}" for code in dealers},
        roles=roles,
        member_sms_url=f"{base}/sms/{{phone}}",
        demo_inbox=True,
    )
