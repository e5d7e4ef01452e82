"""`clubflow clubs ...`: HQ adds a dealer and people, the dealer's staff register and submit,
the specialist returns then approves; a bad name is one line naming the field, exit 2."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models_audit import Refusal

runner = CliRunner()
AT = ["--now", "2027-03-01T10:00"]
NAME = "坦克·羽林·300·成都·越野俱乐部"


def _clubs(*args: str):
    return runner.invoke(app, ["clubs", *args], catch_exceptions=False)


def _setup() -> None:
    hq = ["--as", "hq.manager", *AT]
    assert _clubs("add-dealer", "CH900", "--name", "成都新店", "--city", "成都",
                  "--region", "chengdu", *hq).exit_code == 0  # fmt: skip
    assert _clubs("add-person", "staff.ch900", "--name", "店员", "--role", "dealer",
                  "--dealer", "CH900", "--phone", "13800001111", *hq).exit_code == 0  # fmt: skip
    for n, who in enumerate(("o.head", "o.adviser", "o.clerk")):
        done = _clubs("add-person", who, "--name", f"官{n}", "--role", "club_admin",
                      "--region", "chengdu", "--phone", f"1390000{n:04d}", *hq)  # fmt: skip
        assert done.exit_code == 0, done.output


OFFICERS = ["--officer", "会长=o.head", "--officer", "军师=o.adviser", "--officer", "长史=o.clerk"]


def test_a_club_onboards_through_the_cli(world, db_url):
    _setup()
    staff = ["--as", "staff.ch900", *AT]
    done = _clubs("register", "C-CH900", "--name", NAME, "--grade", "营", "--dealer", "CH900",
                  *OFFICERS, *staff)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "club C-CH900: pending" in done.output
    items = get_settings().club_required_items
    args = [a for i in items for a in ("--item", f"{i}=https://pan.example/{i}")]
    done = _clubs("submit", "C-CH900", *args, *staff)
    assert done.exit_code == 0 and "submitted name, logo" in done.output
    spec = ["--as", "specialist.chengdu", *AT]
    done = _clubs("review", "C-CH900", "--item", "team_flag", "--return", "队旗缺少联盟标识", *spec)
    assert "club C-CH900 team_flag: returned; club pending" in done.output
    assert _clubs("submit", "C-CH900", "--item", "team_flag=新队旗", *staff).exit_code == 0
    for i in items:
        done = _clubs("review", "C-CH900", "--item", i, "--approve", *spec)
        assert done.exit_code == 0, done.output
    assert "club C-CH900 forum_id: approved; club active" in done.output
    listed = _clubs("list", "--region", "chengdu")
    assert "C-CH900 坦克·羽林·300·成都·越野俱乐部 (chengdu) city active" in listed.output
    assert "会长 官0 139****0000" in listed.output
    assert "13900000000" not in listed.output


def test_bad_name_and_refusals_are_one_line_exit_2(world, db_url):
    _setup()
    done = _clubs("register", "C-CH900", "--name", "坦克-羽林", "--grade", "营",
                  "--dealer", "CH900", *OFFICERS, "--as", "staff.ch900", *AT)  # fmt: skip
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == ["error: name: parts must be joined by '·'"]
    done = _clubs("add-dealer", "X1", "--name", "x", "--city", "x", "--region", "chengdu",
                  "--as", "specialist.chengdu", *AT)  # fmt: skip
    assert done.exit_code == 2 and "refused:" in done.output
    with session_scope(db_url) as session:
        assert [r.action for r in session.execute(select(Refusal)).scalars()] == [
            "clubs.add-dealer"
        ]
