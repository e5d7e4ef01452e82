"""The paged HTTP lead source and the call-centre API, over real HTTP on loopback."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from support_leads import FakeApi, serve_fake_api

from clubflow.core.db import session_scope
from domain.models import CallAttempt, Lead
from domain.models_leads import LeadReject, LeadSourceCursor
from tasks.http import ExternalSystemError
from tasks.leads.intake import fetch_source_leads_task
from tasks.leads.outcomes import fetch_call_centre_outcomes_task

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 28, 11, 0, tzinfo=SH)


def _items(n: int, first: int = 1) -> list[dict]:
    return [
        {
            "id": i,
            "name": f"网友{i}",
            "phone": f"139 1000 {i:04d}",
            "model": "皮卡",
            "city": "北京",
            "source": "懂车帝",
            "time": "2026-09-28 09:30",
        }
        for i in range(first, first + n)
    ]


def _leads(db_url) -> int:
    with session_scope(db_url) as session:
        return session.execute(select(func.count()).select_from(Lead)).scalar_one()


def test_the_source_is_read_page_by_page_with_its_token_and_only_once(
    prefect_server, lead_world, db_url
):
    name = f"lead-source-{uuid.uuid4().hex[:6]}"
    items = _items(25) + [{"id": 26, "phone": "", "city": "北京"}]  # one without phone
    api = FakeApi(token="s3cr3t-token", collections={"leads": items}, fail_next=1)
    with serve_fake_api(api):
        api.block(page_size=10).save(name, overwrite=True)
        summary = fetch_source_leads_task.fn(block_name=name, now=NOW)
        again = fetch_source_leads_task.fn(block_name=name, now=NOW)
        api.collections["leads"].extend(_items(3, first=27))
        more = fetch_source_leads_task.fn(block_name=name, now=NOW)

    assert (summary.created, summary.rejected) == (25, 1)
    assert summary.reject_samples == [(26, "item 26: phone: no phone (缺少电话)")]
    assert again.created == 0 and more.created == 3
    assert _leads(db_url) == 28
    # one 503 retried, three pages, then only what came after the cursor
    assert len([r for r in api.requests if "page=1" in r]) == 4
    assert any("after=26" in r for r in api.requests)
    with session_scope(db_url) as session:
        assert session.get(LeadSourceCursor, name).cursor == "29"
        assert session.execute(select(func.count()).select_from(LeadReject)).scalar_one() == 1


def test_a_wrong_token_fails_naming_the_source(lead_world, prefect_server):
    name = f"lead-source-{uuid.uuid4().hex[:6]}"
    api = FakeApi(token="right-token", collections={"leads": _items(2)})
    with serve_fake_api(api):
        block = api.block()
        block.token = "wrong-token"  # type: ignore[assignment]
        block.save(name, overwrite=True)
        with pytest.raises(ExternalSystemError, match=r"127\.0\.0\.1.*/leads: HTTP 401"):
            fetch_source_leads_task.fn(block_name=name, now=NOW)


def test_outcomes_from_the_call_centre_api_apply_and_move_the_cursor(
    prefect_server, lead_world, db_url
):
    source = f"lead-source-{uuid.uuid4().hex[:6]}"
    centre = f"call-centre-{uuid.uuid4().hex[:6]}"
    leads_api = FakeApi(token="lead-token", collections={"leads": _items(3)})
    with serve_fake_api(leads_api):
        leads_api.block().save(source, overwrite=True)
        fetch_source_leads_task.fn(block_name=source, now=NOW)
    with session_scope(db_url) as session:
        ids = list(session.execute(select(Lead.id).order_by(Lead.id)).scalars())
    outcomes = [
        {"id": 1, "lead_id": ids[0], "call_no": 1, "outcome": "无意购车",
         "called_at": "2026-09-28 14:00", "agent": "agent1"},
        {"id": 2, "lead_id": ids[1], "call_no": 1, "outcome": "no_answer",
         "called_at": "2026-09-28 14:05", "agent": "agent1"},
        {"id": 3, "lead_id": ids[1], "call_no": 3, "outcome": "busy",
         "called_at": "2026-09-28 14:06", "agent": "agent1"},
    ]  # fmt: skip
    api = FakeApi(token="centre-token", collections={"outcomes": outcomes})
    with serve_fake_api(api):
        api.block().save(centre, overwrite=True)
        summary = fetch_call_centre_outcomes_task.fn(block_name=centre, now=NOW)
        again = fetch_call_centre_outcomes_task.fn(block_name=centre, now=NOW)

    assert (summary.applied, summary.closed_valid, summary.rejected) == (2, 1, 1)
    assert "call 3 out of order: the lead's next call is 2" in summary.rejects[0][1]
    assert again.applied == 0
    with session_scope(db_url) as session:
        second = session.get(Lead, ids[1])
        assert (second.next_call_no, second.next_call_due.isoformat()) == (2, "2026-09-28")
        assert session.execute(select(func.count()).select_from(CallAttempt)).scalar_one() == 2
        assert session.get(LeadSourceCursor, centre).cursor == "3"
