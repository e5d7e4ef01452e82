"""Deals in the store: steps recorded by the dealer's staff and HQ, the order converting the
lead, lost ending it, refusals recorded; the dealer system's feed over loopback HTTP (a second
run adds nothing); the funnel and the daily report with exact figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from support_deals import ARRIVED, NOW, SH, seed_lead
from support_leads import FakeApi, serve_fake_api

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Dealer, Lead
from domain.models_audit import Refusal
from domain.models_deals import LeadFollowUp
from domain.models_leads import LeadSourceCursor
from tasks.leads.common import LeadsError
from tasks.leads.deals import DealRefused, record_follow_up
from tasks.leads.funnel import deal_funnel
from tasks.leads.statistics import compute_statistics

ACCEPTED = ARRIVED + timedelta(hours=3)


def _record(db_url, lead_id, stage, at, actor="dealer.ch001", now=NOW, **kw):
    with session_scope(db_url) as session:
        return record_follow_up(
            session=session, lead_id=lead_id, stage=stage, at=at, actor=actor, now=now, **kw
        )


def _steps(db_url, lead_id):
    with session_scope(db_url) as session:
        rows = session.execute(
            select(LeadFollowUp.stage, LeadFollowUp.at, LeadFollowUp.by, LeadFollowUp.source)
            .where(LeadFollowUp.lead_id == lead_id)
            .order_by(LeadFollowUp.id)
        ).all()
    return [tuple(r) for r in rows]


def test_the_dealers_staff_follow_a_lead_to_its_order_and_delivery(lead_world, db_url):
    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 1)
    day = ACCEPTED + timedelta(days=1)
    _record(db_url, lead_id, "contacted", day)
    _record(db_url, lead_id, "已预约到店", day + timedelta(hours=1))
    _record(db_url, lead_id, "visited", day + timedelta(days=2))
    view = _record(db_url, lead_id, "order", day + timedelta(days=3), actor="dealer:CH001")
    assert (view.stage, view.label) == ("order", "已下订")
    assert view.next_stages == [("delivered", "已交车")]
    with session_scope(db_url) as session:
        lead = session.get(Lead, lead_id)
        ch001 = session.execute(select(Dealer.id).where(Dealer.code == "CH001")).scalar()
        assert (lead.converted_at, lead.dealer_id, lead.lost_at) == (
            day + timedelta(days=3),
            ch001,
            None,
        )
    _record(db_url, lead_id, "已交车", day + timedelta(days=5), actor="hq.manager")
    assert [(s, by) for s, _at, by, _src in _steps(db_url, lead_id)] == [
        ("contacted", "dealer.ch001"),
        ("visit_booked", "dealer.ch001"),
        ("visited", "dealer.ch001"),
        ("order", "dealer:CH001"),
        ("delivered", "hq.manager"),
    ]
    with pytest.raises(LeadsError, match="stage: the deal is closed"):
        _record(db_url, lead_id, "lost", NOW, reason="预算不足")


def test_a_lost_deal_has_its_reason_and_no_conversion(lead_world, db_url):
    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 2)
    _record(db_url, lead_id, "contacted", ACCEPTED + timedelta(hours=2))
    with pytest.raises(LeadsError, match="lead .*: reason: lost needs a reason"):
        _record(db_url, lead_id, "lost", ACCEPTED + timedelta(days=1))
    view = _record(db_url, lead_id, "战败", ACCEPTED + timedelta(days=1), reason="购买竞品")
    assert [(s.label, s.reason) for s in view.steps] == [("已联系", ""), ("战败", "购买竞品")]
    with session_scope(db_url) as session:
        lead = session.get(Lead, lead_id)
        assert (lead.lost_at, lead.converted_at) == (ACCEPTED + timedelta(days=1), None)


def test_another_dealer_and_an_agent_are_refused(lead_world, db_url):
    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 3)
        waiting = seed_lead(session, 4, accepted=False)
    for actor in ("dealer.ch002", "agent1", "dealer:CH002"):
        with pytest.raises(DealRefused, match=f"may not record the follow-up of lead {lead_id}"):
            _record(db_url, lead_id, "contacted", NOW, actor=actor)
    with pytest.raises(DealRefused, match=f"lead {waiting} has not been accepted"):
        _record(db_url, waiting, "contacted", NOW)
    with pytest.raises(LeadsError, match=f"lead {waiting} has not been accepted"):
        _record(db_url, waiting, "contacted", NOW, actor="hq.manager")
    assert _steps(db_url, lead_id) == []


def test_the_dealer_system_feed_stores_each_record_once(prefect_server, lead_world, db_url):
    from flows.leads.deal_feed import leads_deal_feed

    with session_scope(db_url) as session:
        won, lost, other = (seed_lead(session, n) for n in (5, 6, 7))
    at = "2026-10-14 15:00"
    api = FakeApi(token="dms-token")
    api.collections["deals"] = [
        # The order comes before its visit in the feed: a lead's records go in time order.
        {"id": 3, "lead_id": won, "stage": "已下订", "at": "2026-10-16 11:00", "dealer": "CH001"},
        {"id": 1, "lead_id": won, "stage": "已到店", "at": at, "dealer": "CH001"},
        {"id": 2, "lead_id": lost, "stage": "战败", "at": at, "dealer": "CH001",
         "reason": "暂缓购车"},
        {"id": 4, "lead_id": other, "stage": "已到店", "at": at, "dealer": "CH002"},
        {"id": 5, "lead_id": won, "stage": "签约", "at": at, "dealer": "CH001"},
        {"id": 6, "lead_id": 99999, "stage": "已到店", "at": at, "dealer": "CH001"},
    ]  # fmt: skip
    with serve_fake_api(api):
        api.block(page_size=2).save(get_settings().leads_dealer_system_block, overwrite=True)
        first = leads_deal_feed(now=NOW)
        again = leads_deal_feed(now=NOW)
        api.collections["deals"].append(
            {"id": 7, "lead_id": won, "stage": "delivered", "at": "2026-10-18", "dealer": "CH001"}
        )
        more = leads_deal_feed(now=NOW)
    assert first == {"recorded": 3, "orders": 1, "lost": 1, "duplicates": 0, "rejected": 3}
    assert again == {"recorded": 0, "orders": 0, "lost": 0, "duplicates": 0, "rejected": 0}
    assert more == {"recorded": 1, "orders": 0, "lost": 0, "duplicates": 0, "rejected": 0}
    assert [r for r in api.requests if "after" not in r] == [
        "/deals?page=1&page_size=2",
        "/deals?page=2&page_size=2",
        "/deals?page=3&page_size=2",
    ]
    assert any(r.startswith("/deals?after=6&") for r in api.requests)
    assert [(s, src) for s, _at, _by, src in _steps(db_url, won)] == [
        ("visited", "feed"),
        ("order", "feed"),
        ("delivered", "feed"),
    ]
    with session_scope(db_url) as session:
        assert session.get(Lead, won).converted_at == datetime(2026, 10, 16, 11, 0, tzinfo=SH)
        assert session.get(Lead, lost).lost_at == datetime(2026, 10, 14, 15, 0, tzinfo=SH)
        assert session.get(LeadSourceCursor, "dealer-system").cursor == "7"
        refusals = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    assert [tuple(r) for r in refusals] == [("leads.follow_up", f"lead:{other}", "dealer:CH002")]
    # The same record again (a re-import of the same id) adds nothing either.
    from tasks.leads.deals import apply_fetched_deals

    with session_scope(db_url) as session:
        replay = apply_fetched_deals(
            session=session, name="dealer-system", items=api.collections["deals"][:2], now=NOW
        )
    assert (replay.recorded, replay.duplicates) == (0, 2)


def test_feed_rejects_name_the_item_and_field(lead_world, db_url):
    from tasks.leads.deals import apply_fetched_deals

    with session_scope(db_url) as session:
        lead_id = seed_lead(session, 8)
        item = {"lead_id": lead_id, "at": "2026-10-14", "dealer": "CH001"}
        summary = apply_fetched_deals(
            session=session,
            name="dealer-system",
            items=[
                {**item, "id": 1, "stage": "签约"},
                {**item, "id": 2, "stage": "lost"},
                {**item, "id": 3, "stage": "visited", "dealer": "XX9"},
                {**item, "id": 4, "stage": "visited", "at": "2026-10-30"},
            ],
            now=NOW,
        )
    assert [line.split(": ", 2)[:2] for line in summary.rejected] == [
        ["item 1", "stage"],
        ["item 2", "reason"],
        ["item 3", "dealer"],
        ["item 4", "at"],
    ]


def _funnel_world(db_url):
    """Five leads of 2026-10-12, and one of September that ordered (outside the window)."""
    with session_scope(db_url) as session:
        won = seed_lead(session, 11)
        lost = seed_lead(session, 12)
        drove = seed_lead(session, 13, dealer="CH002", source="懂车帝", agent="agent2")
        seed_lead(session, 14, dealer=None, valid=False, source="懂车帝", agent="agent2")
        seed_lead(session, 15, dealer="CH002", accepted=False, source="懂车帝", agent="agent2")
        old = seed_lead(session, 16, arrived=datetime(2026, 9, 1, 9, 0, tzinfo=SH))
    _record(db_url, won, "visited", ACCEPTED + timedelta(hours=24))
    _record(db_url, won, "order", ACCEPTED + timedelta(hours=96))
    _record(db_url, lost, "contacted", ACCEPTED + timedelta(hours=5))
    _record(db_url, lost, "lost", ACCEPTED + timedelta(hours=6), reason="联系不上")
    _record(db_url, drove, "test_drive", ACCEPTED + timedelta(hours=48), actor="dealer.ch002")
    # Ordered after the funnel's time: not counted as of 2026-10-20.
    later = datetime(2026, 10, 25, 10, 0, tzinfo=SH)
    _record(db_url, drove, "order", later, actor="dealer.ch002", now=later)
    _record(db_url, old, "order", datetime(2026, 9, 3, 10, 0, tzinfo=SH))


def test_the_funnel_counts_each_step_by_source_dealer_and_agent(lead_world, db_url):
    _funnel_world(db_url)
    with session_scope(db_url) as session:
        funnel = deal_funnel(
            session=session, start=date(2026, 10, 1), end=date(2026, 10, 19), as_of=NOW
        )

    def counts(row):
        return (row.key, row.leads, row.valid, row.accepted, row.visited, row.orders)

    assert counts(funnel.total) == ("total", 5, 4, 3, 2, 1)
    assert [counts(r) for r in funnel.by["source"]] == [
        ("懂车帝", 3, 2, 1, 1, 0),
        ("汽车之家", 2, 2, 2, 1, 1),
    ]
    assert [counts(r) for r in funnel.by["dealer"]] == [
        ("CH001", 2, 2, 2, 1, 1),
        ("CH002", 2, 2, 1, 1, 0),
        ("—", 1, 0, 0, 0, 0),
    ]
    assert [counts(r) for r in funnel.by["agent"]] == [
        ("agent2", 3, 2, 1, 1, 0),
        ("agent1", 2, 2, 2, 1, 1),
    ]
    assert [counts(r) for r in funnel.by["city"]] == [
        ("成都", 3, 2, 2, 1, 1),
        ("重庆", 2, 2, 1, 1, 0),  # CH002's city
    ]
    # valid 1 h after arrival, accepted 2 h later, visits after 24 h and 48 h, the order 72 h
    # after its visit.
    assert funnel.median_hours == {"valid": 1.0, "accepted": 2.0, "visited": 36.0, "orders": 72.0}


def test_the_daily_report_carries_the_funnel(lead_world, db_url):
    _funnel_world(db_url)
    settings = get_settings().model_copy(update={"deals_funnel_days": 30})
    with session_scope(db_url) as session:
        stats, markdown = compute_statistics(
            session=session, day=date(2026, 10, 19), settings=settings
        )
    assert stats.funnel.start == date(2026, 9, 20)
    assert "成交漏斗 conversion funnel（2026-09-20 至 2026-10-19 的线索）" in markdown
    assert "| 线索 leads | 5 | |" in markdown
    assert "| 有效 valid | 4 | 1.0 小时 |" in markdown
    assert "| 经销商接收 accepted | 3 | 2.0 小时 |" in markdown
    assert "| 到店 visited | 2 | 36.0 小时 |" in markdown
    assert "| 下订 order | 1 | 3.0 天 |" in markdown
    assert "| CH001 | 2 | 2 | 2 | 1 | 1 |" in markdown
    assert "+86138" not in markdown
