"""`clubflow members import / activate / show` as a dealer or an operator uses them."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Member, Notification

runner = CliRunner()


def test_import_merges_duplicate_phones_activate_and_show_mask_the_phone(world, db_url, tmp_path):
    sheet = tmp_path / "members.csv"
    sheet.write_text(
        "姓名,手机号,俱乐部,生日,推荐码\n"
        "孙磊,138 0013 8000,C-NA001,1985-02-29,\n"  # no 29 Feb in 1985: refused by line
        "孙磊,138 0013 8000,C-NA001,1985-03-01,\n"
        "孙磊,+86-13800138000,,,\n"  # the same phone: merged into one member
        "马超,13900138001,C-NA001,,\n",
        encoding="gb18030",
    )
    result = runner.invoke(app, ["members", "import", str(sheet), "--now", "2026-03-02T10:00"])
    assert result.exit_code == 0, result.output
    assert "2 new, 0 merged, 0 reopened, 1 rejected; 2 activation codes queued" in result.output
    assert "line 2: birthday" in result.output

    with session_scope(db_url) as session:
        sun = session.execute(select(Member).where(Member.phone == "+8613800138000")).scalar_one()
        codes = session.execute(select(Notification.recipient)).scalars().all()
    assert sorted(codes) == sorted([f"member:{sun.member_no}", "member:M000062"])

    again = runner.invoke(app, ["members", "import", str(sheet), "--now", "2026-03-03T10:00"])
    assert "0 new, 2 merged" in again.output

    late = runner.invoke(
        app, ["members", "activate", sun.member_no, "--code", "000000", "--now", "2026-03-10T09:00"]
    )
    assert late.exit_code == 2 and "activation window ended on 2026-03-09" in late.output
    bad = runner.invoke(
        app, ["members", "activate", sun.member_no, "--code", "000000", "--now", "2026-03-04T09:00"]
    )
    assert bad.exit_code == 2 and "activation code is wrong" in bad.output
    ok = runner.invoke(
        app,
        ["members", "activate", sun.member_no, "--dealer", "NA001", "--now", "2026-03-04T10:00"],
    )
    assert ok.exit_code == 0 and "activated" in ok.output

    shown = runner.invoke(app, ["members", "show", sun.member_no])
    assert shown.exit_code == 0, shown.output
    assert "138****8000" in shown.output and "13800138000" not in shown.output
    assert "孙磊" in shown.output and "active" in shown.output and "03-01" in shown.output
    assert runner.invoke(app, ["members", "show", "M999999"]).exit_code == 2
