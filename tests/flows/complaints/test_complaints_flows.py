"""The complaints sweep escalates a late complaint once per level (a rerun adds nothing) and
draws an ended activity's satisfaction sample once; the monthly summary's artifact and its
message to HQ."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Activity, Club, Member, Registration
from domain.models_complaints import ComplaintEscalation, SatisfactionCall
from flows.complaints.monthly import complaints_monthly
from flows.complaints.sweep import complaints_sweep
from flows.notifications import deliver_notifications
from tasks.complaints.records import file_complaint, receive_complaint

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SH)  # Tuesday


def _seed(db_url) -> int:
    s = get_settings()
    with session_scope(db_url) as session:
        cid = file_complaint(
            session=session,
            source="call",
            member_no="M000001",
            subject="活动退款未到",
            body="",
            actor="agent1",
            now=NOW,
            settings=s,
        ).id
        file_complaint(
            session=session,
            source="member",
            member_no="M000002",
            subject="APP 积分显示错误",
            body="",
            actor="member:M000002",
            now=NOW,
            settings=s,
        )
        receive_complaint(
            session=session,
            complaint_id=cid,
            category="activity",
            severity="medium",
            handler="agent1",
            actor="agent1",
            now=NOW,
            settings=s,
        )
        club = session.execute(select(Club).order_by(Club.id)).scalars().first()
        act = Activity(
            code="SAT-FLOW",
            title="冬季营地",
            klass="C",
            region_code=club.region_code,
            club_id=club.id,
            starts_on=date(2026, 11, 28),
            ends_on=date(2026, 11, 29),
            status="announced",
            proposed_by="x",
        )
        session.add(act)
        session.flush()
        for mid in session.execute(select(Member.id).order_by(Member.id).limit(10)).scalars():
            session.add(Registration(activity_id=act.id, member_id=mid, checked_in_at=NOW))
        session.commit()
    return cid


def test_the_sweep_escalates_once_and_samples_once(channels, sink, db_url):
    cid = _seed(db_url)
    first = complaints_sweep(now=NOW)
    assert first == {"escalated": 0, "closed": 0, "sampled": {"SAT-FLOW": 3}}
    # Handle due 12-04: 12-07 is past it (level 1), 12-09 two working days more (level 2);
    # the unreceived one (due 12-02) reaches both levels on 12-07.
    assert complaints_sweep(now=NOW + timedelta(days=6))["escalated"] == 3
    again = complaints_sweep(now=NOW + timedelta(days=6))
    assert again == {"escalated": 0, "closed": 0, "sampled": {}}
    assert complaints_sweep(now=NOW + timedelta(days=8))["escalated"] == 1
    with session_scope(db_url) as session:
        levels = session.execute(
            select(
                ComplaintEscalation.complaint_id,
                ComplaintEscalation.stage,
                ComplaintEscalation.level,
            ).order_by(ComplaintEscalation.id)
        ).all()
        assert [tuple(r) for r in levels] == [
            (cid, "handle", 1),
            (cid + 1, "receive", 1),
            (cid + 1, "receive", 2),
            (cid, "handle", 2),
        ]
        assert session.execute(select(func.count()).select_from(SatisfactionCall)).scalar_one() == 3
    deliver_notifications(now=NOW + timedelta(days=8))
    [to_handler] = sink.to("person/agent1")[-1:]
    assert to_handler.title == f"投诉 #{cid} 逾期（处理，第 1 级）"


def test_the_monthly_summary_reports_to_hq(channels, sink, db_url):
    _seed(db_url)
    jan_4 = datetime(2027, 1, 4, 9, 0, tzinfo=SH)
    assert complaints_monthly(now=datetime(2027, 1, 3, 9, tzinfo=SH)) == {"skipped": True}  # Sunday
    result = complaints_monthly(now=jan_4, force=True)
    assert (result["month"], result["total"], result["open"]) == ("2026-12", 2, 2)
    assert result["by_source"] == {"call": 1, "member": 1}
    assert result["by_category"] == {"activity": 1, "未分类": 1}
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["complaints-2026-12"])),
            limit=1,
        )
    assert "共 2 件" in artifact.data and "月底未结 2 件" in artifact.data
    deliver_notifications(now=jan_4)
    msgs = [m for m in sink.messages if m.title.startswith("2026-12 投诉汇总")]
    assert [m.title for m in msgs][:1] == ["2026-12 投诉汇总：2 件，按时率 —"]
