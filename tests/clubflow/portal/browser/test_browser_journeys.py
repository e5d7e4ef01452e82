"""The portal's journeys in Chromium, as the people who take them: a club admin proposes and
the region's specialist approves in a second session; three members check in on their
phones; the club admin files the recap and the claim with a file and sees the points arrive;
a dealer accepts a lead from the link in their message."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from browser_support import DESKTOP, PAGE_TIMEOUT_MS, PHONE, browser_sign_in, off_thread
from gate_runner import GateRunner
from portal_client import Clock, Portal
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from clubflow.portal.app import create_app
from domain.models import (
    Activity,
    ActivityClass,
    Club,
    Lead,
    Member,
    PointsEntry,
    Registration,
    SubsidyClaim,
)
from domain.models_leads import LeadHandoff

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def _runner(prefect_server) -> GateRunner:
    return GateRunner(["activity-lifecycle", "activity-claim"])


@pytest.fixture
def runner(_runner, channels) -> GateRunner:
    _runner.reset()
    return _runner


@pytest.fixture
def portal(channels, db_url, sink, settings_env, tmp_path):
    """The portal with its evidence and reports in this test's folder; many sign-ins come from
    the one loopback address, so the per-address limit is raised."""
    from tasks.outbox import deliver_due

    settings_env(
        evidence_dir=tmp_path / "evidence",
        reports_dir=tmp_path / "reports",
        portal_signin_limit=100,
    )
    settings = get_settings()
    clock = Clock()

    def deliver() -> None:
        deliver_due(url=db_url, channels=channels, now=clock(), settings=settings)

    return Portal(
        app=create_app(settings=settings, now=clock, deliver=deliver), clock=clock, sink=sink
    )


def _context(chromium, served, size):
    context = chromium.new_context(base_url=served.base_url, locale="zh-CN", **size)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context, context.new_page()


def test_a_club_admin_proposes_and_the_specialist_approves_in_a_second_session(
    portal, runner, db_url, chromium, served
):
    admin_context, admin = _context(chromium, served, DESKTOP)
    browser_sign_in(admin, served.base_url, served.sink, "admin.ch001", "person/admin.ch001")
    admin.goto("/activities/new")
    admin.fill("[name=title]", "雨林穿越 冬季站")
    admin.select_option("[name=activity_class]", "C")
    admin.fill("[name=starts_on]", "2026-12-20")
    admin.fill("[name=ends_on]", "2026-12-20")
    admin.fill("[name=place]", "四川雅安")
    admin.fill("[name=expected_participants]", "30")
    admin.fill("[name=item-1]", "场地费")
    admin.fill("[name=amount-1]", "1500")
    admin.fill("[name=item-2]", "保险")
    admin.fill("[name=amount-2]", "300")
    admin.fill("[name=subsidy_requested]", "4500")
    admin.fill(
        "[name=safety_plan]", "https://docs.example/safety/CH001-20261220（火灾、地震、暴雨、断电）"
    )
    admin.fill("[name=support_vehicle]", "川A·救援01")
    admin.get_by_role("button", name="的身份提报").click()
    admin.wait_for_load_state()
    assert "C-CH001-20261220" in admin.content()

    [run] = off_thread(runner.run_pending)
    assert run.state.name == "Suspended"  # at the specialist's review

    specialist_context, specialist = _context(chromium, served, PHONE)
    browser_sign_in(
        specialist, served.base_url, served.sink, "specialist.chengdu", "person/specialist.chengdu"
    )
    specialist.get_by_text("雨林穿越 冬季站").first.click()  # from my tasks to the gate page
    specialist.wait_for_load_state()
    page = specialist.content()
    assert "场地费" in page and "¥1,500.00" in page and "¥1,800.00" in page  # lines and total
    assert "¥4,500.00" in page  # the subsidy requested
    specialist.get_by_label("通过").check()
    specialist.fill("#comment", "路线可行")
    specialist.get_by_role("button", name="的身份提交").click()
    assert "已提交：approve" in specialist.locator(".notice").inner_text()

    [ended] = off_thread(runner.run_pending)
    assert ended.id == run.id and ended.state.name == "Completed"
    with session_scope(db_url) as session:
        activity = session.execute(
            select(Activity).where(Activity.code == "C-CH001-20261220")
        ).scalar_one()
        assert (activity.status, activity.proposed_by) == ("approved", "admin.ch001")
        assert activity.budget == [
            {"item": "场地费", "amount": 1500.0},
            {"item": "保险", "amount": 300.0},
        ]
    admin.goto("/activities/C-CH001-20261220")
    assert "approved" in admin.content() or "已通过" in admin.content()
    admin_context.close()
    specialist_context.close()


@pytest.fixture
def running_today(world, db_url) -> str:
    """An announced class C activity of C-CH001 on the world's day (2026-12-01)."""
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(
                code="C-CH001-20261201",
                title="雨林穿越 冬季站",
                klass=ActivityClass.C,
                region_code=club.region_code,
                club_id=club.id,
                starts_on=date(2026, 12, 1),
                ends_on=date(2026, 12, 1),
                place="四川雅安",
                status="announced",
                proposed_by="admin.ch001",
            )
        )
    return "C-CH001-20261201"


def test_three_members_check_in_on_their_phones_by_scanning_the_poster(
    portal, running_today, db_url, chromium, served
):
    admin_context, admin = _context(chromium, served, DESKTOP)
    browser_sign_in(admin, served.base_url, served.sink, "admin.ch001", "person/admin.ch001")
    admin.goto(f"/activities/{running_today}/qr")
    assert admin.locator("svg").count() >= 1
    poster = re.search(rf"https?://\S+?(/checkin/{running_today}/[\w.\-]+)", admin.content())
    scan_path = poster.group(1)
    admin_context.close()

    with session_scope(db_url) as session:
        phones = session.execute(
            select(Member.member_no, Member.phone)
            .join(Club, Club.id == Member.club_id)
            .where(Club.code == "C-CH001")
            .order_by(Member.member_no)
            .limit(3)
        ).all()
    for _no, phone in phones:
        context, member = _context(chromium, served, PHONE)
        member.goto(scan_path)  # what the camera opens: sign-in first
        assert urlsplit(member.url).path == "/login"
        national = phone.removeprefix("+86")
        browser_sign_in(
            member, served.base_url, served.sink, national, f"sms/{national}", next_path=scan_path
        )
        assert urlsplit(member.url).path == scan_path, member.content()[-1500:]
        member.get_by_role("button", name="签到").click()
        member.wait_for_load_state()
        assert "已签到" in member.content()
        width = member.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["viewport"]["width"]  # nothing to scroll sideways on a phone
        context.close()

    with session_scope(db_url) as session:
        rows = session.execute(
            select(Member.member_no, Registration.source, Registration.checked_in_at)
            .join(Registration, Registration.member_id == Member.id)
            .join(Activity, Activity.id == Registration.activity_id)
            .where(Activity.code == running_today)
        ).all()
    assert sorted((no, source, at is not None) for no, source, at in rows) == [
        (no, "qr", True) for no, _ in phones
    ]


def _approved_with_participants(db_url) -> str:
    """A class C activity of C-CH001 on 2026-10-11, approved, 30 members checked in."""
    from domain.activities import ActivityProposal, CheckinRow
    from tasks.activities.checkin import check_in
    from tasks.activities.store import approve_activity, register_proposal

    settings = get_settings()
    proposal = ActivityProposal(
        title="雨林穿越 秋季站",
        activity_class="C",
        region="chengdu",
        club="C-CH001",
        starts_on=date(2026, 10, 11),
        ends_on=date(2026, 10, 11),
        place="四川雅安",
        expected_participants=30,
        budget=[{"item": "场地费", "amount": 1500}],
        proposed_by="admin.ch001",
    )
    with session_scope(db_url) as session:
        activity = register_proposal(
            session=session, proposal=proposal, now=at(date(2026, 9, 21)), settings=settings
        )
        code = activity.code
        approve_activity(session=session, code=code, now=at(date(2026, 9, 22)), settings=settings)
    rows = [CheckinRow(member_no=f"M{n:06d}", organiser=n == 1) for n in range(1, 31)]
    with session_scope(db_url) as session:
        check_in(session=session, code=code, rows=rows, now=at(date(2026, 10, 11), 9))
    return code


def test_the_club_admin_files_recap_and_claim_with_a_file_and_sees_the_points_arrive(
    portal, runner, db_url, chromium, served, tmp_path
):
    from flows.sweep import sweep
    from tasks.gates.decisions import decide

    code = _approved_with_participants(db_url)
    portal.clock.now = at(date(2026, 10, 12))
    context, admin = _context(chromium, served, PHONE)
    browser_sign_in(admin, served.base_url, served.sink, "admin.ch001", "person/admin.ch001")
    admin.get_by_text("总结").first.click()  # the recap is on my tasks
    assert urlsplit(admin.url).path == f"/activities/{code}/recap"
    admin.fill("[name=photo-1]", "https://example.org/album/1")
    admin.fill("[name=video-1]", "https://example.org/v/9")
    admin.fill("[name=media_posts]", "3")
    admin.fill("[name=media_reads]", "12000")
    admin.fill("[name=feedback_score]", "4.6")
    admin.get_by_role("button", name="提交总结").click()
    admin.wait_for_load_state()  # the click starts the navigation; content() needs it loaded
    assert "活动总结已提交" in admin.content()

    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(PDF)
    admin.goto(f"/activities/{code}/claim")
    admin.select_option("[name=category-1]", "venue")
    admin.fill("[name=amount-1]", "1500")
    admin.fill("[name=note-1]", "营地场地费")
    admin.set_input_files("[name=evidence-1]", str(receipt))
    admin.get_by_role("button", name="提交补贴申报").click()
    admin.wait_for_load_state()  # the click starts the navigation; content() needs it loaded
    assert "补贴申报已提交" in admin.content()

    [run] = off_thread(runner.run_pending)
    assert run.state.name == "Suspended"  # the specialist decides the claim
    off_thread(
        decide,
        f"claim:{code}",
        "claim_approval",
        decider="specialist.chengdu",
        outcome="approve",
        now=at(date(2026, 10, 13)),
    )
    [ended] = off_thread(runner.run_pending)
    assert ended.state.name == "Completed"

    off_thread(sweep, now=at(date(2026, 10, 23), 9))  # the points day: 10 working days on
    portal.clock.now = at(date(2026, 10, 23), 10)  # eleven days later: signs in again
    browser_sign_in(
        admin,
        served.base_url,
        served.sink,
        "admin.ch001",
        "person/admin.ch001",
        next_path=f"/activities/{code}",
    )
    page = admin.content()
    assert "30 人 · 共 3100 分" in page  # 29 × 100 + the organiser's 200
    assert "发票.pdf" in page
    with session_scope(db_url) as session:
        claim = session.execute(select(SubsidyClaim)).scalar_one()
        assert (claim.status, claim.total_approved) == ("decided", 1500)
        points = session.execute(select(PointsEntry.amount)).scalars().all()
    assert sum(points) == 3100
    context.close()


def _handed_to_ch001(db_url, now: datetime) -> int:
    """A 成都 lead the customer is interested in, handed to dealer CH001 with its message."""
    from domain.calendar import business_date
    from domain.leads_csv import OutcomeRow
    from domain.models import Person
    from tasks.leads.handoff import hand_off_valid_leads
    from tasks.leads.outcomes import apply_outcome_rows

    with session_scope(db_url) as session:
        agent = session.execute(select(Person.id).where(Person.username == "agent1")).scalar()
        lead = Lead(
            phone="+8613812345678",
            name="王伟",
            model="越野SUV",
            city="成都",
            region_code="chengdu",
            source="汽车之家",
            sources=["汽车之家"],
            arrived_at=now - timedelta(hours=2),
            business_day=business_date(now),
            agent_id=agent,
            assigned_at=now - timedelta(hours=2),
            call_day=business_date(now),
            next_call_due=business_date(now),
        )
        session.add(lead)
        session.flush()
        lead_id = lead.id
    row = OutcomeRow(1, lead_id, 1, "有意购车", now - timedelta(minutes=30), "agent1", None)
    with session_scope(db_url) as session:
        apply_outcome_rows(session=session, rows=[row], now=now, source="test")
        hand_off_valid_leads(session=session, now=now, settings=get_settings())
    return lead_id


def test_a_dealer_accepts_a_lead_from_the_link_in_their_message(portal, db_url, chromium, served):
    lead_id = _handed_to_ch001(db_url, portal.clock())
    portal.app.state.portal.deliver()  # the minute's delivery run
    message = served.sink.to("dealer/CH001")[-1]
    link = re.search(r"处理：(\S+)", message.body).group(1)

    context, dealer = _context(chromium, served, PHONE)
    dealer.goto(urlsplit(link).path)  # the link points at the portal; tapped on the phone
    assert urlsplit(dealer.url).path == "/login"
    browser_sign_in(
        dealer,
        served.base_url,
        served.sink,
        "dealer.ch001",
        "person/dealer.ch001",
        next_path=f"/leads/{lead_id}",
    )
    assert urlsplit(dealer.url).path == f"/leads/{lead_id}"
    page = dealer.content()
    assert "+86138****5678" in page and "13812345678" not in page
    dealer.get_by_role("button", name="接收此线索").click()
    # The answer page comes after a redirect: wait for it, however busy the machine is.
    dealer.get_by_text("已确认接收此线索").wait_for(timeout=PAGE_TIMEOUT_MS)
    with session_scope(db_url) as session:
        handoff = session.execute(
            select(LeadHandoff).where(LeadHandoff.lead_id == lead_id)
        ).scalar_one()
        assert (handoff.accepted_by, handoff.accepted_at) == ("CH001", portal.clock())
    context.close()
