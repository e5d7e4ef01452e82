"""An incident at 23:30 Asia/Shanghai reaches HQ and the region's specialist then, not in the
morning; it closes only with the recovery and lessons learned."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Activity, ActivityClass
from domain.models_audit import Refusal
from domain.models_disputes import Incident, IncidentAction
from flows.notifications import deliver_notifications
from tasks.audit import Refused
from tasks.disputes.incidents import close_incident, record_incident_action, report_incident

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATE = datetime(2026, 10, 10, 23, 30, tzinfo=SHANGHAI)


def _activity(session) -> None:
    session.add(
        Activity(
            code="C-CH001-20261011",
            title="雨林穿越 秋季站",
            klass=ActivityClass.C,
            region_code="chengdu",
            starts_on=date(2026, 10, 11),
            ends_on=date(2026, 10, 11),
            place="四川雅安",
            proposed_by="admin.ch001",
            status="approved",
        )
    )


def test_report_at_2330_is_delivered_at_once(channels, sink, db_url):
    with session_scope(db_url) as session:
        _activity(session)
        session.flush()
        report_incident(
            session=session,
            username="admin.ch001",
            kind="storm",
            what="营地暴雨，帐篷进水，联系人 13812345678",
            activity_code="C-CH001-20261011",
            now=LATE,
            settings=get_settings(),
        )
    deliver_notifications(now=LATE + timedelta(minutes=1))
    bodies = {m.path: m.body for m in sink.messages}
    assert len(sink.messages) >= 2
    assert all("营地暴雨" in body and "13812345678" not in body for body in bodies.values())
    assert any("2026-10-10 23:30" in body for body in bodies.values())


def test_close_needs_lessons_and_only_handlers_act(world, db_url):
    settings = get_settings()
    with session_scope(db_url) as session:
        code = report_incident(
            session=session,
            username="dealer.ch001",
            kind="power_loss",
            what="展厅断电",
            outlet="CH001 展厅",
            now=LATE,
            settings=settings,
        ).code
    with session_scope(db_url) as session, pytest.raises(Refused, match="incident act"):
        record_incident_action(
            session=session,
            username="dealer.ch001",
            code=code,
            action="启用发电机",
            responsible="dealer.ch001",
            now=LATE,
        )
    with session_scope(db_url) as session:
        record_incident_action(
            session=session,
            username="specialist.chengdu",
            code=code,
            action="启用发电机",
            responsible="dealer.ch001",
            now=LATE,
        )
        with pytest.raises(ValueError, match="lessons: a lessons-learned summary is required"):
            close_incident(
                session=session,
                username="specialist.chengdu",
                code=code,
                recovery="已恢复供电",
                lessons="",
                now=LATE,
            )
        close_incident(
            session=session,
            username="specialist.chengdu",
            code=code,
            recovery="已恢复供电",
            lessons="备用电源每月检查",
            now=LATE,
        )
    with session_scope(db_url) as session:
        row = session.execute(select(Incident)).scalar_one()
        assert (row.status, row.lessons) == ("closed", "备用电源每月检查")
        act = session.execute(select(IncidentAction)).scalar_one()
        assert (act.action, act.responsible) == ("启用发电机", "dealer.ch001")
        assert session.execute(select(Refusal.action)).scalar_one() == "incident.act"
