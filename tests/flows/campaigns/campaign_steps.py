"""Shared steps of the campaign flow tests: a plan, the store's rows, driving the pipeline."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from clubflow.core.db import session_scope
from domain.models import Decision, Gate, Notification
from flows.notifications import deliver_notifications
from flows.sweep import sweep
from tasks.campaigns.store import load_campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=SHANGHAI)  # a Monday
LAUNCH = date(2026, 9, 21)  # 49 days later
END = date(2026, 9, 27)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def plan(code: str = "2026-mid-autumn", **overrides) -> dict:
    data = {
        "code": code,
        "name": "2026 中秋国庆",
        "kind": "ecommerce_festival",
        "launch_date": LAUNCH.isoformat(),
        "end_date": END.isoformat(),
        "regions": ["chengdu"],
        "summary": "天猫、京东双平台，试驾预约送积分",
        "policy": "到店试驾送 500 积分，订车送全年保养",
        "budget": [
            {"item": "平台资源位", "amount": 300000},
            {"item": "试驾礼品", "amount": 80000},
        ],
        "kpis": [
            {"name": "线索量", "target": 2000, "unit": "条"},
            {"name": "订单", "target": 150, "unit": "台"},
        ],
        "handbook_url": "https://example.invalid/handbook.pdf",
        "started_by": "hq.manager",
    }
    data.update(overrides)
    return data


def start(runner, data: dict | None = None, now: datetime = NOW):
    runner.start("campaign-pipeline", {"plan": data or plan(), "now": now.isoformat()})
    return runner.run_pending()


def campaign(db_url: str, code: str = "2026-mid-autumn"):
    with session_scope(db_url) as session:
        return load_campaign(session=session, code=code)


def decisions(db_url: str) -> list[Decision]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Decision).order_by(Decision.id)).scalars())


def gates(db_url: str) -> list[Gate]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Gate).order_by(Gate.id)).scalars())


def notification_count(db_url: str) -> int:
    with session_scope(db_url) as session:
        return session.execute(select(func.count()).select_from(Notification)).scalar_one()


def deliver(now: datetime) -> None:
    deliver_notifications(now=now)


def sweep_on(day: date) -> dict:
    result = sweep(now=at(day))
    deliver(at(day, 11))
    return result


def campaign_messages(messages):
    """This campaign's messages: the same sweep also runs the other areas' dated steps (the
    monthly competitor report, say)."""
    return [m for m in messages if "2026 中秋国庆" in m.title]


def titles(sink, path: str) -> list[str]:
    """The titles of the campaign's messages to `path` (the same sweep also runs the other
    areas' dated steps: the monthly competitor report goes to the agency too)."""
    return [m.title for m in campaign_messages(sink.to(path))]


def duplicates(sink) -> list:
    seen = Counter((m.path, m.title, m.body) for m in sink.messages)
    return [k for k, n in seen.items() if n > 1]


def retry(run_id) -> None:
    """What the UI's Retry does to a failed run: schedule it again (from the top)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Scheduled(), force=True)


def through_signoff(runner, code: str = "campaign:2026-mid-autumn", now: datetime = NOW) -> None:
    from tasks.gates.decisions import decide

    decide(code, "plan_review", decider="hq.manager", outcome="approve", now=now)
    runner.run_pending()
    decide(code, "signoff", decider="hq.manager", outcome="approve", now=now)
    runner.run_pending()


SLOTS = [
    {"name": "天猫首页焦点图", "kind": "paid", "key_date": "2026-09-01", "applied": True,
     "granted": True, "granted_qty": 2, "cost": 50000},
    {"name": "京东频道免费位", "kind": "free", "key_date": "2026-09-05", "applied": True,
     "granted": False, "granted_qty": 0, "cost": 0},
]  # fmt: skip


def through_build(runner, code: str = "campaign:2026-mid-autumn", now: datetime = NOW) -> None:
    """After IT's check: the agency records the slots, IT confirms the build, the agency the
    go-live; the run then waits for the KPI figures."""
    from tasks.gates.decisions import decide

    decide(
        code, "slots", decider="agency.lead", outcome="recorded", extra={"slots": SLOTS}, now=now
    )
    runner.run_pending()
    decide(code, "build_test", decider="it.lead", outcome="confirmed", now=now)
    runner.run_pending()
    decide(code, "golive", decider="agency.lead", outcome="confirmed", now=now)
    runner.run_pending()
