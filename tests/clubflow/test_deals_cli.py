"""`clubflow leads follow-up / import-deals / funnel` as the dealer's staff and HQ use them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from support_deals import SH, seed_lead
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Lead
from domain.models_audit import Refusal
from domain.models_deals import LeadFollowUp

runner = CliRunner()
NOW = ["--now", "2026-10-20T10:00"]  # Shanghai time, passed to every step


def _invoke(*args: str):
    result = runner.invoke(app, ["leads", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_the_dealers_staff_record_the_steps_up_to_the_order(world, db_url):
    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 1)
    code, out = _invoke(
        "follow-up", str(lead_id), "已到店", "--at", "2026-10-13T15:00", "--actor", "dealer.ch001",
        *NOW,
    )  # fmt: skip
    assert code == 0, out
    assert f"lead {lead_id}: 已到店 (visited) at 2026-10-13 15:00" in out
    code, out = _invoke(
        "follow-up", str(lead_id), "order", "--at", "2026-10-15T11:00", "--as", "dealer.ch001",
        *NOW,
    )  # fmt: skip
    assert code == 0 and "已下订 (order) at 2026-10-15 11:00 — converted" in out
    with session_scope(db_url) as session:
        assert session.get(Lead, lead_id).converted_at == datetime(2026, 10, 15, 11, 0, tzinfo=SH)

    code, out = _invoke("follow-up", str(lead_id), "已到店", "--actor", "dealer.ch001", *NOW)
    assert code == 2
    assert out.strip() == (
        f"error: lead {lead_id}: stage: a deal at 已下订 order cannot go to 已到店 visited"
    )

    code, out = _invoke("funnel", "--from", "2026-10-12", "--to", "2026-10-12", *NOW)
    assert code == 0
    for step, n in (("leads", 1), ("valid", 1), ("accepted", 1), ("visited", 1), ("orders", 1)):
        assert f"│ {step:<8} │     {n} │" in out, out
    assert "by dealer" in out and "CH001" in out and "+86138" not in out


def test_another_dealers_staff_are_refused_and_it_is_recorded(world, db_url):
    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 2)
    code, out = _invoke("follow-up", str(lead_id), "contacted", "--actor", "dealer.ch002", *NOW)
    assert code == 2
    assert f"dealer.ch002 (dealer) may not record the follow-up of lead {lead_id}" in out
    with session_scope(db_url) as session:
        refusals = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
        steps = session.execute(select(LeadFollowUp)).all()
    assert [tuple(r) for r in refusals] == [("leads.follow_up", f"lead:{lead_id}", "dealer.ch002")]
    assert steps == []


def test_a_bad_row_of_a_dealer_file_is_named_and_the_good_ones_kept(world, db_url, tmp_path):
    with session_scope(db_url) as session:
        first, second = seed_lead(session, 3), seed_lead(session, 4)
    path = tmp_path / "deals.csv"
    path.write_bytes(
        (
            "记录编号,线索编号,阶段,时间,经销商,战败原因\n"
            f"D1,{first},已试驾,2026-10-14 10:00,CH001,\n"
            f"D2,{second},战败,2026-10-14 10:00,CH001,没钱\n"
            f"D3,{second},已联系,2026-10-13 10:00,CH001,\n"
        ).encode("gbk")
    )
    code, out = _invoke("import-deals", str(path), *NOW)
    assert code == 2
    lines = out.strip().splitlines()
    assert lines[0] == "deals.csv: 2 recorded (0 orders, 0 lost), 0 already known, 1 refused"
    assert lines[1].startswith("error: deals.csv: line 3: reason: unknown lost reason '没钱'")
    assert len(lines) == 2
    code, out = _invoke("import-deals", str(path), *NOW)  # the same file again: nothing new
    assert code == 2 and "0 recorded (0 orders, 0 lost), 2 already known, 1 refused" in out
    with session_scope(db_url) as session:
        rows = session.execute(
            select(LeadFollowUp.lead_id, LeadFollowUp.stage, LeadFollowUp.external_id)
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        (first, "test_drive", "D1"),
        (second, "contacted", "D3"),
    ]
