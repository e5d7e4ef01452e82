"""A complaint from filing to the member's confirmation; refusals recorded; the sweep
escalates a late stage once per level and auto-closes; the satisfaction sample is stable."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.links import read_link
from clubflow.core.settings import get_settings
from domain.models import Activity, Club, Member, Notification, Registration
from domain.models_audit import Refusal
from domain.models_complaints import Complaint, ComplaintEscalation, SatisfactionCall
from tasks.complaints.records import (
    ComplaintRefused,
    answer_complaint,
    confirm_complaint,
    file_complaint,
    receive_complaint,
    record_action,
)
from tasks.complaints.satisfaction import ended_activities, record_score, sample_satisfaction
from tasks.complaints.sweep import sweep_complaints

SH = ZoneInfo("Asia/Shanghai")
# Tuesday 2026-12-01 10:00 Beijing time.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SH)


def _messages(session, template):
    return session.execute(
        select(Notification.recipient, Notification.title, Notification.body)
        .where(Notification.template == template)
        .order_by(Notification.id)
    ).all()


def test_a_member_complaint_is_received_handled_answered_and_confirmed(world, db_url):
    s = get_settings()
    with session_scope(db_url) as session:
        c = file_complaint(
            session=session,
            source="member",
            member_no="M000001",
            subject="保养等待太久",
            body="等了三小时",
            actor="member:M000001",
            now=NOW,
            settings=s,
        )
        cid = c.id
        assert (c.status, str(c.receive_due), str(c.answer_due)) == (
            "filed",
            "2026-12-02",
            "2026-12-08",
        )
        with pytest.raises(ComplaintRefused):
            receive_complaint(
                session=session,
                complaint_id=cid,
                category="after_sales",
                severity="high",
                handler="agent1",
                actor="specialist.east",
                now=NOW,
                settings=s,
            )
        c = receive_complaint(
            session=session,
            complaint_id=cid,
            category="after_sales",
            severity="high",
            handler="agent1",
            actor="agent2",
            now=NOW,
            settings=s,
        )
        # After-sales: the customer is contacted the same day.
        assert (c.status, str(c.receive_due), c.late) == ("received", "2026-12-01", False)
        with pytest.raises(ComplaintRefused, match="assigned to agent1, not agent3"):
            record_action(
                session=session, complaint_id=cid, note="x", done=False, actor="agent3", now=NOW
            )
        record_action(
            session=session,
            complaint_id=cid,
            note="致电客户，收集照片",
            done=False,
            actor="agent1",
            now=NOW,
        )
        record_action(
            session=session,
            complaint_id=cid,
            note="服务站道歉并赠送保养",
            done=True,
            actor="agent1",
            now=NOW + timedelta(days=1),
        )
        c = answer_complaint(
            session=session,
            complaint_id=cid,
            answer="已安排免费保养一次",
            actor="agent1",
            now=NOW + timedelta(days=1),
            settings=s,
        )
        assert c.status == "answered"
        with pytest.raises(ComplaintRefused, match="did not file"):
            confirm_complaint(
                session=session,
                complaint_id=cid,
                member_no="M000002",
                note="",
                now=NOW + timedelta(days=2),
            )
        c = confirm_complaint(
            session=session,
            complaint_id=cid,
            member_no="M000001",
            note="满意",
            now=NOW + timedelta(days=2),
        )
        assert (c.status, c.closed_by, c.late) == ("closed", "member:M000001", False)
        [(to, title, body)] = _messages(session, "complaint_answer")
        assert (to, title) == ("member:M000001", f"您的投诉 #{cid} 已有答复")
        text, link = body.rsplit("：", 1)
        answer = "关于「保养等待太久」，我们的答复：已安排免费保养一次"
        assert text == answer + "\n如您认可，请在此确认关闭"
        # The link is signed to the member's own complaint page on the portal.
        assert link.startswith(s.portal_url.rstrip("/") + "/go/")
        token = link.rsplit("/", 1)[1]
        assert read_link(token, settings=s, now=NOW) == (f"/me/complaints/{cid}", "")
        serious = _messages(session, "complaint_serious")
        assert [(r, t) for r, t, _ in serious] == [
            ("role:campaign_manager", f"严重投诉 #{cid}：保养等待太久")
        ]
        assert [r for r, _, _ in _messages(session, "complaint_assigned")] == ["person:agent1"]
        refusals = session.execute(select(Refusal.action, Refusal.actor).order_by(Refusal.id)).all()
        assert [tuple(r) for r in refusals] == [
            ("complaints.receive", "specialist.east"),
            ("complaints.handle", "agent3"),
            ("complaints.confirm", "member:M000002"),
        ]


def test_the_sweep_escalates_once_per_level_and_auto_closes(world, db_url):
    s = get_settings()
    with session_scope(db_url) as session:
        cid = file_complaint(
            session=session,
            source="call",
            member_no="M000003",
            subject="积分未到账",
            body="",
            actor="agent1",
            now=NOW,
            settings=s,
        ).id
        # Receive due 12-02; 12-03 is level 1; 12-07 (two working days more) is level 2.
        assert (
            sweep_complaints(session=session, now=NOW + timedelta(days=1), settings=s).escalated
            == 0
        )
        assert (
            sweep_complaints(session=session, now=NOW + timedelta(days=2), settings=s).escalated
            == 1
        )
        assert (
            sweep_complaints(session=session, now=NOW + timedelta(days=2), settings=s).escalated
            == 0
        )
        assert (
            sweep_complaints(session=session, now=NOW + timedelta(days=6), settings=s).escalated
            == 1
        )
        assert (
            sweep_complaints(session=session, now=NOW + timedelta(days=7), settings=s).escalated
            == 0
        )
        levels = session.execute(select(ComplaintEscalation.stage, ComplaintEscalation.level)).all()
        assert sorted(tuple(r) for r in levels) == [("receive", 1), ("receive", 2)]
        late = _messages(session, "complaint_late")
        assert [(r, t) for r, t, _ in late] == [
            ("role:call_agent", f"投诉 #{cid} 逾期（受理，第 1 级）"),
            ("role:call_supervisor", f"投诉 #{cid} 逾期（受理，第 2 级）"),
            ("role:campaign_manager", f"投诉 #{cid} 逾期（受理，第 2 级）"),
        ]
        assert session.get(Complaint, cid).late is True
        t = NOW + timedelta(days=7)
        receive_complaint(
            session=session,
            complaint_id=cid,
            category="points",
            severity="low",
            handler="agent1",
            actor="agent1",
            now=t,
            settings=s,
        )
        record_action(
            session=session, complaint_id=cid, note="补发积分", done=True, actor="agent1", now=t
        )
        answer_complaint(
            session=session,
            complaint_id=cid,
            answer="积分已补发",
            actor="agent1",
            now=t,
            settings=s,
        )
        # Answered Tue 12-08: closes by itself 7 working days later (12-17) without a reply.
        assert sweep_complaints(session=session, now=t + timedelta(days=8), settings=s).closed == 0
        assert sweep_complaints(session=session, now=t + timedelta(days=9), settings=s).closed == 1
        c = session.get(Complaint, cid)
        assert (c.status, c.closed_by) == ("closed", "auto")


def test_the_satisfaction_sample_is_the_same_on_a_rerun_and_scores_are_stored(world, db_url):
    s = get_settings()
    with session_scope(db_url) as session:
        club = session.execute(select(Club).order_by(Club.id)).scalars().first()
        activity = Activity(
            code="SAT-1",
            title="雨林穿越",
            klass="C",
            region_code=club.region_code,
            club_id=club.id,
            starts_on=date(2026, 11, 28),
            ends_on=date(2026, 11, 29),
            status="announced",
            proposed_by="x",
        )
        session.add(activity)
        session.flush()
        members = session.execute(select(Member.id).order_by(Member.id).limit(30)).scalars().all()
        for i, mid in enumerate(members):
            session.add(
                Registration(
                    activity_id=activity.id, member_id=mid, checked_in_at=NOW if i < 25 else None
                )
            )
        session.commit()
        assert ended_activities(session=session, today=date(2026, 12, 1), settings=s) == ["SAT-1"]
        first = sample_satisfaction(
            session=session, activity_code=activity.code, now=NOW, settings=s
        )
        again = sample_satisfaction(
            session=session, activity_code=activity.code, now=NOW, settings=s
        )
        assert (first.checked_in, first.sampled, first.new) == (25, 5, 5)
        assert again.sampled == 5 and again.new == 0
        assert ended_activities(session=session, today=date(2026, 12, 1), settings=s) == []
        assert len(_messages(session, "satisfaction_survey")) == 5
        calls = session.execute(select(SatisfactionCall)).scalars().all()
        assert len(calls) == first.sampled
        call = calls[0]
        record_score(
            session=session, call_id=call.id, score=4, comment="很好", actor="agent1", now=NOW
        )
        with pytest.raises(Exception, match="already answered"):
            record_score(
                session=session, call_id=call.id, score=5, comment="", actor="agent2", now=NOW
            )
        assert session.get(SatisfactionCall, call.id).score == 4
