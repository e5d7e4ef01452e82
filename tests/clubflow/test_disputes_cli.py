"""`clubflow disputes ...` and `clubflow incidents ...` as dealer staff, HQ and legal use them."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models_audit import Refusal
from domain.models_disputes import Dispute, Incident

runner = CliRunner()
NOW = "2026-03-02T10:00"


def _invoke(*args: str):
    result = runner.invoke(app, [*args, "--now", NOW], catch_exceptions=False)
    return result.exit_code, result.output


def test_a_dispute_from_filing_to_settlement(world, db_url):
    code, out = _invoke(
        "disputes",
        "file",
        "--kind",
        "customer_outlet",
        "--claimant",
        "李女士 13912345678",
        "--respondent",
        "成都春熙路门店",
        "--outlet",
        "成都春熙路门店",
        "--summary",
        "维修延误",
        "--as",
        "agent1",
    )
    assert code == 0, out
    assert "dispute DSP-20260302-001: filed" in out
    code, out = _invoke("disputes", "acknowledge", "DSP-20260302-001", "--as", "agent1")
    assert code == 2 and "refused:" in out and len(out.strip().splitlines()) == 1
    assert _invoke("disputes", "acknowledge", "DSP-20260302-001", "--as", "hq.manager")[0] == 0
    code, out = _invoke(
        "disputes",
        "mediate",
        "DSP-20260302-001",
        "--kind",
        "proposal",
        "--on",
        "2026-03-03",
        "--what",
        "门店承担代步车费用",
        "--as",
        "legal.counsel",
    )
    assert code == 0, out
    code, out = _invoke(
        "disputes",
        "settle",
        "DSP-20260302-001",
        "--agreement",
        "门店承担代步车费用",
        "--as",
        "legal.counsel",
    )
    assert "dispute DSP-20260302-001: settled" in out
    with session_scope(db_url) as session:
        row = session.execute(select(Dispute)).scalar_one()
        assert (row.status, row.outlet) == ("settled", "成都春熙路门店")
        assert "13912345678" not in row.claimant
        assert session.execute(select(Refusal.action)).scalar_one() == "dispute.acknowledge"


def test_bad_kind_is_one_line_exit_2(world, db_url):
    code, out = _invoke(
        "disputes",
        "file",
        "--kind",
        "neighbours",
        "--claimant",
        "x",
        "--respondent",
        "y",
        "--summary",
        "z",
        "--as",
        "hq.manager",
    )
    assert code == 2 and "kind: 'neighbours' is not one of" in out


def test_incident_report_act_close(world, db_url):
    code, out = _invoke(
        "incidents",
        "report",
        "--kind",
        "fire",
        "--what",
        "展厅冒烟",
        "--outlet",
        "CH001 展厅",
        "--as",
        "dealer.ch001",
    )
    assert code == 0, out
    assert "incident INC-20260302-001: open" in out
    code, out = _invoke(
        "incidents",
        "close",
        "INC-20260302-001",
        "--recovery",
        "已扑灭",
        "--lessons",
        " ",
        "--as",
        "specialist.chengdu",
    )
    assert code == 2 and "lessons-learned summary is required" in out
    code, out = _invoke(
        "incidents",
        "close",
        "INC-20260302-001",
        "--recovery",
        "已扑灭",
        "--lessons",
        "电路每季检查",
        "--as",
        "specialist.chengdu",
    )
    assert "incident INC-20260302-001: closed" in out
    with session_scope(db_url) as session:
        assert session.execute(select(Incident.status)).scalar_one() == "closed"
