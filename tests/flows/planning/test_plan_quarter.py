from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from quarter_support import draft_quarter, plan_confirmed
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Club, Notification, Person, Role
from domain.models_planning import ClubSlot, QuarterPlanRecord, RotationHosting
from domain.planning import MonthlyPlan
from flows.notifications import deliver_notifications
from flows.planning.plan_quarter import plan_quarter
from flows.planning.plan_reminders import remind_monthly_plans
from tasks.planning.plans import PlanningError
from tasks.planning.submissions import (
    SubmissionError,
    crossing_proposal_for,
    list_submitted_plans,
    mark_plan_proposed,
    submit_monthly_plan,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The scheduled run of 1 March 2027 plans 2027Q2.
MARCH_1 = datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)


def _artifact(key: str):
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1
        )
    return artifact


def test_the_scheduled_run_plans_next_quarter_stores_publishes_and_asks_each_admin_once(
    quarter_runner, sink, db_url, tmp_path, count
):
    quarter = plan_confirmed(quarter_runner, now=MARCH_1, ics_dir=tmp_path)

    # Empty history: every region waits equally, so the region order decides: Beijing
    # (grassland: summer, autumn). Q2 = Apr–May spring + Jun summer: only June suits it.
    assert quarter == "2027Q2"
    with session_scope(db_url) as session:
        [hosting] = session.execute(select(RotationHosting)).scalars().all()
        plan = session.execute(select(QuarterPlanRecord)).scalar_one()
        slots = session.execute(select(ClubSlot)).scalars().all()
        clubs = session.execute(select(Club)).scalars().all()
        admins = session.execute(
            select(Person.username, Person.region_code).where(Person.role == Role.club_admin)
        ).all()
    assert (hosting.quarter, hosting.region_code, hosting.month) == ("2027Q2", "beijing", 6)
    assert (plan.crossing_theme, plan.crossing_starts_on) == ("草原奔袭", date(2027, 6, 12))
    # Beijing's province-grade club organises it; its activity code is the lifecycle's key.
    assert (plan.crossing_club, plan.crossing_activity_code) == ("C-BE001", "C-BE001-20270612")
    assert plan.gathering_title is None  # September is not in Q2
    assert len(slots) == 3 * len(clubs) == 42
    assert {s.month for s in slots} == {date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)}
    assert {s.theme for s in slots if s.month.month == 6} == {"涉水季·避暑游"}

    cal = Calendar.from_ical((tmp_path / "clubflow-2027Q2.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1 + 42  # one crossing, one per club slot
    assert len({str(e["uid"]) for e in events}) == 43
    [crossing] = [e for e in events if str(e["uid"]).startswith("crossing-")]
    assert str(crossing["summary"]) == "跨区穿越 北京卫 草原奔袭"
    assert (crossing.decoded("dtstart"), crossing.decoded("dtend")) == (
        date(2027, 6, 12),
        date(2027, 6, 14),
    )
    slot = next(e for e in events if str(e["uid"]) == "slot-C-CH001-2027-04@clubflow")
    assert str(slot["summary"]) == "成都卫·成都车友会 4月活动档期（踏青游·开春探路）"
    assert "2027-03-25 前提报" in str(slot["description"])

    by_region = json.loads(_artifact("plan-2027q2-by-region").data)
    assert [r["region"] for r in by_region][:2] == ["北京卫", "兰州卫"]
    assert (by_region[0]["crossing"], by_region[1]["crossing"], by_region[1]["clubs"]) == (
        "主办",
        "受邀",
        2,
    )
    by_month = json.loads(_artifact("plan-2027q2-by-month").data)
    assert [m["club slots"] for m in by_month] == [14, 14, 14]
    assert by_month[2]["events"] == "跨区穿越 北京卫 草原奔袭 06-12–06-13"

    deliver_notifications(now=MARCH_1)
    for username, region in admins:
        inbox = sink.to(f"person/{username}")
        requests = [m for m in inbox if "月度活动" in m.title]
        invitations = [m for m in inbox if m.title.startswith("邀请函")]
        assert len(requests) == 1, username
        assert len(invitations) == (0 if region == "beijing" else 1), username
    [request] = [m for m in sink.to("person/admin.ch001") if "月度活动" in m.title]
    assert "- 2027-04：主题「踏青游·开春探路」，2027-03-25 前提报" in request.body

    # A re-run (after a crash, or by hand) adds nothing and sends nothing.
    ics_before = (tmp_path / "clubflow-2027Q2.ics").read_bytes()
    before = (count(ClubSlot), count(Notification), len(sink.messages))
    again = plan_quarter(quarter="2027Q2", now=MARCH_1 + timedelta(hours=2), ics_dir=str(tmp_path))
    deliver_notifications(now=MARCH_1 + timedelta(hours=2))
    assert again["slots_added"] == 0 and again["notifications_queued"] == 0
    assert (count(ClubSlot), count(Notification), len(sink.messages)) == before
    assert (tmp_path / "clubflow-2027Q2.ics").read_bytes() == ics_before


def test_an_override_by_hand_is_recorded_and_cannot_be_changed_later(
    quarter_runner, db_url, tmp_path
):
    draft_quarter(
        quarter_runner,
        quarter="2027Q3",
        override_host="chengdu",
        override_reason="成都车展联动",
        requested_by="hq.manager",
        now=MARCH_1,
        ics_dir=tmp_path,
    )
    with session_scope(db_url) as session:
        row = session.execute(select(RotationHosting)).scalar_one()
    assert (row.region_code, row.month) == ("chengdu", 9)
    assert (row.override, row.reason, row.decided_by) == (True, "成都车展联动", "hq.manager")

    with pytest.raises(PlanningError, match="already planned with host chengdu"):
        plan_quarter(
            quarter="2027Q3",
            override_host="guangzhou",
            override_reason="改",
            now=MARCH_1,
            ics_dir=str(tmp_path),
        )
    with pytest.raises(PlanningError, match="already runs to 2027Q3; plan quarters in order"):
        plan_quarter(quarter="2027Q2", now=MARCH_1, ics_dir=str(tmp_path))


def test_late_clubs_are_reminded_once_and_submitted_plans_become_proposals(
    quarter_runner, sink, db_url, tmp_path
):
    plan_confirmed(quarter_runner, quarter="2027Q2", now=MARCH_1, ics_dir=tmp_path)
    deliver_notifications(now=MARCH_1)
    sink.clear()

    april = MonthlyPlan(
        title="龙泉山 踏青自驾",
        activity_class="D",
        starts_on=date(2027, 4, 10),
        ends_on=date(2027, 4, 10),
        place="龙泉山",
        expected_participants=25,
    )
    with session_scope(db_url) as session:
        submit_monthly_plan(
            session=session,
            club_code="C-CH001",
            plan=april,
            submitted_by="admin.ch001",
            now=MARCH_1,
        )
    with session_scope(db_url) as session, pytest.raises(SubmissionError, match="already"):
        submit_monthly_plan(
            session=session,
            club_code="C-CH001",
            plan=april,
            submitted_by="admin.ch001",
            now=MARCH_1,
        )
    with session_scope(db_url) as session, pytest.raises(SubmissionError, match="not its club"):
        submit_monthly_plan(
            session=session,
            club_code="C-CH002",
            plan=april,
            submitted_by="admin.ch001",
            now=MARCH_1,
        )

    # The day before the April plans are due: nobody is reminded.
    assert remind_monthly_plans(now=datetime(2027, 3, 24, 10, tzinfo=SHANGHAI)) == {"reminders": 0}
    due_day = datetime(2027, 3, 25, 10, tzinfo=SHANGHAI)
    assert remind_monthly_plans(now=due_day) == {"reminders": 13}
    assert remind_monthly_plans(now=due_day + timedelta(days=1)) == {"reminders": 0}
    deliver_notifications(now=due_day)
    reminded = {m.path.rsplit("/", 1)[1] for m in sink.messages}
    assert len(sink.messages) == 13 and "admin.ch001" not in reminded
    assert (
        sink.to("person/admin.ch002")[0].title
        == "提醒：成都卫·重庆车友会 2027-04 月度活动计划今日截止"
    )
    # The reminder links to the plan form of that month in the portal.
    assert "处理：http" in sink.to("person/admin.ch002")[0].body
    assert "/go/" in sink.to("person/admin.ch002")[0].body

    with session_scope(db_url) as session:
        [(submission_id, payload)] = list_submitted_plans(session=session, quarter="2027Q2")
    assert payload["club"] == "C-CH001" and payload["region"] == "chengdu"
    assert payload["theme"] == "踏青游·开春探路"  # the slot's theme when none is given
    activities = pytest.importorskip("domain.activities")
    assert activities.ActivityProposal.model_validate(payload).activity_class == "D"
    with session_scope(db_url) as session:
        crossing = crossing_proposal_for(session=session, quarter="2027Q2", proposed_by="x")
    assert activities.ActivityProposal.model_validate(crossing).club == "C-BE001"
    assert (crossing["activity_class"], len(crossing["invited_regions"])) == ("B", 6)
    with session_scope(db_url) as session:
        assert mark_plan_proposed(session=session, submission_id=submission_id, activity_code="A-1")
        assert not mark_plan_proposed(
            session=session, submission_id=submission_id, activity_code="A-1"
        )
        assert list_submitted_plans(session=session) == []
