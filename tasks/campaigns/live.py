"""A campaign from build to live: the platform slots recorded at their gate, the dealers'
training attendance, the live KPI snapshots (the agency's CSV or its API) and the live report
against the plan's targets, with a warning to the campaign manager for a KPI behind pace.

A snapshot is a KPI's figure to date (cumulative since L) on one business day; the first
figure stored for a campaign, KPI and day counts, so a file or a feed read twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterId
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from blocks.systems import ExternalSystem
from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.campaigns import CampaignStatus, SlotLine, kpi_paces, sparkline
from domain.models import Campaign
from domain.models_campaigns import CampaignKpiSnapshot, CampaignSlot, CampaignTrainingAttendance
from domain.tabular import TableError, line_error, read_table
from tasks.campaigns.store import CampaignView, dealers_of, load_campaign
from tasks.common import data_task, run_logger
from tasks.http import fetch_all
from tasks.render import render

# ---------------------------------------------------------------- platform slots


def record_slots(
    *, session: Session, campaign_id: int, slots: list[dict[str, Any]], by: str, now: datetime
) -> int:
    """Store the slots handed in at the `slots` gate (once per slot name); returns how many
    are new."""
    rows = [
        {
            **SlotLine.model_validate(s).model_dump(),
            "campaign_id": campaign_id,
            "recorded_by": by,
            "recorded_at": now,
        }
        for s in slots
    ]
    return len(insert_ignoring_conflicts(session, CampaignSlot, rows, on=["campaign_id", "name"]))


def slot_rows(*, session: Session, campaign_id: int) -> list[CampaignSlot]:
    return list(
        session.execute(
            select(CampaignSlot)
            .where(CampaignSlot.campaign_id == campaign_id)
            .order_by(CampaignSlot.key_date, CampaignSlot.name)
        ).scalars()
    )


SLOT_COLUMNS = {
    "name": ("name", "资源位", "slot"),
    "kind": ("kind", "类型"),
    "key_date": ("key_date", "节点", "key date", "日期"),
    "applied": ("applied", "已申请"),
    "granted": ("granted", "获批"),
    "granted_qty": ("granted_qty", "获批数量", "qty"),
    "cost": ("cost", "费用"),
}
YES = {"1", "yes", "y", "true", "是", "✓"}
NO = {"", "0", "no", "n", "false", "否"}
KINDS = {"paid": "paid", "付费": "paid", "free": "free", "免费": "free"}


def parse_slots_csv(data: bytes | str) -> tuple[list[dict[str, Any]], list[str]]:
    """`name,kind,key_date,applied,granted,granted_qty,cost` rows → slot lines, and one error
    per bad line naming the line and the field (the good lines are kept)."""
    try:
        table = read_table(data, SLOT_COLUMNS, ("name", "kind", "key_date"))
    except TableError as exc:
        return [], [str(exc)]
    slots, errors = [], [b.reason for b in table.bad_lines]
    for line, row in table.records:
        try:
            slots.append(_slot(row, line))
        except ValueError as exc:
            errors.append(str(exc))
    return slots, errors


def _slot(row: dict[str, str], line: int) -> dict[str, Any]:
    def flag(name: str, default: bool) -> bool:
        value = row.get(name, "").strip().lower()
        if name not in row or value == "" and default:
            return default
        if value in YES:
            return True
        if value in NO:
            return False
        raise ValueError(line_error(line, name, f"{value!r} is not yes/no"))

    def number(name: str, kind: type) -> Any:
        raw = row.get(name, "").replace(",", "").strip() or "0"
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(line_error(line, name, f"{raw!r} is not a number")) from None
        if value < 0:
            raise ValueError(line_error(line, name, f"{raw} is negative"))
        return value

    name = row["name"].strip()
    if not name:
        raise ValueError(line_error(line, "name", "is empty"))
    kind = KINDS.get(row["kind"].strip().lower())
    if kind is None:
        raise ValueError(line_error(line, "kind", f"{row['kind']!r} is not paid or free"))
    try:
        key_date = date.fromisoformat(row["key_date"].strip())
    except ValueError:
        raise ValueError(
            line_error(line, "key_date", f"{row['key_date']!r} is not a date YYYY-MM-DD")
        ) from None
    granted_qty = number("granted_qty", int)
    return {
        "name": name,
        "kind": kind,
        "key_date": key_date.isoformat(),
        "applied": flag("applied", True),
        "granted": flag("granted", False) or granted_qty > 0,
        "granted_qty": granted_qty,
        "cost": number("cost", float),
    }


# ---------------------------------------------------------------- training attendance


def record_attendance(
    *,
    session: Session,
    campaign_id: int,
    dealers: list[str],
    attended: bool,
    by: str,
    now: datetime,
) -> list[str]:
    """Whether each dealer attended the training (the last word counts). A dealer that is no
    dealer of the campaign's regions is refused by name (ValueError, nothing stored)."""
    view = load_campaign(session=session, campaign_id=campaign_id)
    known = set(dealers_of(session=session, regions=view.regions))
    unknown = sorted(set(dealers) - known)
    if unknown:
        raise ValueError(
            f"--dealer: {', '.join(unknown)} not a dealer of {view.code}'s regions "
            f"({', '.join(view.regions)})"
        )
    existing = {
        row.dealer_code: row
        for row in session.execute(
            select(CampaignTrainingAttendance).where(
                CampaignTrainingAttendance.campaign_id == campaign_id
            )
        ).scalars()
    }
    for code in dict.fromkeys(dealers):
        row = existing.get(code)
        if row is None:
            session.add(
                CampaignTrainingAttendance(
                    campaign_id=campaign_id,
                    dealer_code=code,
                    attended=attended,
                    recorded_by=by,
                    recorded_at=now,
                )
            )
        else:
            row.attended, row.recorded_by, row.recorded_at = attended, by, now
    session.flush()
    return list(dict.fromkeys(dealers))


def attendance(*, session: Session, campaign_id: int) -> list[dict[str, Any]]:
    """Every dealer of the campaign's regions: attended True / False, or None (not recorded)."""
    view = load_campaign(session=session, campaign_id=campaign_id)
    marked = dict(
        session.execute(
            select(
                CampaignTrainingAttendance.dealer_code, CampaignTrainingAttendance.attended
            ).where(CampaignTrainingAttendance.campaign_id == campaign_id)
        ).all()
    )
    return [
        {"dealer": code, "attended": marked.get(code)}
        for code in dealers_of(session=session, regions=view.regions)
    ]


# ---------------------------------------------------------------- live KPI snapshots

SNAPSHOT_COLUMNS = {
    "campaign": ("campaign", "活动", "活动编码", "code"),
    "kpi": ("kpi", "指标"),
    "date": ("date", "日期", "day"),
    "value": ("value", "累计", "数值", "actual"),
    "period": ("period", "周期"),
}
PERIODS = {"daily": "daily", "日报": "daily", "weekly": "weekly", "周报": "weekly", "": "daily"}


@dataclass
class SnapshotImport:
    stored: int = 0
    already: int = 0
    errors: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)


def parse_snapshot_csv(data: bytes | str) -> tuple[list[dict[str, Any]], list[str]]:
    """`campaign,kpi,date,value[,period]` rows, each with its line number; one error per bad
    line naming the line and the field."""
    try:
        table = read_table(data, SNAPSHOT_COLUMNS, ("campaign", "kpi", "date", "value"))
    except TableError as exc:
        return [], [str(exc)]
    rows, errors = [], [b.reason for b in table.bad_lines]
    for line, row in table.records:
        problem = None
        try:
            day = date.fromisoformat(row["date"].strip())
        except ValueError:
            day, problem = None, line_error(line, "date", f"{row['date']!r} is not YYYY-MM-DD")
        raw = row["value"].replace(",", "").strip()
        try:
            value = float(raw)
        except ValueError:
            value, problem = None, problem or line_error(line, "value", f"{raw!r} is not a number")
        period = PERIODS.get(row.get("period", "").strip().lower())
        if period is None:
            problem = problem or line_error(
                line, "period", f"{row['period']!r} is not daily/weekly"
            )
        for name in ("campaign", "kpi"):
            if not row[name].strip():
                problem = problem or line_error(line, name, "is empty")
        if problem:
            errors.append(problem)
            continue
        rows.append(
            {
                "line": line,
                "campaign": row["campaign"].strip(),
                "kpi": row["kpi"].strip(),
                "day": day,
                "value": value,
                "period": period,
            }
        )
    return rows, errors


def store_snapshots(
    *, session: Session, rows: list[dict[str, Any]], source: str, now: datetime
) -> SnapshotImport:
    """Store each good row once per campaign, KPI and day. A row naming an unknown campaign,
    a KPI the plan does not have, or a day outside L … end is refused by its line."""
    result = SnapshotImport()
    views: dict[str, CampaignView | None] = {}
    new = []
    for row in rows:
        where = row.get("line")
        code = row["campaign"]
        if code not in views:
            try:
                views[code] = load_campaign(session=session, code=code)
            except LookupError:
                views[code] = None
        view = views[code]
        problem = None
        if view is None:
            problem = ("campaign", f"no campaign {code!r}")
        elif row["kpi"] not in {k["name"] for k in view.kpis}:
            names = ", ".join(k["name"] for k in view.kpis)
            problem = ("kpi", f"{row['kpi']!r} is no KPI of {code} ({names})")
        elif not view.launch_date <= row["day"] <= view.end_date:
            problem = ("date", f"{row['day']} is outside {view.launch_date} … {view.end_date}")
        if problem:
            label = f"line {where}" if where else f"{code} {row['kpi']} {row['day']}"
            result.errors.append(f"{label}: {problem[0]}: {problem[1]}")
            continue
        new.append(
            {
                "campaign_id": view.id,
                "kpi": row["kpi"],
                "day": row["day"],
                "value": float(row["value"]),
                "period": row.get("period") or "daily",
                "source": source[:120],
                "recorded_at": now,
            }
        )
        if code not in result.campaigns:
            result.campaigns.append(code)
    added = insert_ignoring_conflicts(
        session, CampaignKpiSnapshot, new, on=["campaign_id", "kpi", "day"]
    )
    result.stored, result.already = len(added), len(new) - len(added)
    return result


def fetch_agency_kpis(
    *, system: ExternalSystem, code: str, transport: Any = None
) -> list[dict[str, Any]]:
    """The agency API's snapshots of one campaign: `GET /campaigns/<code>/kpis` in pages of
    `{"items": [{"kpi", "date", "value", "period"}], "next_page"}`."""
    items = fetch_all(system, f"/campaigns/{code}/kpis", transport=transport)
    return [
        {
            "campaign": code,
            "kpi": str(i["kpi"]),
            "day": date.fromisoformat(str(i["date"])),
            "value": float(i["value"]),
            "period": PERIODS.get(str(i.get("period") or "").lower(), "daily"),
        }
        for i in items
    ]


# ---------------------------------------------------------------- the live report


class LiveKpi(BaseModel):
    name: str
    unit: str
    target: float
    actual: float | None
    expected: float
    attainment: float | None
    behind: bool
    series: list[tuple[date, float]]
    spark: str


class LiveView(BaseModel):
    campaign_id: int
    code: str
    name: str
    started_by: str
    status: str
    launch_date: date
    end_date: date
    day: date
    share: float
    tolerance: float
    kpis: list[LiveKpi]
    live_artifact_id: str | None = None

    @property
    def behind(self) -> list[LiveKpi]:
        return [k for k in self.kpis if k.behind]


def kpi_series(*, session: Session, campaign_id: int) -> dict[str, list[tuple[date, float]]]:
    """Each KPI's snapshots by day, oldest first."""
    series: dict[str, list[tuple[date, float]]] = {}
    for kpi, day, value in session.execute(
        select(CampaignKpiSnapshot.kpi, CampaignKpiSnapshot.day, CampaignKpiSnapshot.value)
        .where(CampaignKpiSnapshot.campaign_id == campaign_id)
        .order_by(CampaignKpiSnapshot.day)
    ).all():
        series.setdefault(kpi, []).append((day, value))
    return series


def live_report(*, session: Session, campaign_id: int, today: date, settings: Settings) -> LiveView:
    """The campaign on `today`: each KPI's latest figure to date against the share of its
    target due by then (behind pace below that × `kpi_pace_tolerance`)."""
    view = load_campaign(session=session, campaign_id=campaign_id)
    series = kpi_series(session=session, campaign_id=campaign_id)
    until = {k: [(d, v) for d, v in s if d <= today] for k, s in series.items()}
    latest = {k: s[-1][1] for k, s in until.items() if s}
    paces = kpi_paces(
        view.kpis,
        latest,
        launch=view.launch_date,
        end=view.end_date,
        day=today,
        tolerance=settings.kpi_pace_tolerance,
    )
    share = round(min(max((today - view.launch_date).days + 1, 0), _days(view)) / _days(view), 4)
    campaign = session.get(Campaign, campaign_id)
    return LiveView(
        campaign_id=view.id,
        code=view.code,
        name=view.name,
        started_by=view.started_by,
        status=view.status,
        launch_date=view.launch_date,
        end_date=view.end_date,
        day=today,
        share=share,
        tolerance=settings.kpi_pace_tolerance,
        kpis=[
            LiveKpi(
                name=p.name,
                unit=p.unit,
                target=p.target,
                actual=p.actual,
                expected=p.expected,
                attainment=p.attainment,
                behind=p.behind,
                series=until.get(p.name, []),
                spark=sparkline([v for _, v in until.get(p.name, [])]),
            )
            for p in paces
        ],
        live_artifact_id=campaign.live_artifact_id,
    )


def _days(view: CampaignView) -> int:
    return (view.end_date - view.launch_date).days + 1


def live_campaigns(*, session: Session, today: date) -> list[int]:
    """Campaigns running on `today` (L … end), or live by status."""
    return list(
        session.execute(
            select(Campaign.id)
            .where(
                Campaign.status.in_([CampaignStatus.ready, CampaignStatus.live]),
                Campaign.launch_date <= today,
                Campaign.end_date >= today,
            )
            .order_by(Campaign.id)
        ).scalars()
    )


def remember_live_artifact(*, session: Session, campaign_id: int, artifact_id: str) -> None:
    campaign = session.get(Campaign, campaign_id)
    if campaign.live_artifact_id != artifact_id:
        campaign.live_artifact_id = artifact_id
        session.flush()


def live_markdown(live: LiveView) -> str:
    return render("reports/campaign_live.md.j2", {"live": live.model_dump()})


@task(name="publish-live-report", cache_policy=NO_CACHE)
def publish_live_report_task(live: LiveView) -> str:
    """The campaign's one live report artifact (key `campaign-<code>-live`), updated in place
    by each run; created when it does not exist yet. Returns its id."""
    markdown = live_markdown(live)
    description = f"{live.name}: live KPIs on {live.day}" + (
        f" · {len(live.behind)} behind pace" if live.behind else ""
    )
    if live.live_artifact_id:
        with get_client(sync_client=True) as client:
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    id=ArtifactFilterId(any_=[UUID(live.live_artifact_id)])
                ),
                limit=1,
            )
            if found:
                client.update_artifact(
                    UUID(live.live_artifact_id),
                    ArtifactUpdate(data=markdown, description=description),
                )
                return live.live_artifact_id
    created = create_markdown_artifact(
        key=f"campaign-{live.code}-live".lower(), markdown=markdown, description=description
    )
    return str(created)


@task(name="fetch-agency-kpis", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def fetch_agency_kpis_task(code: str, block_name: str, transport: Any = None) -> list[dict]:
    """The agency API's snapshots of campaign `code`; none when its block is not saved."""
    try:
        system = ExternalSystem.load(block_name)
    except ValueError:
        run_logger("campaigns").info("no %r block saved: no agency KPI API", block_name)
        return []
    return fetch_agency_kpis(system=system, code=code, transport=transport)


record_slots_task = data_task(record_slots, retries=2)
store_snapshots_task = data_task(store_snapshots, name="store-kpi-snapshots", retries=2)
live_report_task = data_task(live_report, name="compute-live-report", retries=2)
live_campaigns_task = data_task(live_campaigns, name="find-live-campaigns", retries=2)
remember_live_artifact_task = data_task(remember_live_artifact, retries=2)
