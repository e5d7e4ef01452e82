"""Time on the command line: one parser, and every command that acts on time takes --now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import typer
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.cli_common import parse_now

runner = CliRunner()
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Commands that only read or start the system; every other command acts at a time.
TIMELESS = {
    "migrate",
    "up",
    "campaign show",
    "activity show",
    "members show",
    "outbox show",
    "leads columns",  # saves a source's column mapping: configuration
    "deploy",
    "worker",
    # Listings of stored rows, with no date in their question.
    "clubs list",
    "members callbacks",
    "members points anomalies",
    "members privileges list",
    "outlets list",
    "outlets show",
    "rewards list",
}


def _commands(group, prefix: str = ""):
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            yield from _commands(command, f"{path} ")
        else:
            yield path, command


def test_a_time_without_a_zone_is_shanghai_and_a_zone_given_is_kept():
    assert parse_now("2026-10-11T18:00") == datetime(2026, 10, 11, 18, tzinfo=SHANGHAI)
    assert parse_now("2026-10-11T18:00+00:00").utcoffset() == timedelta(0)
    assert parse_now("2026-10-11T18:00+00:00") == datetime(2026, 10, 12, 2, tzinfo=SHANGHAI)


def test_every_command_that_acts_on_time_takes_now():
    commands = dict(_commands(typer.main.get_command(app)))
    assert set(commands) >= TIMELESS  # the list names real commands
    missing = [
        path
        for path, command in sorted(commands.items())
        if path not in TIMELESS and not any("--now" in p.opts for p in command.params)
    ]
    assert missing == []


def test_a_bad_now_is_one_clear_line_and_exit_code_2(db_url):
    for args in (["status"], ["inbox", "--as", "hq.manager"], ["activity", "pay", "X"]):
        result = runner.invoke(app, [*args, "--now", "next tuesday"])
        if args[0] == "activity":  # required options first: the parse happens after them
            result = runner.invoke(app, [*args, "--as", "finance", "--ref", "R", "--now", "x"])
        assert result.exit_code == 2, (args, result.output)
        assert "not an ISO time" in result.output, result.output
        assert "Traceback" not in result.output
