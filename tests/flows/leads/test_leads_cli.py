"""`clubflow leads ...` as a supervisor, an agent and a dealer use it: phones always masked."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Lead

pytestmark = pytest.mark.slow
runner = CliRunner()
AT = ["--now", "2026-10-12T10:00"]  # Shanghai time, as every step of a test passes it

FILE = (
    "姓名,电话,意向车型,城市,来源,留资时间\n"
    "王伟,13812345678,越野SUV,成都,汽车之家,2026-10-12 09:00\n"
    "李娜,10012345678,皮卡,成都,汽车之家,2026-10-12 09:05\n"
)


def _invoke(*args: str):
    result = runner.invoke(app, ["leads", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_import_then_outcome_then_accept_from_the_command_line(lead_channels, db_url, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(FILE.encode("gbk"))

    code, out = _invoke("import", str(path), "--now", "2026-10-12T10:00")
    assert code == 0
    assert re.search(r"created\s+│\s+1 │", out) and re.search(r"rejected\s+│\s+1 │", out)
    assert "line 3: phone: invalid mobile number '100****5678'" in out
    assert "10012345678" not in out

    with session_scope(db_url) as session:
        lead = session.execute(select(Lead)).scalar_one()
    at = ["--now", "2026-10-12T11:00"]  # the time every step acts at (Shanghai)
    code, out = _invoke("outcome", str(lead.id), "1", "有意购车", "--agent", "agent1", *at)
    assert code == 0
    assert f"lead {lead.id} (+86138****5678) handed to dealer:CH001" in out
    assert "13812345678" not in out

    code, out = _invoke("outcome", str(lead.id), "2", "关机", *at)
    assert code == 2 and "already closed" in out

    code, out = _invoke("accept", str(lead.id), "--dealer", "CH009", *at)
    assert code == 2 and "is with dealer:CH001" in out
    assert _refusals(db_url) == [("leads.accept", f"lead:{lead.id}", "dealer:CH009")]
    code, out = _invoke("accept", str(lead.id), "--dealer", "CH001", *at)
    assert code == 0 and "accepted by dealer CH001" in out and "+86138****5678" in out


def test_only_the_supervisor_may_reassign(lead_world, db_url):
    code, out = _invoke("reassign", "1", "--to", "agent2", "--as", "agent1", *AT)
    assert code == 2 and "'agent1' is not a call supervisor" in out
    assert _refusals(db_url) == [("leads.reassign", "lead:1", "agent1")]


def _refusals(db_url) -> list[tuple[str, str, str]]:
    from domain.models_audit import Refusal

    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_a_dealer_entered_lead_is_deduped_like_any_other(lead_world, db_url):
    code, out = _invoke(
        "add", "--phone", "139 0000 1111", "--dealer", "CH009", "--name", "周先生", *AT
    )
    assert code == 0 and "139****1111: new lead from dealer CH009" in out
    code, out = _invoke("add", "--phone", "+8613900001111", "--dealer", "BE001", *AT)
    assert code == 0 and "merged into the open lead" in out
    code, out = _invoke("add", "--phone", "12345", "--dealer", "BE001", *AT)
    assert code == 2 and "phone: invalid" in out
    with session_scope(db_url) as session:
        lead = session.execute(select(Lead)).scalar_one()
    assert (lead.city, lead.source, lead.sources) == ("成都", "dealer:CH009",
                                                      ["dealer:CH009", "dealer:BE001"])  # fmt: skip
    assert lead.agent_id is not None and lead.call_day is not None


def test_a_dealer_accepts_through_the_flow_form(lead_channels, db_url, tmp_path):
    from domain.leads_plan import Acceptance
    from flows.leads.accept import leads_accept

    path = tmp_path / "leads.csv"
    path.write_bytes(FILE.encode("utf-8"))
    _invoke("import", str(path), "--now", "2026-10-12T10:00")
    with session_scope(db_url) as session:
        lead = session.execute(select(Lead)).scalar_one()
    _invoke("outcome", str(lead.id), "1", "interested", "--now", "2026-10-12T11:00")

    now = datetime(2026, 10, 12, 14, tzinfo=ZoneInfo("Asia/Shanghai"))
    wrong = leads_accept(Acceptance(lead_id=lead.id, dealer_code="CH009"), now, return_state=True)
    assert wrong.is_failed() and "is with dealer:CH001" in str(wrong.result(raise_on_failure=False))
    done = leads_accept(Acceptance(lead_id=lead.id, dealer_code="CH001"), now)
    assert done == {"lead_id": lead.id, "dealer": "CH001", "phone": "+86138****5678"}
    with session_scope(db_url) as session:
        assert session.get(Lead, lead.id).accepted_at is not None
