"""Disputes in the store: filed, acknowledged, mediated, settled or litigated; refusals recorded;
overdue steps escalate once per level."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings
from domain.models import Notification
from domain.models_audit import Refusal
from domain.models_disputes import Dispute, DisputeEscalation, DisputeStep
from domain.models_portal import PortalAudit
from tasks.audit import Refused
from tasks.disputes.cases import (
    acknowledge_dispute,
    escalate_overdue_disputes,
    file_dispute,
    litigate_dispute,
    record_mediation,
    settle_dispute,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(_env_file=None)
FILED = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)  # a Monday


def _file(session, **overrides):
    values = {
        "username": "dealer.ch001",
        "kind": "customer_dealer",
        "claimant": "张先生 13812345678",
        "respondent": "CH001 经销商",
        "summary": "保养费用争议",
        "dealer_code": "CH001",
    }
    return file_dispute(session=session, now=FILED, settings=SETTINGS, **{**values, **overrides})


def test_filed_masked_acknowledged_mediated_settled(world, db_url):
    with session_scope(db_url) as session:
        dispute = _file(session)
        assert dispute.code == "DSP-20260302-001"
        assert "13812345678" not in dispute.claimant and "138" in dispute.claimant
        assert dispute.ack_due_at == datetime(2026, 3, 3, 23, 59, tzinfo=SHANGHAI)
        told = session.execute(select(Notification)).scalar_one()
        assert (told.recipient, told.title) == (
            "role:campaign_manager",
            "新纠纷待受理：DSP-20260302-001",
        )
        assert "请于 2026-03-03 23:59 前受理" in told.body and "13812345678" not in told.body
        acknowledge_dispute(
            session=session, username="hq.manager", code=dispute.code, now=FILED, settings=SETTINGS
        )
        record_mediation(
            session=session,
            username="legal.counsel",
            code=dispute.code,
            kind="meeting",
            held_on=date(2026, 3, 4),
            what="双方到店面谈",
            now=FILED,
        )
        settle_dispute(
            session=session,
            username="legal.counsel",
            code=dispute.code,
            agreement="退还保养费 50%",
            now=FILED,
        )
    with session_scope(db_url) as session:
        row = session.execute(select(Dispute)).scalar_one()
        assert (row.status, row.agreement, row.acknowledged_by) == (
            "settled",
            "退还保养费 50%",
            "hq.manager",
        )
        step = session.execute(select(DisputeStep)).scalar_one()
        assert (step.kind, step.recorded_by, step.what) == (
            "meeting",
            "legal.counsel",
            "双方到店面谈",
        )
        actions = session.execute(select(PortalAudit.action).order_by(PortalAudit.id)).scalars()
        assert list(actions) == [
            "dispute.file",
            "dispute.acknowledge",
            "dispute.meeting",
            "dispute.settle",
        ]


def test_litigation_records_the_case_and_tells_legal(world, db_url):
    with session_scope(db_url) as session:
        code = _file(session).code
        acknowledge_dispute(
            session=session, username="hq.manager", code=code, now=FILED, settings=SETTINGS
        )
        litigate_dispute(
            session=session,
            username="legal.counsel",
            code=code,
            court="成都市武侯区人民法院",
            case_number="(2026)川0107民初123号",
            filed_on=date(2026, 3, 20),
            now=FILED,
            settings=SETTINGS,
        )
    with session_scope(db_url) as session:
        row = session.execute(select(Dispute)).scalar_one()
        assert (row.status, row.court, row.case_filed_on) == (
            "litigation",
            "成都市武侯区人民法院",
            date(2026, 3, 20),
        )
        note = session.execute(
            select(Notification).where(Notification.template == "dispute_litigation")
        ).scalar_one()
        assert note.recipient == "role:legal"
        assert "案号：(2026)川0107民初123号" in note.body


def test_a_dealer_may_not_acknowledge_refusal_recorded(world, db_url):
    with session_scope(db_url) as session:
        code = _file(session).code
    with session_scope(db_url) as session, pytest.raises(Refused, match="dispute acknowledge"):
        acknowledge_dispute(
            session=session, username="dealer.ch001", code=code, now=FILED, settings=SETTINGS
        )
    with session_scope(db_url) as session:
        refusal = session.execute(select(Refusal)).scalar_one()
        assert (refusal.action, refusal.subject) == ("dispute.acknowledge", code)
        assert session.execute(select(Dispute.status)).scalar_one() == "filed"


def test_overdue_acknowledgement_escalates_once_per_level(world, db_url):
    with session_scope(db_url) as session:
        _file(session)
    late = datetime(2026, 3, 4, 9, tzinfo=SHANGHAI)  # after the due end of Tuesday
    with session_scope(db_url) as session:
        assert escalate_overdue_disputes(session=session, now=late, settings=SETTINGS) == 1
        assert escalate_overdue_disputes(session=session, now=late, settings=SETTINGS) == 0
    much_later = late + timedelta(days=3)  # Saturday: past two more working days
    with session_scope(db_url) as session:
        assert escalate_overdue_disputes(session=session, now=much_later, settings=SETTINGS) == 1
        assert escalate_overdue_disputes(session=session, now=much_later, settings=SETTINGS) == 0
        levels = session.execute(
            select(DisputeEscalation.level, DisputeEscalation.escalated_to)
        ).all()
        assert sorted(levels) == [(1, "role:campaign_manager"), (2, "role:legal")]
        bodies = list(
            session.execute(
                select(Notification.body).where(Notification.template == "dispute_escalation")
            ).scalars()
        )
        assert len(bodies) == 2 and all("「受理」已逾期" in b for b in bodies)
