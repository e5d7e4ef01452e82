"""Store-level lead steps on SQLite and PostgreSQL: dedupe window, merges, idempotent import,
assignment capacity, reassign rights."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import Settings
from clubflow.world import WorldSize, seed_demo_world
from domain.leads_csv import LeadRow, ParsedLeads
from domain.models import Lead, LeadStatus, Person
from tasks.leads.assignment import assign_open_leads, reassign_leads
from tasks.leads.common import LeadsError
from tasks.leads.intake import store_leads

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 28, 11, 0, tzinfo=SH)


@pytest.fixture
def store(any_db_url) -> str:
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
    return any_db_url


def _existing(url: str, phone: str, *, days_ago: int, status: str = "open") -> int:
    arrived = NOW - timedelta(days=days_ago)
    with session_scope(url) as session:
        lead = Lead(
            phone=phone,
            city="成都",
            region_code="chengdu",
            source="官网",
            sources=["官网"],
            arrived_at=arrived,
            business_day=arrived.date(),
            status=LeadStatus(status),
        )
        session.add(lead)
        session.flush()
        return lead.id


def _row(line: int, phone: str, source: str = "懂车帝") -> LeadRow:
    return LeadRow(line, phone, f"客户{line}", "SUV", "成都", source, NOW, f"line{line}")


def _store(url: str, rows: list[LeadRow], digest: str = "a" * 64):
    with session_scope(url) as session:
        return store_leads(
            session=session,
            parsed=ParsedLeads("utf-8", rows, []),
            source="csv",
            digest=digest,
            filename="x.csv",
            now=NOW,
            settings=Settings(),
            ref_prefix=f"file:{digest[:8]}",
        )


def test_duplicates_merge_into_open_leads_of_the_window_only(store):
    recent = _existing(store, "+8613900000001", days_ago=29)
    old = _existing(store, "+8613900000002", days_ago=31)
    closed = _existing(store, "+8613900000003", days_ago=2, status="invalid")

    summary = _store(
        store,
        [
            _row(2, "+8613900000001"),  # open, 29 days: merged
            _row(3, "+8613900000002"),  # open but 31 days old: a new lead
            _row(4, "+8613900000003"),  # closed: a new lead
            _row(5, "+8613900000004"),  # new
            _row(6, "+8613900000004", source="易车"),  # same file, same phone: merged
        ],
    )

    assert (summary.created, summary.merged) == (3, 2)
    with session_scope(store) as session:
        merged = session.get(Lead, recent)
        assert merged.sources == ["官网", "懂车帝"]
        phones = session.execute(select(Lead.phone, func.count()).group_by(Lead.phone)).all()
        new = session.execute(select(Lead).where(Lead.phone == "+8613900000004")).scalar_one()
    assert dict(phones) == {
        "+8613900000001": 1,
        "+8613900000002": 2,
        "+8613900000003": 2,
        "+8613900000004": 1,
    }
    assert new.sources == ["懂车帝", "易车"]
    assert (new.call_day.isoformat(), new.third_call_due.isoformat()) == (
        "2026-09-28",
        "2026-09-29",
    )
    assert old and closed


def test_leads_stored_in_bulk_read_back_as_given(store):
    # The intake hands its rows straight to the driver: times must still land in UTC,
    # sources as JSON, the status as its value, exactly as the ORM would have stored them.
    evening = datetime(2026, 9, 28, 23, 30, tzinfo=SH)  # the service has closed: next day
    rows = [_row(2, "+8613900000011"), _row(3, "+8613900000012", source="易车")]
    rows.append(LeadRow(4, "+8613900000013", "客户4", "SUV", "成都", "官网", evening, "line4"))

    summary = _store(store, rows)

    assert summary.created == 3
    with session_scope(store) as session:
        leads = {lead.phone: lead for lead in session.execute(select(Lead)).scalars()}
    morning, late = leads["+8613900000012"], leads["+8613900000013"]
    assert morning.arrived_at == NOW and late.arrived_at == evening
    assert morning.arrived_at.utcoffset() == timedelta(0)
    assert morning.sources == ["易车"] and morning.status == LeadStatus.open
    assert (morning.call_day, morning.third_call_due) == (NOW.date(), NOW.date() + timedelta(1))
    assert late.call_day == NOW.date() + timedelta(1)
    assert morning.source_ref == "file:aaaaaaaa:line3" and morning.agent_id is not None


def test_the_same_content_twice_stores_nothing_the_second_time(store):
    first = _store(store, [_row(2, "+8613900000011"), _row(3, "+8613900000012")])
    second = _store(store, [_row(2, "+8613900000011"), _row(3, "+8613900000012")])
    assert (first.created, first.already_imported) == (2, False)
    assert (second.created, second.already_imported) == (0, True)
    with session_scope(store) as session:
        assert session.execute(select(func.count()).select_from(Lead)).scalar_one() == 2


def test_new_leads_are_assigned_within_capacity_and_leftovers_wait(store):
    with session_scope(store) as session:
        session.execute(
            Person.__table__.update()
            .where(Person.username.in_(["agent1", "agent2"]))
            .values(daily_capacity=5)
        )
        session.execute(
            Person.__table__.update()
            .where(Person.username.in_(["agent3", "agent4", "agent5"]))
            .values(daily_capacity=10)
        )
        session.execute(
            Person.__table__.update().where(Person.username == "agent6").values(in_rotation=False)
        )
    summary = _store(store, [_row(i, f"+86139000001{i:02d}") for i in range(2, 62)])
    assert (summary.created, summary.assigned) == (60, 40)
    with session_scope(store) as session:
        same_day = assign_open_leads(session=session, now=NOW, settings=Settings())
    assert (same_day.assigned, same_day.unassigned) == (0, 20)  # everyone is full today

    with session_scope(store) as session:
        next_day = assign_open_leads(
            session=session, now=NOW + timedelta(days=1), settings=Settings()
        )
    assert next_day.assigned == 20 and next_day.unassigned == 0
    # least open load first (agent1/agent2 hold 5, agent3-5 hold 10), within today's capacity
    assert next_day.by_agent == {"agent1": 5, "agent2": 5, "agent3": 4, "agent4": 3, "agent5": 3}
    with session_scope(store) as session:
        loads = dict(
            session.execute(
                select(Person.username, func.count())
                .join(Lead, Lead.agent_id == Person.id)
                .group_by(Person.username)
            ).all()
        )
    assert loads == {"agent1": 10, "agent2": 10, "agent3": 14, "agent4": 13, "agent5": 13}


def test_only_the_supervisor_reassigns_and_only_open_leads(store):
    _store(store, [_row(2, "+8613900000201"), _row(3, "+8613900000202")])
    with session_scope(store) as session:
        assign_open_leads(session=session, now=NOW, settings=Settings())
        ids = list(session.execute(select(Lead.id).order_by(Lead.id)).scalars())
    with session_scope(store) as session, pytest.raises(LeadsError, match="not a call supervisor"):
        reassign_leads(session=session, lead_ids=ids, to_agent="agent3", by="agent1", now=NOW)
    with session_scope(store) as session, pytest.raises(LeadsError, match="not an active call"):
        reassign_leads(
            session=session, lead_ids=ids, to_agent="hq.manager", by="call.supervisor", now=NOW
        )
    with session_scope(store) as session:
        moved = reassign_leads(
            session=session, lead_ids=ids, to_agent="agent3", by="call.supervisor", now=NOW
        )
        agent3 = session.execute(select(Person.id).where(Person.username == "agent3")).scalar()
        owners = set(session.execute(select(Lead.agent_id)).scalars())
    assert moved == 2 and owners == {agent3}


def test_outcomes_and_hand_off_in_one_batch(store):
    from domain.leads_csv import OutcomeRow
    from domain.models import CallAttempt, Notification
    from domain.models_leads import LeadHandoff
    from tasks.leads.handoff import hand_off_valid_leads
    from tasks.leads.outcomes import apply_outcome_rows

    _store(store, [_row(i, f"+86139000003{i:02d}") for i in range(2, 5)])
    with session_scope(store) as session:
        a, b, c = session.execute(select(Lead.id).order_by(Lead.id)).scalars().all()
    at = NOW + timedelta(hours=1)
    rows = [
        OutcomeRow(2, a, 1, "有意购车", at, "agent1", None),
        OutcomeRow(3, b, 1, "关机", at, "agent1", None),
        OutcomeRow(4, b, 2, "powered_off", at, "agent1", None),
        OutcomeRow(5, b, 3, "关机", at + timedelta(days=1), "agent1", None),
        OutcomeRow(6, c, 1, "挂断", at, "agent1", None),
        OutcomeRow(7, a, 1, "有意购车", at, "agent1", None),  # the same report twice
    ]
    with session_scope(store) as session:
        summary, rejects = apply_outcome_rows(session=session, rows=rows, now=at, source="t")
        handed = hand_off_valid_leads(session=session, now=at, settings=Settings(), channels=None)
    assert (summary.applied, summary.duplicates, summary.closed_valid) == (4, 1, 1)
    assert summary.closed_invalid == 1
    assert [r.line_no for r in rejects] == [6] and "unknown outcome code '挂断'" in rejects[
        0
    ].reason
    assert handed.handed == 1 and handed.rows[0][2] == "dealer:CH001"
    with session_scope(store) as session:
        leads = {lead.id: lead for lead in session.execute(select(Lead)).scalars()}
        attempts = session.execute(select(func.count()).select_from(CallAttempt)).scalar_one()
        handoff = session.execute(select(LeadHandoff)).scalar_one()
        note = session.execute(select(Notification)).scalar_one()
    assert (leads[a].status, leads[a].dealer_id is not None) == ("valid", True)
    assert (leads[b].status, leads[b].outcome) == ("invalid", "invalid_powered_off")
    assert (leads[c].status, leads[c].next_call_no) == ("open", 1)
    assert attempts == 4 and handoff.round == 1
    assert note.idem_key == f"leads:handoff:{a}:1" and note.urgent
