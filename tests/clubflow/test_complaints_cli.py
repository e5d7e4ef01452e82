"""`clubflow complaints file / receive / act / answer` as call agents use them; a refusal
is one line, exit 2, and recorded."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Notification
from domain.models_audit import Refusal
from domain.models_complaints import Complaint

runner = CliRunner()
NOW = ["--now", "2026-12-01T10:00"]


def _invoke(*args: str):
    result = runner.invoke(app, ["complaints", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_a_call_agent_takes_a_complaint_to_its_answer(world, db_url):
    code, out = _invoke(
        "file",
        "--source",
        "call",
        "--member",
        "M000001",
        "--subject",
        "保养预约失败",
        "--as",
        "agent1",
        *NOW,
    )
    assert code == 0, out
    assert "filed, receive by 2026-12-02, answer by 2026-12-08" in out
    with session_scope(db_url) as session:
        cid = session.execute(select(Complaint.id)).scalar_one()
    code, out = _invoke(
        "receive",
        str(cid),
        "--category",
        "after_sales",
        "--severity",
        "low",
        "--handler",
        "agent1",
        "--as",
        "agent1",
        *NOW,
    )
    assert code == 0 and f"complaint #{cid}: received (after_sales/low) → agent1" in out
    code, out = _invoke("act", str(cid), "--note", "已联系服务站", "--done", "--as", "agent1", *NOW)
    assert code == 0 and "handled" in out
    code, out = _invoke("answer", str(cid), "--text", "已为您重新预约", "--as", "agent1", *NOW)
    assert code == 0 and "answered" in out
    with session_scope(db_url) as session:
        body = session.execute(
            select(Notification.body).where(Notification.template == "complaint_answer")
        ).scalar_one()
    assert "我们的答复：已为您重新预约" in body


def test_a_refusal_is_one_line_exit_2_and_recorded(world, db_url):
    code, out = _invoke(
        "file",
        "--source",
        "call",
        "--member",
        "M000001",
        "--subject",
        "x",
        "--as",
        "specialist.east",
        *NOW,
    )
    assert code == 2
    assert out.strip().startswith("error:") and len(out.strip().splitlines()) == 1
    code, out = _invoke(
        "receive",
        "99",
        "--category",
        "bad",
        "--severity",
        "low",
        "--handler",
        "agent1",
        "--as",
        "agent1",
        *NOW,
    )
    assert code == 2 and "no complaint #99" in out
    with session_scope(db_url) as session:
        assert session.execute(select(Refusal.action)).scalars().all() == ["complaints.file"]
