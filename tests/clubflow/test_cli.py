from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Gate, Role

runner = CliRunner()


def test_demo_seeds_the_world_once_and_status_shows_what_waits(sqlite_url, settings_env):
    settings_env(database_url=sqlite_url)
    demo = ["demo", "--members", "30", "--leads", "40", "--now", "2026-12-01T09:00"]
    first = runner.invoke(app, demo)
    second = runner.invoke(app, demo)
    assert first.exit_code == 0, first.output
    assert (
        "7 regions" in first.output and "21 clubs" in first.output and "30 members" in first.output
    )
    assert "0 regions" in second.output and "0 members" in second.output

    with session_scope(sqlite_url) as session:
        session.add(
            Gate(
                subject_type="campaign",
                subject_id=1,
                key="signoff",
                title="签字确认 双十一",
                owner_role=Role.campaign_manager,
                due_on=date(2020, 1, 6),
            )
        )
    result = runner.invoke(app, ["status", "--now", "2026-12-01T09:00"])
    assert result.exit_code == 0, result.output
    assert "签字确认 双十一" in result.output
    assert "overdue" in result.output
    assert "open leads: 40" in result.output


def test_an_unreachable_database_is_a_clear_error_not_a_traceback(settings_env):
    settings_env(database_url="postgresql://app:pw@127.0.0.1:1/clubflow")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "cannot reach database postgresql://app:***@127.0.0.1:1/clubflow" in result.output
    assert "Traceback" not in result.output
