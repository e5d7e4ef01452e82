"""Store and publish a quarter plan: the rotation history, the plan and its club slots, the
ICS calendar file and the table artifacts.

Data functions take the session (keyword-only); the tasks at the bottom are what the flows
call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain import calendar
from domain.ics import quarter_calendar
from domain.models import Club, ClubGrade, Dealer
from domain.models_planning import ClubSlot, QuarterPlanRecord, RotationHosting
from domain.planning import ClubRef, QuarterPlan, SlotStatus, plan_quarter
from domain.regions import REGIONS, region_info
from domain.rotation import HostChoice, Hosting, Override, Quarter, Rotation
from tasks.common import data_task
from tasks.render import render

REGION_ZH = {r.code: r.name_zh for r in REGIONS}


class PlanningError(ValueError):
    """A plan cannot be made as asked; the message names the quarter and what is wrong."""


def next_quarter(now: datetime) -> Quarter:
    """The quarter a run at `now` plans: the one after the current business quarter."""
    return Quarter.of(calendar.business_date(now)).next()


# ---------------------------------------------------------------- rotation history


def _hosting(row: RotationHosting) -> Hosting:
    return Hosting(
        quarter=Quarter.parse(row.quarter),
        region=row.region_code,
        month=row.month,
        override=row.override,
        # The stored reason of a rule's choice is its explanation, not an override reason.
        reason=row.reason if row.override else "",
        on_cycle=row.on_cycle,
        cycle=row.cycle,
    )


def load_rotation_records(*, session: Session) -> list[RotationHosting]:
    """The stored history rows (with who decided and the rule's explanation), in order."""
    rows = session.execute(select(RotationHosting)).scalars().all()
    return sorted(rows, key=lambda r: Quarter.parse(r.quarter))


def load_rotation_history(*, session: Session) -> list[Hosting]:
    rows = session.execute(select(RotationHosting)).scalars().all()
    return sorted((_hosting(r) for r in rows), key=lambda h: h.quarter)


def choose_crossing_host(
    *,
    session: Session,
    quarter: Quarter,
    override: Override | None,
    decided_by: str,
    now: datetime,
) -> HostChoice:
    """The quarter's host, recorded in the rotation history; a quarter already decided keeps
    its host (a re-run changes nothing; a different override for it is refused)."""
    rows = session.execute(select(RotationHosting)).scalars().all()
    history = sorted((_hosting(r) for r in rows), key=lambda h: h.quarter)
    decided = {h.quarter: h for h in history}
    if quarter in decided:
        existing = decided[quarter]
        stored_why = next(r.reason for r in rows if r.quarter == str(quarter))
        if override is not None and region_info(override.region).code != existing.region:
            raise PlanningError(
                f"quarter {quarter}: already planned with host {existing.region} "
                f"({'override' if existing.override else 'rotation'}); "
                "an override cannot change a published plan"
            )
        why = f"manual override: {stored_why}" if existing.override else stored_why
        return HostChoice(existing, why)
    later = [h for h in history if h.quarter > quarter]
    if later:
        raise PlanningError(
            f"quarter {quarter}: the rotation already runs to {later[-1].quarter}; "
            "plan quarters in order"
        )
    rotation = Rotation(history)
    choice = rotation.choose(quarter, override)
    h = choice.hosting
    insert_ignoring_conflicts(
        session,
        RotationHosting,
        [
            {
                "quarter": str(h.quarter),
                "region_code": h.region,
                "month": h.month,
                "on_cycle": h.on_cycle,
                "cycle": h.cycle,
                "override": h.override,
                "reason": h.reason if h.override else choice.why,
                "decided_by": decided_by,
                "created_at": now,
            }
        ],
        on=["quarter"],
    )
    return choice


def upcoming_hosts(*, session: Session, after: Quarter, count: int = 7) -> list[HostChoice]:
    """The next `count` hosts the rule would choose after the history (nothing is stored)."""
    history = load_rotation_history(session=session)
    start = max([after, *(h.quarter.next() for h in history)])
    return Rotation(history).plan(start, count)


# ---------------------------------------------------------------- the plan


def load_clubs(*, session: Session) -> list[ClubRef]:
    rows = session.execute(
        select(Club.id, Club.code, Club.name, Club.region_code, Club.grade)
        .outerjoin(Dealer, Dealer.id == Club.dealer_id)
        # A club whose dealer left the network gets no slots.
        .where((Club.dealer_id.is_(None)) | (Dealer.active.is_(True)))
        .order_by(Club.region_code, Club.code)
    ).all()
    return [
        ClubRef(
            id=r.id,
            code=r.code,
            name=r.name,
            region_code=r.region_code,
            province=r.grade == ClubGrade.province,
        )
        for r in rows
    ]


def build_quarter_plan(
    *, session: Session, quarter: Quarter, hosting: Hosting, settings: Settings
) -> QuarterPlan:
    return plan_quarter(
        quarter,
        hosting,
        load_clubs(session=session),
        gathering_month=settings.national_gathering_month,
        gathering_host=settings.national_gathering_host,
        gathering_terrain=settings.national_gathering_terrain,
        gathering_features=settings.national_gathering_features,
        due_working_days=settings.monthly_plan_due_working_days,
        is_working_day=calendar.is_working_day,
        add_working_days=calendar.add_working_days,
    )


@dataclass
class StoredPlan:
    plan_id: int
    created: bool
    slots_added: int
    planned_at: datetime


def store_quarter_plan(
    *,
    session: Session,
    plan: QuarterPlan,
    planned_by: str,
    now: datetime,
    flow_run_id: str | None = None,
) -> StoredPlan:
    """The plan row and every club slot, in bulk; what is already stored stays as it is."""
    c, g = plan.crossing, plan.gathering
    created = insert_ignoring_conflicts(
        session,
        QuarterPlanRecord,
        [
            {
                "quarter": str(plan.quarter),
                "crossing_region": c.region,
                "crossing_theme": c.theme,
                "crossing_month": c.month,
                "crossing_starts_on": c.starts_on,
                "crossing_ends_on": c.ends_on,
                "crossing_club": c.organiser_club,
                "crossing_activity_code": c.activity_code,
                "gathering_title": g.title if g else None,
                "gathering_starts_on": g.starts_on if g else None,
                "gathering_ends_on": g.ends_on if g else None,
                "slots": len(plan.slots),
                "planned_by": planned_by,
                "flow_run_id": flow_run_id,
                "created_at": now,
            }
        ],
        on=["quarter"],
    )
    record = session.execute(
        select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == str(plan.quarter))
    ).scalar_one()
    added = insert_ignoring_conflicts(
        session,
        ClubSlot,
        [
            {
                "plan_id": record.id,
                "quarter": str(plan.quarter),
                "club_id": s.club_id,
                "region_code": s.region_code,
                "month": s.month,
                "season": s.season,
                "theme": s.theme,
                "due_on": s.due_on,
                "status": SlotStatus.open,
            }
            for s in plan.slots
        ],
        on=["club_id", "month"],
    )
    if len(added) and not created:
        record.slots = len(plan.slots)  # clubs that joined since the first run
    return StoredPlan(record.id, bool(created), len(added), record.created_at)


def write_calendar_file(*, plan: QuarterPlan, directory: Path, stamp: datetime) -> Path:
    """<directory>/clubflow-<quarter>.ics, written atomically (a reader never sees half)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"clubflow-{plan.quarter}.ics"
    data = quarter_calendar(plan, stamp=stamp, region_names=REGION_ZH)
    tmp = path.with_suffix(".ics.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_plan_calendar(
    *,
    session: Session,
    plan: QuarterPlan,
    stamp: datetime,
    directory: str | None = None,
    settings: Settings,
) -> str:
    """Write the plan's ICS file (`directory`, else the plans_dir setting) and record where."""
    path = write_calendar_file(
        plan=plan, directory=Path(directory or settings.plans_dir), stamp=stamp
    )
    record = session.execute(
        select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == str(plan.quarter))
    ).scalar_one()
    record.ics_path = str(path)
    return str(path)


# ---------------------------------------------------------------- artifacts


def plan_by_region(plan: QuarterPlan) -> list[dict]:
    """One row per region: clubs, slots per month with their theme, crossing role."""
    clubs = Counter(s.region_code for s in plan.slots if s.month.month == plan.quarter.months[0])
    due = {s.month: s.due_on for s in plan.slots}
    rows = []
    for region in REGIONS:
        row = {
            "region": region.name_zh,
            "clubs": clubs.get(region.code, 0),
            "crossing": "主办" if region.code == plan.crossing.region else "受邀",
        }
        for month, due_on in sorted(due.items()):
            row[f"{month.month}月 slots (due)"] = f"{clubs.get(region.code, 0)} ({due_on:%m-%d})"
        rows.append(row)
    return rows


def plan_by_month(plan: QuarterPlan) -> list[dict]:
    """One row per month: the crossing, the gathering, the club slots and their theme."""
    rows = []
    for m in plan.quarter.months:
        slots = [s for s in plan.slots if s.month.month == m]
        events = []
        c = plan.crossing
        if c.month == m:
            events.append(f"跨区穿越 {c.region_zh} {c.theme} {c.starts_on:%m-%d}–{c.ends_on:%m-%d}")
        g = plan.gathering
        if g is not None and g.starts_on.month == m:
            events.append(f"{g.title} {g.starts_on:%m-%d}–{g.ends_on:%m-%d}")
        rows.append(
            {
                "month": f"{plan.quarter.year}-{m:02d}",
                "events": "；".join(events) or "—",
                "club slots": len(slots),
                "theme": slots[0].theme if slots else "—",
                "plans due": f"{slots[0].due_on:%Y-%m-%d}" if slots else "—",
            }
        )
    return rows


@task(name="publish-plan-artifacts", cache_policy=NO_CACHE)
def publish_plan_artifacts_task(plan: QuarterPlan, why: str, ics_path: str) -> None:
    """The plan as the run's artifacts: the overview, by region, by month."""
    key = f"plan-{str(plan.quarter).lower()}"
    create_markdown_artifact(
        key=key,
        markdown=render(
            "reports/planning_quarter.md.j2",
            {"plan": plan, "why": why, "ics_path": ics_path, "months": plan_by_month(plan)},
        ),
        description=f"Quarter plan {plan.quarter}",
    )
    create_table_artifact(
        key=f"{key}-by-region",
        table=plan_by_region(plan),
        description=f"Quarter plan {plan.quarter} by region",
    )
    create_table_artifact(
        key=f"{key}-by-month",
        table=plan_by_month(plan),
        description=f"Quarter plan {plan.quarter} by month",
    )


# ---------------------------------------------------------------- tasks

choose_crossing_host_task = data_task(choose_crossing_host, retries=2, retry_delay_seconds=[2, 10])
build_quarter_plan_task = data_task(build_quarter_plan)
store_quarter_plan_task = data_task(store_quarter_plan, retries=2, retry_delay_seconds=[2, 10])
write_plan_calendar_task = data_task(write_plan_calendar)
