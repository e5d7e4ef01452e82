"""Lead import errors through the command line and the flow: one line, exit 2, and a file
refused as a whole is a refusal (the run completes), never retried."""

from __future__ import annotations

import pytest
from cli_support import one_line_error
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Lead
from domain.models_audit import Refusal

pytestmark = pytest.mark.slow


cli = CliRunner()


def test_a_lead_file_missing_a_column_is_one_line_and_a_mapping_imports_it(
    lead_channels, db_url, tmp_path
):
    path = tmp_path / "leads.csv"
    path.write_text("姓名,客户手机,城市\n王伟,13812345678,成都\n", "utf-8")
    result = cli.invoke(app, ["leads", "import", str(path), "--now", "2026-10-12T10:00"])
    one_line_error(result, "leads.csv: line 1: header lacks column(s) phone", "--map HEADER=phone")

    result = cli.invoke(app, ["leads", "import", str(path), "--map", "手机号码=phone"])
    assert result.exit_code == 2 and "header lacks column(s) phone" in result.output
    result = cli.invoke(app, ["leads", "import", str(path), "--map", "客户手机=mobile_no"])
    one_line_error(result, "column map 客户手机=mobile_no", "one of phone, name")

    result = cli.invoke(
        app, ["leads", "import", str(path), "--map", "客户手机=phone", "--now", "2026-10-12T10:00"]
    )
    assert result.exit_code == 0, result.output
    with session_scope(db_url) as session:
        assert session.execute(select(Lead.phone, Lead.city)).all() == [("+8613812345678", "成都")]


def test_a_file_refused_in_a_run_is_not_retried_and_the_run_completes(
    lead_channels, db_url, tmp_path, monkeypatch
):
    from flows.leads.intake import leads_intake
    from tasks.leads.intake import import_lead_files_task

    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,城市\n王伟,成都\n", "utf-8")
    state = leads_intake(files=[str(bad)], pull_source=False, return_state=True)
    assert state.is_completed()
    assert state.result()["refused_files"] == 1
    with session_scope(db_url) as session:
        [refusal] = session.execute(select(Refusal)).scalars().all()
        assert refusal.action == "leads.import" and "header lacks column(s) phone" in refusal.reason

    # Each attempt of the import task counted where it runs: the server's record of the task
    # run arrives as events, which a busy server may not have recorded yet.
    attempts = []
    real = import_lead_files_task.fn
    monkeypatch.setattr(
        import_lead_files_task, "fn", lambda *a, **k: attempts.append(1) or real(*a, **k)
    )
    missing = leads_intake(files=[str(tmp_path / "gone.csv")], pull_source=False, return_state=True)
    assert missing.is_failed()
    assert "gone.csv does not exist" in missing.message
    assert len(attempts) == 1  # a file that does not exist is not waited for


def test_a_saved_mapping_imports_the_sources_inbox_files(lead_channels, db_url, tmp_path):
    from flows.leads.intake import leads_intake

    result = cli.invoke(app, ["leads", "columns", "抖音", "客户手机=phone", "地区=city"])
    assert result.exit_code == 0, result.output
    inbox = tmp_path / "inbox"
    (inbox / "抖音_1012.csv").write_text("昵称,客户手机,地区\n小王,13812345678,成都\n", "utf-8")
    got = leads_intake(pull_source=False, now="2026-10-12T10:00:00+08:00")
    assert (got["created"], got["refused_files"]) == (1, 0)
    assert (inbox / "done" / "抖音_1012.csv").exists()
    with session_scope(db_url) as session:
        assert session.execute(select(Lead.source, Lead.city)).all() == [("抖音", "成都")]
