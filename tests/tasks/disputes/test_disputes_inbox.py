"""Open disputes and incidents are on their handlers' "my tasks": HQ sees the step a dispute
owes and its deadline, a regional specialist only their region's incidents."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings
from tasks.disputes.cases import acknowledge_dispute, file_dispute
from tasks.disputes.incidents import report_incident
from tasks.gates.inbox import waiting_on

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(_env_file=None)
FILED = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)  # a Monday


def _items(db_url, username: str, today: date, kind: str):
    with session_scope(db_url) as session:
        return [
            i for i in waiting_on(session=session, username=username, today=today) if i.kind == kind
        ]


def test_a_filed_dispute_waits_on_hq_to_acknowledge_then_to_settle(world, db_url):
    with session_scope(db_url) as session:
        code = file_dispute(
            session=session, username="dealer.ch001", kind="customer_dealer",
            claimant="张先生 13812345678", respondent="CH001 经销商", summary="保养费用争议",
            dealer_code="CH001", now=FILED, settings=SETTINGS,
        ).code  # fmt: skip
    [item] = _items(db_url, "hq.manager", date(2026, 3, 2), "dispute")
    assert (item.title, item.due_on, item.overdue, item.link) == (
        "纠纷待受理 · 保养费用争议", date(2026, 3, 3), False, f"/disputes/{code}",
    )  # fmt: skip
    assert item.command == f"clubflow disputes acknowledge {code} --as hq.manager"
    assert _items(db_url, "hq.manager", date(2026, 3, 4), "dispute")[0].overdue
    assert _items(db_url, "dealer.ch001", date(2026, 3, 2), "dispute") == []

    with session_scope(db_url) as session:
        acknowledge_dispute(
            session=session, username="legal.counsel", code=code, now=FILED, settings=SETTINGS
        )
    [item] = _items(db_url, "legal.counsel", date(2026, 3, 2), "dispute")
    assert item.title == "纠纷待结案 · 保养费用争议"
    assert item.command.startswith(f"clubflow disputes settle {code} --agreement")


def test_an_open_incident_waits_on_its_regions_specialist_and_hq(world, db_url):
    with session_scope(db_url) as session:
        code = report_incident(
            session=session, username="dealer.ch001", kind="power_loss", what="展厅断电",
            outlet="CH001 展厅", now=FILED, settings=SETTINGS,
        ).code  # fmt: skip
    [item] = _items(db_url, "specialist.chengdu", date(2026, 3, 2), "incident")
    assert (item.title, item.link) == ("突发事件处理中 · 展厅断电", f"/incidents/{code}")
    assert [i.subject for i in _items(db_url, "hq.manager", date(2026, 3, 2), "incident")] == [
        f"incident:{code}"
    ]
    assert _items(db_url, "specialist.beijing", date(2026, 3, 2), "incident") == []
