"""Leads handed on through a second-tier outlet count for the parent dealer and show as the
outlet under its dealer in the funnel, the daily report and `clubflow leads funnel`."""

from __future__ import annotations

from datetime import date, timedelta

from support_deals import ARRIVED, NOW, seed_lead
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from tasks.leads.deals import record_follow_up
from tasks.leads.funnel import deal_funnel
from tasks.leads.statistics import compute_statistics

OUTLET = "O-CH001-01"


def _world(db_url) -> None:
    """CH001: one lead of its own (visited), two through its outlet in 德阳 (one ordered, one
    not accepted); CH002: one lead of its own."""
    with session_scope(db_url) as session:
        own = seed_lead(session, 21)
        won = seed_lead(session, 22, outlet=OUTLET, city="德阳")
        seed_lead(session, 23, outlet=OUTLET, city="德阳", accepted=False)
        seed_lead(session, 24, dealer="CH002")
    accepted = ARRIVED + timedelta(hours=3)
    with session_scope(db_url) as session:
        for lead_id, stage, hours in (
            (own, "visited", 24),
            (won, "visited", 24),
            (won, "order", 48),
        ):
            record_follow_up(
                session=session,
                lead_id=lead_id,
                stage=stage,
                at=accepted + timedelta(hours=hours),
                actor="dealer.ch001",
                now=NOW,
            )


def _counts(row):
    return (row.key, row.leads, row.valid, row.accepted, row.visited, row.orders)


def test_outlet_leads_count_for_the_parent_and_show_under_it(lead_world, db_url):
    _world(db_url)
    with session_scope(db_url) as session:
        funnel = deal_funnel(
            session=session, start=date(2026, 10, 1), end=date(2026, 10, 19), as_of=NOW
        )
    assert _counts(funnel.total) == ("total", 4, 4, 3, 2, 1)
    assert [_counts(r) for r in funnel.by["dealer"]] == [
        ("CH001", 3, 3, 2, 2, 1),  # the outlet's two leads are the parent's
        ("CH002", 1, 1, 1, 0, 0),
    ]
    assert [_counts(r) for r in funnel.by["outlet"]] == [
        ("CH001 / 本店", 1, 1, 1, 1, 0),
        (f"CH001 / {OUTLET}", 2, 2, 1, 1, 1),
        ("CH002 / 本店", 1, 1, 1, 0, 0),
    ]


def test_the_daily_report_and_the_cli_show_the_outlet_row(lead_world, db_url):
    _world(db_url)
    settings = get_settings().model_copy(update={"deals_funnel_days": 30})
    with session_scope(db_url) as session:
        _stats, markdown = compute_statistics(
            session=session, day=date(2026, 10, 19), settings=settings
        )
    assert "##### 按经销商 / 二网 by outlet" in markdown
    assert "| CH001 | 3 | 3 | 2 | 2 | 1 |" in markdown
    assert f"| CH001 / {OUTLET} | 2 | 2 | 1 | 1 | 1 |" in markdown
    assert "| CH001 / 本店 | 1 | 1 | 1 | 1 | 0 |" in markdown
    assert "+86138" not in markdown
    shown = CliRunner().invoke(
        app,
        ["leads", "funnel", "--from", "2026-10-01", "--to", "2026-10-19",
         "--now", NOW.isoformat()],
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "by outlet" in shown.output
    line = next(x for x in shown.output.splitlines() if f"CH001 / {OUTLET}" in x)
    assert [cell.strip() for cell in line.split("│")[2:7]] == ["2", "2", "1", "1", "1"]


def test_an_active_outlets_cities_are_served_through_its_parent(lead_world, db_url):
    """Intake takes a lead in a city only an active outlet covers (the parent's region); a
    pending outlet's city still waits."""
    from sqlalchemy import select

    from domain.models import Dealer
    from domain.models_outlets import Outlet
    from tasks.leads.intake import known_cities

    with session_scope(db_url) as session:
        be001 = session.execute(select(Dealer).where(Dealer.code == "BE001")).scalar_one()
        for code, city, status in (
            ("O-BE001-01", "廊坊", "active"),
            ("O-BE001-02", "固安", "pending"),
        ):
            session.add(
                Outlet(code=code, name=code, dealer_id=be001.id, cities=[city], status=status,
                       registered_by="dealer.be001", registered_at=NOW)
            )  # fmt: skip
    with session_scope(db_url) as session:
        cities = known_cities(session=session)
    assert cities["廊坊"] == "beijing"
    assert "固安" not in cities
