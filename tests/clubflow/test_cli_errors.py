"""Every command's error is one line `error: ...` with exit code 2, naming the row and field
where there is one; `--debug` shows the traceback. A refused input starts no Failed run."""

from __future__ import annotations

import pytest
from cli_support import one_line_error
from typer.testing import CliRunner

from clubflow.cli import app

cli = CliRunner()


@pytest.mark.parametrize(
    "command",
    [["status"], ["leads", "import", "{file}"], ["campaign", "show", "x"], ["inbox", "--as", "x"]],
)
def test_an_unmigrated_database_gets_one_answer_for_every_command(
    sqlite_url, settings_env, tmp_path, command
):
    settings_env(database_url=sqlite_url)
    lead_file = tmp_path / "leads.csv"
    lead_file.write_text("phone,city\n13812345678,成都\n", "utf-8")
    args = [a.replace("{file}", str(lead_file)) for a in command]
    result = cli.invoke(app, args)
    assert one_line_error(result) == "error: the database is not migrated: run clubflow migrate"
    # Help needs no database.
    assert cli.invoke(app, [*args[:1], "--help"]).exit_code == 0


def test_a_database_behind_the_code_is_told_to_migrate(sqlite_url, settings_env):
    from alembic import command

    from clubflow.core.db import alembic_config, head_revision

    settings_env(database_url=sqlite_url)
    command.upgrade(alembic_config(sqlite_url), "0001")
    result = cli.invoke(app, ["status"])
    assert one_line_error(result) == (
        f"error: the database is at revision 0001, this clubflow needs {head_revision()}: "
        "run clubflow migrate"
    )


def test_an_impossible_yaml_date_names_the_line_and_the_field(db_url, world, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "code: bad-date\nname: 坏日期\nkind: points_festival\n"
        "launch_date: 2026-13-40\nend_date: 2026-12-31\nregions: [chengdu]\n"
        "budget: [{item: 积分, amount: 1}]\nkpis: [{name: 会员, target: 1}]\n"
        "started_by: hq.manager\n",
        "utf-8",
    )
    result = cli.invoke(app, ["campaign", "start", str(plan)])
    one_line_error(result, "plan.yaml: line 4, launch_date: '2026-13-40' is not a date")

    proposal = tmp_path / "proposal.yaml"
    proposal.write_text("title: 穿越\nstarts_on: 2026-02-30\n", "utf-8")
    result = cli.invoke(app, ["activity", "propose", str(proposal)])
    one_line_error(result, "line 2, starts_on: '2026-02-30' is not a date")

    debug = cli.invoke(app, ["--debug", "campaign", "start", str(plan)])
    assert debug.exit_code == 2 and "Traceback" in debug.output
