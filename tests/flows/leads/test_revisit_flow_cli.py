"""The Monday revisit run (its counts and artifact) and the revisit commands as an agent and the
supervisor use them: the list with masked phones, a result reported once, others refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cli_support import one_line_error
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from sqlalchemy import select
from support_revisit import SH, list_week, record, revisits_of, seed_lead
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Lead, Notification
from domain.models_audit import Refusal

pytestmark = pytest.mark.slow
runner = CliRunner()
WEEK1 = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
WEEK2 = WEEK1 + timedelta(days=7)
OLD = datetime(2026, 9, 1, 15, 0, tzinfo=SH)


def _invoke(*args: str):
    return runner.invoke(app, ["leads", *args], catch_exceptions=False, env={"COLUMNS": "160"})


def _artifact(flow_run_id):
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["leads-weekly-revisit"])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        )
    return artifact


def test_the_monday_run_says_listed_carried_over_newly_due_and_closed(lead_channels, db_url, sink):
    from flows.leads.revisit import leads_weekly_revisit

    stays = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    orders = seed_lead(db_url, 2, agent="agent1", valid_since=OLD)
    seed_lead(db_url, 3, agent=None, arrived_at=WEEK2 - timedelta(days=61))  # due in week 2
    list_week(db_url, WEEK1)
    week1 = revisits_of(db_url, WEEK1.date())
    record(db_url, week1[stays], "仍在考虑", "agent1", WEEK1 + timedelta(hours=2))
    record(db_url, week1[orders], "已在本品牌下订", "agent1", WEEK1 + timedelta(hours=3))

    state = leads_weekly_revisit(now=WEEK2, return_state=True)
    assert state.result() == {
        "listed": 2,
        "carried_over": 1,
        "newly_due": 1,
        "closed_last_week": 1,
        "converted_last_week": 1,
        "person:agent1": 1,
        "role:call_supervisor": 1,
    }
    markdown = _artifact(state.state_details.flow_run_id).data
    assert "| 本周名单 listed | 2 |" in markdown
    assert "| 上周延续 carried over | 1 |" in markdown
    assert "| 新到期 newly due | 1 |" in markdown
    assert "| 上周结束回访 closed last week | 1 |" in markdown
    assert "| role:call_supervisor | 1 |" in markdown
    with session_scope(db_url) as session:
        titles = sorted(
            session.execute(
                select(Notification.recipient, Notification.title).where(
                    Notification.title.like("%2026-12-14%")
                )
            ).all()
        )
    assert [tuple(t) for t in titles] == [
        ("person:agent1", "本周回访名单（2026-12-14）：1 条"),
        ("role:call_supervisor", "本周回访名单（2026-12-14）：1 条"),
    ]


def test_an_agent_lists_the_week_and_reports_a_result_from_the_command_line(lead_world, db_url):
    mine = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    seed_lead(db_url, 2, agent="agent2", valid_since=OLD)
    list_week(db_url, WEEK1)
    revisit = revisits_of(db_url, WEEK1.date())[mine]
    at = ["--now", "2026-12-08T10:00"]

    listing = _invoke("revisits", "--agent", "agent1", *at)
    assert listing.exit_code == 0, listing.output
    assert "revisits, week of 2026-12-07 · agent1" in listing.output
    assert "+86139****0001" in listing.output and "+8613900000001" not in listing.output
    assert "回访客户2" not in listing.output
    assert "1 on the list, 1 waiting for a result" in listing.output

    done = _invoke("revisit-result", str(revisit), "已在本品牌下订", "--note", "下周提车",
                   "--actor", "agent1", *at)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        f"revisit {revisit} (lead {mine}): recorded 已在本品牌下订; lead {mine} converted "
        "(已转化), off the revisit list"
    )
    with session_scope(db_url) as session:
        converted = session.get(Lead, mine).converted_at
    assert converted == datetime(2026, 12, 8, 10, 0, tzinfo=SH)

    everyone = _invoke("revisits", "--week-of", "2026-12-09", *at)  # any day of the week
    assert "2 on the list, 1 waiting for a result" in everyone.output
    assert "已在本品牌下订" in everyone.output and "下周提车" in everyone.output


def test_a_second_result_another_agent_and_bad_input_are_refused(lead_world, db_url):
    lead = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    list_week(db_url, WEEK1)
    revisit = revisits_of(db_url, WEEK1.date())[lead]
    at = ["--now", "2026-12-08T10:00"]

    other = _invoke("revisit-result", str(revisit), "considering", "--actor", "agent2", *at)
    one_line_error(other, "user 'agent2' (call_agent) may not record", "its agent 'agent1'")
    ok = _invoke("revisit-result", str(revisit), "considering", "--actor", "call.supervisor", *at)
    assert ok.exit_code == 0 and "stays on next week's list" in ok.output
    twice = _invoke("revisit-result", str(revisit), "ordered", "--actor", "agent1", *at)
    one_line_error(
        twice, "result already recorded: 仍在考虑 by call.supervisor at 2026-12-08 10:00"
    )
    bad = _invoke("revisit-result", str(revisit), "maybe", "--actor", "agent1", *at)
    one_line_error(bad, "RESULT: unknown revisit result 'maybe'", "仍在考虑/considering")
    week = _invoke("revisits", "--week-of", "next monday")
    one_line_error(week, "--week-of: not a date 'next monday' (e.g. 2026-12-14)")
    with session_scope(db_url) as session:
        refusals = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    assert [tuple(r) for r in refusals] == [
        ("leads.revisit_result", f"revisit:{revisit}", "agent2"),
        ("leads.revisit_result", f"revisit:{revisit}", "agent1"),
    ]
