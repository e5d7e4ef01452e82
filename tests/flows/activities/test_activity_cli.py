"""`clubflow activity ...` as a club admin, a specialist and finance use it."""

from __future__ import annotations

import json

from sqlalchemy import select
from support_activities import CODE, proposal
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import SubsidyClaim

cli = CliRunner()


def _invoke(*args: str):
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_refused_proposal_names_each_field_and_starts_nothing(runner, tmp_path):
    file = tmp_path / "proposal.json"
    file.write_text(
        json.dumps(proposal(club="C-XX999", ends_on="2026-10-01"), ensure_ascii=False),
        encoding="utf-8",
    )
    code, output = _invoke("activity", "propose", str(file), "--now", "2026-09-21T10:00+08:00")
    assert code == 2, output
    assert "club: unknown club 'C-XX999'" in output
    assert "ends_on: end 2026-10-01 is before start 2026-10-11" in output
    assert runner.due_runs() == []


def test_an_activity_driven_from_the_command_line(runner, tmp_path, db_url, reports_dir):
    (tmp_path / "p.yaml").write_text(json.dumps(proposal(), ensure_ascii=False), "utf-8")
    code, output = _invoke(
        "activity", "propose", str(tmp_path / "p.yaml"), "--now", "2026-09-21T10:00+08:00"
    )
    assert code == 0, output
    assert f"clubflow decide activity:{CODE} specialist_review approve" in output
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    code, output = _invoke(
        "decide", f"activity:{CODE}", "specialist_review", "approve", "--as", "specialist.chengdu",
        "--now", "2026-09-21T11:00",
    )  # fmt: skip
    assert code == 0, output
    runner.run_pending()

    code, output = _invoke(
        "activity",
        "register",
        CODE,
        "M000003",
        "M000004",
        "--as",
        "admin.ch001",
        "--now",
        "2026-10-09T10:00+08:00",
    )
    assert (code, "2 newly registered" in output) == (0, True), output
    (tmp_path / "in.csv").write_text(
        "member_no,organiser\nM000001,是\nM000002,\nM000002,\nM000003,\n", "utf-8"
    )
    code, output = _invoke(
        "activity",
        "checkin",
        CODE,
        str(tmp_path / "in.csv"),
        "--as",
        "admin.ch001",
        "--now",
        "2026-10-11T18:00+08:00",
    )
    assert (code, "3 participants" in output) == (0, True), output

    (tmp_path / "recap.json").write_text(json.dumps({"filed_by": "admin.ch001"}), "utf-8")
    code, output = _invoke(
        "activity", "recap", CODE, str(tmp_path / "recap.json"), "--now", "2026-10-12T10:00+08:00"
    )
    assert code == 0, output
    assert (reports_dir / f"activity-{CODE}-recap.html").exists()

    claim = {
        "submitted_by": "admin.ch001",
        "lines": [
            {"category": "venue", "amount": 900, "evidence": ["收据 1"]},
            {"category": "flags", "amount": 100, "evidence": ["发票 2"]},
        ],
    }
    (tmp_path / "claim.json").write_text(json.dumps(claim, ensure_ascii=False), "utf-8")
    code, output = _invoke(
        "activity", "claim", CODE, str(tmp_path / "claim.json"), "--now", "2026-10-13T10:00+08:00"
    )
    assert code == 0, output
    runner.run_pending()
    code, output = _invoke(
        "activity", "decide-claim", CODE, "approve", "--as", "specialist.beijing",
        "--now", "2026-10-13T11:00",
    )  # fmt: skip
    assert code == 1 and "refused" in output, output
    code, output = _invoke(
        "activity", "decide-claim", CODE, "approve", "--as", "specialist.chengdu",
        "--line", "1=800:场地按发票", "--now", "2026-10-13T11:00",
    )  # fmt: skip
    assert code == 0, output
    [run] = runner.run_pending()
    assert run.state.name == "Completed"

    paid_at = ["--now", "2026-10-14T10:00"]
    code, output = _invoke("activity", "pay", CODE, "--as", "admin.ch001", "--ref", "P-9", *paid_at)
    assert code == 2 and "marking a claim paid is for finance" in output, output
    code, output = _invoke("activity", "pay", CODE, "--as", "finance", "--ref", "P-9", *paid_at)
    assert code == 0 and "paid ¥830.00" in output, output  # 800 venue + 3 × 10 flags

    code, output = _invoke("activity", "show", CODE)
    assert code == 0, output
    assert "3 participants" in output and "Claim: paid" in output, output
    with session_scope(db_url) as session:
        assert session.execute(select(SubsidyClaim.status)).scalar_one() == "paid"
