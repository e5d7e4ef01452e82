"""`clubflow leads roster set/show`: the call supervisor records days off and night cover;
anyone else is refused (and it is recorded); bad dates are one line, exit code 2."""

from __future__ import annotations

from cli_support import one_line_error
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models_audit import Refusal
from domain.models_roster import AgentRosterDay

runner = CliRunner()
AT = ["--now", "2026-12-01T10:00"]


def _roster(*args: str):
    return runner.invoke(app, ["leads", "roster", *args], catch_exceptions=False)


def test_the_supervisor_sets_days_off_and_night_cover_and_the_week_shows_them(world, db_url):
    done = _roster("set", "agent1", "--off", "2026-12-05", "--night", "2026-12-06",
                   "--actor", "call.supervisor", *AT)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "agent1 2026-12-05: off" in done.output and "agent1 2026-12-06: night" in done.output
    back = _roster("set", "agent1", "--on", "2026-12-05", "--as", "call.supervisor", *AT)
    assert back.exit_code == 0 and "agent1 2026-12-05: on" in back.output
    _roster("set", "agent2", "--off", "2026-12-02", "--as", "call.supervisor", *AT)

    shown = _roster("show", "--week-of", "2026-12-03", *AT)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "roster 2026-11-30 – 2026-12-06"
    assert "agent1 客服1号: 班 班 班 班 班 班 夜" in lines
    assert "agent2 客服2号: 班 班 休 班 班 班 班" in lines
    assert "agent6 客服6号: 班 班 班 班 班 班 班" in lines
    with session_scope(db_url) as session:
        rows = session.execute(
            select(AgentRosterDay.day, AgentRosterDay.on_duty, AgentRosterDay.night).order_by(
                AgentRosterDay.day
            )
        ).all()
    assert [(d.isoformat(), on, night) for d, on, night in rows] == [
        ("2026-12-02", False, False),
        ("2026-12-05", True, False),
        ("2026-12-06", True, True),
    ]


def test_an_agent_may_not_change_the_roster_and_the_refusal_is_recorded(world, db_url):
    refused = _roster("set", "agent1", "--off", "2026-12-05", "--as", "agent1", *AT)
    one_line_error(refused, "'agent1' is call_agent; changing the roster is for call_supervisor")
    with session_scope(db_url) as session:
        assert session.execute(select(AgentRosterDay)).first() is None
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    assert [tuple(r) for r in rows] == [("leads.roster", "roster:agent1", "agent1")]


def test_bad_roster_input_is_one_line(world, db_url):
    one_line_error(
        _roster("set", "agent1", "--off", "2026-12-32", "--as", "call.supervisor", *AT),
        "--off '2026-12-32': not a date",
    )
    one_line_error(
        _roster(
            "set",
            "agent1",
            "--off",
            "2026-12-05",
            "--on",
            "2026-12-05",
            "--as",
            "call.supervisor",
            *AT,
        ),  # fmt: skip
        "--on 2026-12-05: the day is also given as off",
    )
    one_line_error(
        _roster("set", "nobody", "--off", "2026-12-05", "--as", "call.supervisor", *AT),
        "'nobody' is not a call agent",
    )
