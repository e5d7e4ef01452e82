"""The issue's end-to-end story: a GBK file of 500 rows before National Day 2026, outcomes
after it, dealers notified, one hand-off bounced, every notification delivered once."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import func, select
from support_leads import lead_file

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import CallAttempt, Lead, LeadImport, Notification, NotificationStatus
from domain.models_leads import LeadHandoff, LeadReject
from flows.leads.intake import leads_intake
from flows.leads.outcomes import leads_outcomes
from flows.leads.sweep import leads_sweep
from flows.notifications import deliver_notifications
from tasks.leads.handoff import accept_handoff
from tasks.leads.intake import import_lead_bytes

pytestmark = pytest.mark.slow

SH = ZoneInfo("Asia/Shanghai")
INTAKE_AT = datetime(2026, 9, 30, 23, 45, tzinfo=SH)  # Wed; Oct 1-7 National Day
LISTS_AT = datetime(2026, 10, 1, 8, 0, tzinfo=SH)  # quiet hours over: the call lists go out
OUTCOMES_AT = datetime(2026, 10, 8, 11, 0, tzinfo=SH)
SWEEP_AT = datetime(2026, 10, 9, 12, 0, tzinfo=SH)
CITIES = ("成都", "北京", "广州")
TIMES = ("2026-09-30 10:00", "2026-09-30 23:30")  # before and after the service closes (23:00)


def _count(db_url, model, *where) -> int:
    with session_scope(db_url) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _leads(db_url) -> list[Lead]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Lead).order_by(Lead.id)).scalars())


def _outcome_file(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["线索编号", "呼叫次数", "结果", "呼叫时间", "客服", "预约时间"])
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")  # Excel's UTF-8 with BOM


def test_five_hundred_leads_from_intake_to_dealers(lead_channels, sink, db_url, tmp_path):
    generated = lead_file(good=430, duplicates=30, bad=40, cities=CITIES, times=TIMES)
    path = tmp_path / "汽车之家_0930.csv"
    path.write_bytes(generated.data)

    # -- intake: 430 leads, 30 merged, 40 rejects with their lines and reasons
    result = leads_intake(files=[str(path)], source="汽车之家", pull_source=False, now=INTAKE_AT)
    assert result["created"] == 430 and result["merged"] == 30
    # 8 of the 40 name a city without a dealer: kept pending (tried again), not lost.
    assert result["rejected"] == 32 and result["pending"] == 8
    assert result["assigned"] == 430 and result["unassigned"] == 0
    leads = _leads(db_url)
    assert len(leads) == 430
    assert len({lead.phone for lead in leads}) == 430
    merged = [lead for lead in leads if len(lead.sources) == 2]
    assert len(merged) == 30
    with session_scope(db_url) as session:
        rejects = {r.line_no: r.reason for r in session.execute(select(LeadReject)).scalars()}
    assert sorted(rejects) == sorted(generated.bad_lines)
    for line, fragment in generated.bad_lines.items():
        assert fragment in rejects[line], (line, rejects[line])
        assert rejects[line].startswith(f"line {line}:")
    rejects_csv = next((tmp_path / "exports" / "2026-09-30").glob("rejects_*.csv"))
    assert len(rejects_csv.read_text(encoding="utf-8-sig").splitlines()) == 41

    # -- calls planned on service days: the service team works through National Day
    plans = Counter((lead.arrived_at.astimezone(SH).hour, lead.call_day, lead.third_call_due)
                    for lead in leads)  # fmt: skip
    assert set(plans) == {
        (10, date(2026, 9, 30), date(2026, 10, 1)),
        (23, date(2026, 10, 1), date(2026, 10, 2)),
    }
    loads = Counter(lead.agent_id for lead in leads)
    assert len(loads) == 6 and max(loads.values()) - min(loads.values()) <= 1

    # -- the same file again adds nothing
    again = leads_intake(files=[str(path)], source="汽车之家", pull_source=False, now=INTAKE_AT)
    assert again["created"] == 0 and again["call_lists"] == 0
    assert _count(db_url, Lead) == 430 and _count(db_url, LeadImport) == 1

    deliver_notifications(now=LISTS_AT)
    lists = [m for m in sink.messages if m.title.startswith("外呼名单")]
    assert len(lists) == 12  # six agents × two call days (Sep 30 and, after the close, Oct 1)
    assert sum(int(m.title.split("新分配 ")[1].split(" 条")[0]) for m in lists) == 430
    assert all("13900" not in m.body for m in lists)  # counts and a CSV path, no phones

    # -- outcomes after the holiday
    early = [lead for lead in leads if lead.call_day == date(2026, 9, 30)]
    chengdu = [lead for lead in early if lead.city == "成都"]
    beijing = [lead for lead in early if lead.city == "北京"]
    guangzhou = [lead for lead in early if lead.city == "广州"]
    l1, l3, l2 = chengdu[0], chengdu[1], beijing[0]
    l4, l5, l6, l7, l8 = guangzhou[:5]
    at = "2026-10-08 10:30"
    outcomes = _outcome_file(
        [
            (l1.id, 1, "有意购车", at, "agent1", ""),
            (l2.id, 1, "interested", at, "agent2", ""),
            (l3.id, 1, "有意购车", at, "agent3", ""),
            (l4.id, 1, "空号", at, "agent1", ""),
            (l5.id, 1, "关机", at, "agent1", ""),
            (l5.id, 2, "关机", at, "agent1", ""),
            (l5.id, 3, "关机", at, "agent1", ""),
            (l6.id, 1, "忙音", at, "agent1", ""),
            (l6.id, 2, "无人接听", at, "agent1", ""),
            (l6.id, 3, "秘书台", at, "agent1", ""),
            (l7.id, 1, "预约时间", at, "agent1", "2026-10-09 15:00"),
            (l8.id, 2, "忙音", at, "agent1", ""),  # out of order
            (l4.id, 2, "忙音", at, "agent1", ""),  # lead already closed
            (999999, 1, "忙音", at, "agent1", ""),  # unknown lead
            (l8.id, 1, "挂机", at, "agent1", ""),  # unknown code
        ]
    )
    outcome_path = tmp_path / "outcomes_1008.csv"
    outcome_path.write_bytes(outcomes)
    got = leads_outcomes(files=[str(outcome_path)], pull_call_centre=False, now=OUTCOMES_AT)
    assert got == {"applied": 11, "duplicates": 0, "rejected": 4, "handed_off": 3}
    by_id = {lead.id: lead for lead in _leads(db_url)}
    assert [by_id[i].status for i in (l1.id, l2.id, l3.id)] == ["valid"] * 3
    assert (by_id[l4.id].status, by_id[l4.id].outcome) == ("invalid", "invalid_number")
    assert (by_id[l5.id].status, by_id[l5.id].outcome) == ("invalid", "invalid_powered_off")
    assert (by_id[l6.id].status, by_id[l6.id].outcome) == ("invalid", "invalid_unreachable")
    assert (by_id[l7.id].status, by_id[l7.id].next_call_no) == ("open", 2)
    assert by_id[l7.id].next_call_due == date(2026, 10, 9)
    with session_scope(db_url) as session:
        reasons = sorted(
            r.reason
            for r in session.execute(select(LeadReject).where(LeadReject.import_id == 2)).scalars()
        )
    assert any("out of order" in r for r in reasons)
    assert any("already closed" in r for r in reasons)
    assert any("unknown lead 999999" in r for r in reasons)
    assert any("unknown outcome code '挂机'" in r for r in reasons)

    # dealers were told at once, with the phone on their own channel
    dealer_msgs = [m for m in sink.messages if m.path.startswith("/dealer/")]
    assert sorted(m.path for m in dealer_msgs) == [
        "/dealer/BE001",
        "/dealer/CH001",
        "/dealer/CH009",
    ]
    to_ch001 = next(m for m in dealer_msgs if m.path == "/dealer/CH001")
    assert l1.phone in to_ch001.body and "2026-10-09 11:00" in to_ch001.body
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
    shown = " ".join(str(a.data) for a in artifact)
    assert l1.phone not in shown and l1.phone[3:] not in shown

    # the same outcome file again: nothing new
    twice = leads_outcomes(files=[str(outcome_path)], pull_call_centre=False, now=OUTCOMES_AT)
    assert twice["applied"] == 0 and _count(db_url, CallAttempt) == 11

    # -- CH001 and BE001 accept in time; CH009 lets the deadline pass
    with session_scope(db_url) as session:
        accept_handoff(session=session, lead_id=l1.id, dealer_code="CH001", now=OUTCOMES_AT)
        accept_handoff(session=session, lead_id=l2.id, dealer_code="BE001", now=OUTCOMES_AT)
    swept = leads_sweep(now=SWEEP_AT)
    assert (swept["bounced"], swept["to_specialist"]) == (1, 0)
    with session_scope(db_url) as session:
        rounds = session.execute(
            select(LeadHandoff.round, LeadHandoff.recipient, LeadHandoff.bounced_at)
            .where(LeadHandoff.lead_id == l3.id)
            .order_by(LeadHandoff.round)
        ).all()
    assert [(r, to) for r, to, _ in rounds] == [(1, "dealer:CH009"), (2, "dealer:CH001")]
    assert rounds[0][2] is not None
    # overdue calls of Sep 30 remind each agent once and the supervisor once
    assert swept["agents_reminded"] == 6 and swept["escalated_calls"] > 0

    # -- a second sweep and a delivery add nothing; every notification arrived exactly once
    assert leads_sweep(now=SWEEP_AT)["bounced"] == 0
    deliver_notifications(now=SWEEP_AT)
    deliver_notifications(now=SWEEP_AT)
    rows = _count(db_url, Notification)
    assert _count(db_url, Notification, Notification.status == NotificationStatus.sent) == rows
    assert len(sink.messages) == rows == 12 + 3 + 1 + 6 + 1
    assert len(sink.to("dealer/CH001")) == 2
    assert len(sink.to("role/call_supervisor")) == 1
    seen = Counter((m.path, m.title, m.body) for m in sink.messages)
    assert max(seen.values()) == 1


def test_a_rerun_after_a_crash_mid_intake_adds_nothing_twice(lead_channels, sink, db_url, tmp_path):
    generated = lead_file(good=60, duplicates=5, bad=3, cities=CITIES, times=TIMES)
    path = tmp_path / "leads.csv"
    path.write_bytes(generated.data)
    # The first run died right after the import (and its assignment) committed: no lists.
    with session_scope(db_url) as session:
        import_lead_bytes(
            generated.data,
            session=session,
            source="csv",
            filename=path.name,
            now=INTAKE_AT,
            settings=get_settings(),
        )
    assert _count(db_url, Lead, Lead.listed_at.is_(None)) == 60

    first = leads_intake(files=[str(path)], pull_source=False, now=INTAKE_AT)
    second = leads_intake(files=[str(path)], pull_source=False, now=INTAKE_AT)
    assert (first["created"], first["assigned"], first["call_lists"]) == (0, 0, 12)
    assert (second["created"], second["assigned"], second["call_lists"]) == (0, 0, 0)
    assert _count(db_url, Lead, Lead.listed_at.is_(None)) == 0
    assert _count(db_url, Lead) == 60
    deliver_notifications(now=LISTS_AT)
    assert len(sink.messages) == first["call_lists"] == _count(db_url, Notification)
