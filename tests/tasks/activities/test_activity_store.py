"""The activity store on SQLite and PostgreSQL: proposals, approval outcomes, check-in,
recap, claims and points, as data functions (no Prefect)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from clock import WORLD_NOW
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import Settings
from clubflow.world import WorldSize, seed_demo_world
from domain.activities import ActivityProposal, CheckinRow, ProposalRefused, RecapInput
from domain.models import Member, Person, PointsEntry, Registration
from domain.subsidy import LineDecision
from tasks.activities.checkin import CheckinError, check_in, parse_checkin_csv
from tasks.activities.claims import (
    ClaimInput,
    ClaimRefused,
    decide_claim,
    file_claim,
    mark_paid,
)
from tasks.activities.hooks import claims_to_pay
from tasks.activities.points import issue_points
from tasks.activities.recap import file_recap
from tasks.activities.store import (
    ActivityError,
    approve_activity,
    get_activity,
    record_review_outcome,
    register_proposal,
)
from tasks.outbox import queue_notifications

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(_env_file=None)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _proposal(**overrides) -> ActivityProposal:
    values = {
        "title": "雨林穿越 秋季站",
        "activity_class": "C",
        "region": "chengdu",
        "club": "C-CH001",
        "starts_on": date(2026, 10, 11),
        "ends_on": date(2026, 10, 11),
        "proposed_by": "admin.ch001",
    }
    return ActivityProposal(**{**values, **overrides})


@pytest.fixture
def store(any_db_url) -> str:
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=40, leads=0), now=WORLD_NOW
        )
    return any_db_url


def _approved(url: str, *, on: date = date(2026, 9, 21), **overrides) -> str:
    with session_scope(url) as session:
        activity = register_proposal(
            session=session, proposal=_proposal(**overrides), now=at(on), settings=SETTINGS
        )
        _, _, requests = approve_activity(
            session=session, code=activity.code, now=at(on), settings=SETTINGS
        )
        queue_notifications(session=session, requests=requests, now=at(on), settings=SETTINGS)
    return activity.code


def test_a_proposal_is_stored_once_and_a_different_one_for_the_same_day_is_refused(store):
    with session_scope(store) as session:
        first = register_proposal(
            session=session, proposal=_proposal(), now=at(date(2026, 9, 21)), settings=SETTINGS
        )
        again = register_proposal(
            session=session, proposal=_proposal(), now=at(date(2026, 9, 22)), settings=SETTINGS
        )
        assert (again.id, again.code) == (first.id, "C-CH001-20261011")
        with pytest.raises(ProposalRefused, match="already proposed C-CH001-20261011"):
            register_proposal(
                session=session,
                proposal=_proposal(place="另一地点"),
                now=at(date(2026, 9, 21)),
                settings=SETTINGS,
            )
        with pytest.raises(ProposalRefused, match="already has C-CH001-20261011"):
            register_proposal(
                session=session,
                proposal=_proposal(starts_on=date(2026, 10, 10)),
                now=at(date(2026, 9, 21)),
                settings=SETTINGS,
            )


def test_only_the_clubs_admin_proposes_for_it(store):
    with session_scope(store) as session, pytest.raises(ProposalRefused) as refused:
        register_proposal(
            session=session,
            proposal=_proposal(proposed_by="admin.ch002"),
            now=at(date(2026, 9, 21)),
            settings=SETTINGS,
        )
    assert (
        str(refused.value)
        == "proposal refused: proposed_by: admin.ch002 is not an admin of club C-CH001"
    )


def test_a_proposal_sent_back_comes_again_for_a_second_review_round(store):
    with session_scope(store) as session:
        register_proposal(
            session=session, proposal=_proposal(), now=at(date(2026, 9, 21)), settings=SETTINGS
        )
        _, requests = record_review_outcome(
            session=session,
            code="C-CH001-20261011",
            step_key="specialist_review",
            outcome="revise",
            decider="specialist.chengdu",
            comment="补充安全预案",
        )
        queue_notifications(
            session=session, requests=requests, now=at(date(2026, 9, 21)), settings=SETTINGS
        )
        assert "补充安全预案" in requests[0].context["comment"]
        revised = register_proposal(
            session=session,
            proposal=_proposal(place="雅安 碧峰峡（含安全预案）"),
            now=at(date(2026, 9, 23)),
            settings=SETTINGS,
        )
    assert (revised.status, revised.review_round) == ("proposed", 2)


@pytest.mark.parametrize(
    ("approved_on", "status", "templates"),
    [
        (date(2026, 9, 21), "approved", ["activity_approved"]),
        (date(2026, 10, 6), "announced", ["activity_approved", "activity_warmup"]),
        (
            date(2026, 10, 10),
            "announced",
            ["activity_approved", "activity_late_warning", "activity_warmup"],
        ),
        (date(2026, 10, 12), "cancelled", ["activity_cancelled"]),
    ],
)
def test_approval_day_decides_the_warm_up(store, approved_on, status, templates):
    with session_scope(store) as session:
        register_proposal(
            session=session,
            proposal=_proposal(late=True),
            now=at(date(2026, 9, 21)),
            settings=SETTINGS,
        )
        activity, _, requests = approve_activity(
            session=session, code="C-CH001-20261011", now=at(approved_on), settings=SETTINGS
        )
        queue_notifications(
            session=session, requests=requests, now=at(approved_on), settings=SETTINGS
        )
        club_members = session.execute(
            select(func.count()).select_from(Member).where(Member.club_id == activity.club_id)
        ).scalar_one()
    assert activity.status == status
    assert sorted(set(r.template for r in requests)) == templates
    if "activity_warmup" in templates:
        assert sum(r.template == "activity_warmup" for r in requests) == club_members
    if status == "cancelled":
        assert activity.cancelled_reason == "approved on 2026-10-12, after the start 2026-10-11"


def test_a_b_warm_up_also_reaches_the_invited_regions_clubs(store):
    with session_scope(store) as session:
        register_proposal(
            session=session,
            proposal=_proposal(activity_class="B", invited_regions=["lanzhou", "beijing"]),
            now=at(date(2026, 9, 21)),
            settings=SETTINGS,
        )
        _, _, requests = approve_activity(
            session=session, code="C-CH001-20261011", now=at(date(2026, 10, 5)), settings=SETTINGS
        )
    invited = sorted(
        r.recipient
        for r in requests
        if r.template == "activity_warmup" and r.recipient.startswith("person:")
    )
    assert invited == [
        "person:admin.be001",
        "person:admin.be002",
        "person:admin.la001",
        "person:admin.la002",
    ]


def test_check_in_registers_counts_twice_once_and_names_a_bad_row(store):
    code = _approved(store)
    csv_text = (
        "member_no,phone,checked_in_at,organiser\n"
        "M000001,,2026-10-11T08:00:00,是\n"
        ",+86 139 0000 0002,2026-10-11T08:01:00,\n"
        "M000001,,2026-10-11T09:00:00,\n"
    )
    rows = parse_checkin_csv(csv_text)
    with session_scope(store) as session:
        with pytest.raises(ActivityError, match="check-in opens then"):
            check_in(session=session, code=code, rows=rows, now=at(date(2026, 10, 10)))
        report = check_in(session=session, code=code, rows=rows, now=at(date(2026, 10, 11), 18))
        again = check_in(session=session, code=code, rows=rows, now=at(date(2026, 10, 11), 19))
        with pytest.raises(CheckinError, match="row 3: phone 139\\*\\*\\*\\*9999 is not a member"):
            check_in(
                session=session,
                code=code,
                rows=parse_checkin_csv("member_no,phone\nM000003,\n,13900009999\n"),
                now=at(date(2026, 10, 11), 19),
            )
        first = session.execute(
            select(Registration.checked_in_at, Registration.is_organiser)
            .join(Member, Member.id == Registration.member_id)
            .where(Member.member_no == "M000001")
        ).one()
    assert (report.participants, report.newly_registered, report.newly_checked_in) == (2, 2, 2)
    assert (again.participants, again.newly_checked_in, again.already_checked_in) == (2, 0, 2)
    assert first == (at(date(2026, 10, 11), 8), True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name\n张三\n", "needs a member_no or phone column"),
        ("member_no,checked_in_at\nM1,yesterday\n", "row 2: checked_in_at 'yesterday'"),
        ("member_no,phone\nM1,\n,\n", "row 3: member_no and phone are both empty"),
    ],
)
def test_a_bad_check_in_file_names_the_row_and_field(text, message):
    with pytest.raises(CheckinError, match=message):
        parse_checkin_csv(text)


def test_claim_needs_the_recap_then_is_decided_paid_once_and_points_once(store):
    code = _approved(store)
    policy = SETTINGS.subsidy_policy
    claim = ClaimInput(
        submitted_by="admin.ch001",
        lines=[
            {"category": "tshirts", "amount": 300, "evidence": ["发票 1"]},
            {"category": "race_registration", "amount": 500, "evidence": ["发票 2"]},
        ],
    )
    with session_scope(store) as session:
        check_in(
            session=session,
            code=code,
            rows=[CheckinRow(member_no=f"M{n:06d}", organiser=n == 1) for n in range(1, 5)],
            now=at(date(2026, 10, 11), 18),
        )
        with pytest.raises(ClaimRefused, match="no recap filed"):
            file_claim(
                session=session, code=code, claim=claim, now=at(date(2026, 10, 12)), policy=policy
            )
        file_recap(
            session=session,
            code=code,
            recap=RecapInput(filed_by="admin.ch001"),
            now=at(date(2026, 10, 12)),
        )
        filed = file_claim(
            session=session, code=code, claim=claim, now=at(date(2026, 10, 12)), policy=policy
        )
        # 4 participants × 60 = 240 for T-shirts; race registration is not for class C.
        assert [(x.proposed_action, x.proposed_amount) for x in filed.lines] == [
            ("reduce", 240),
            ("reject", 0),
        ]
        with pytest.raises(ClaimRefused, match="line 2: cannot be approved"):
            decide_claim(
                session=session,
                code=code,
                decider="specialist.chengdu",
                outcome="approve",
                decisions=[LineDecision(2, 500, "特批")],
                comment="",
                now=at(date(2026, 10, 13)),
                policy=policy,
            )
        decided, requests = decide_claim(
            session=session,
            code=code,
            decider="specialist.chengdu",
            outcome="approve",
            decisions=[],
            comment="",
            now=at(date(2026, 10, 13)),
            policy=policy,
        )
        queue_notifications(
            session=session, requests=requests, now=at(date(2026, 10, 13)), settings=SETTINGS
        )
        finance = session.execute(select(Person).where(Person.username == "finance")).scalar_one()
        [to_pay] = claims_to_pay(session=session, person=finance, today=date(2026, 10, 14))
        assert to_pay.title == "补贴待支付 ¥240.00 · 雨林穿越 秋季站"
        paid_on = at(date(2026, 10, 14))
        with pytest.raises(ClaimRefused, match="only finance marks a claim paid"):
            mark_paid(
                session=session,
                code=code,
                paid_by="specialist.chengdu",
                payment_ref="x",
                now=paid_on,
            )
        paid, _ = mark_paid(
            session=session, code=code, paid_by="finance", payment_ref="P-1", now=paid_on
        )
        assert claims_to_pay(session=session, person=finance, today=date(2026, 10, 14)) == []
        activity = get_activity(session=session, code=code)
        points_day = at(date(2026, 10, 23))
        reports = [
            issue_points(session=session, activity=activity, now=points_day, settings=SETTINGS)
            for _ in range(2)
        ]
        ledger = session.execute(
            select(PointsEntry.reason, func.sum(PointsEntry.amount)).group_by(PointsEntry.reason)
        ).all()
    assert (decided.total_approved, paid.status, paid.payment_ref) == (240, "paid", "P-1")
    assert [r.rows_added for r in reports] == [4, 0]
    assert sorted(ledger) == [("activity", 300), ("organiser", 200)]
