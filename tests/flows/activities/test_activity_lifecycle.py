"""The issue's end-to-end run: a class C activity from proposal to archive, as its users drive
it, with real Apprise deliveries to the loopback sink."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from support_activities import CODE, at, proposal

from clubflow.core.db import session_scope
from domain.activities import RecapInput
from domain.models import Activity, Decision, Member, Notification, PointsEntry, SubsidyLine
from domain.models_activities import ActivityArchive
from flows.activities.checkin import activity_checkin
from flows.activities.payment import activity_payment
from flows.activities.recap import activity_recap
from flows.notifications import deliver_notifications
from flows.sweep import sweep
from tasks.activities.checkin import parse_checkin_csv, register_members
from tasks.gates.decisions import decide

MEMBERS = [f"M{n:06d}" for n in range(1, 31)]


def _day(db_url, when) -> None:
    """One business day passes: the hourly sweep, then the outbox delivers."""
    sweep(now=when)
    deliver_notifications(now=when)


def _sent(sink, template_title: str) -> list:
    return [m for m in sink.messages if m.title.startswith(template_title)]


def _club_members(db_url) -> list[str]:
    with session_scope(db_url) as session:
        club_id = session.execute(
            select(Activity.club_id).where(Activity.code == CODE)
        ).scalar_one()
        return list(
            session.execute(select(Member.phone).where(Member.club_id == club_id)).scalars()
        )


def _checkin_csv() -> str:
    lines = ["member_no,checked_in_at,organiser"]
    lines.append(f"{MEMBERS[0]},2026-10-11T08:05:00,是")
    lines += [f"{no},2026-10-11T08:{10 + i % 40:02d}:00," for i, no in enumerate(MEMBERS[1:])]
    lines.append(f"{MEMBERS[4]},2026-10-11T09:30:00,")  # scanned twice: counts once
    return "\n".join(lines) + "\n"


CLAIM = {
    "submitted_by": "admin.ch001",
    "lines": [
        {"category": "tshirts", "amount": 2400, "evidence": ["发票 T-0091"]},  # over 60 × 30
        {"category": "insurance", "amount": 600, "evidence": []},  # no evidence
        {"category": "venue", "amount": 1500, "evidence": ["收据 V-7"], "description": "营地"},
    ],
}


def test_a_class_c_activity_from_proposal_to_archive(runner, db_url, sink, reports_dir):
    # 1. Proposal (3 weeks ahead) and the specialist's review.
    runner.start("activity-lifecycle", {"proposal": proposal(), "now": at(date(2026, 9, 21))})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=at(date(2026, 9, 21)),
    )
    [run] = runner.run_pending()
    assert run.state.name == "Completed"
    deliver_notifications(now=at(date(2026, 9, 21), 11))
    assert len(sink.to("role/regional_specialist/chengdu")) == 1  # asked to review, once
    [approved] = sink.to("person/admin.ch001")
    assert "预热通知：2026-10-08" in approved.body

    # 2. Warm-up: the window 10-04 … 10-08 is National Day until 10-07; it goes on 10-08.
    for day in (date(2026, 10, 4), date(2026, 10, 7)):
        _day(db_url, at(day, 9))
    assert _sent(sink, "活动预告") == []
    _day(db_url, at(date(2026, 10, 8), 9))
    warmups = _sent(sink, "活动预告")
    club_phones = _club_members(db_url)
    assert sorted(m.path for m in warmups) == sorted(f"/sms/{p[3:]}" for p in club_phones)
    assert "2026-10-11" in warmups[0].body

    # 3. Registration before the day, check-in of 30 members at the event.
    with session_scope(db_url) as session:
        registered = register_members(
            session=session, code=CODE, member_nos=MEMBERS[:5], now=at(date(2026, 10, 9))
        )
    assert registered == 5
    rows = parse_checkin_csv(_checkin_csv())
    report = activity_checkin(CODE, rows, "admin.ch001", now=at(date(2026, 10, 11), 18))
    assert report["participants"] == 30
    assert report["newly_registered"] == 25
    assert (
        activity_checkin(CODE, rows, "admin.ch001", now=at(date(2026, 10, 11), 19))[
            "newly_checked_in"
        ]
        == 0
    )

    # 4. Recap, rendered with the participants table and masked phones.
    path = Path(
        activity_recap(
            CODE,
            RecapInput(
                filed_by="admin.ch001",
                media_links=["https://example.org/album/1"],
                media_posts=3,
                media_reads=12000,
                feedback_score=4.6,
            ),
            now=at(date(2026, 10, 12)),
        )
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("<tr><td>") == 30
    assert "139****0001" in html and "13900000001" not in html

    # 5. The claim: the engine proposes, the specialist decides line by line.
    runner.start("activity-claim", {"code": CODE, "claim": CLAIM, "now": at(date(2026, 10, 13))})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    # Approving the line without evidence is refused: the gate asks again (round 2).
    decide(
        f"claim:{CODE}",
        "claim_approval",
        decider="specialist.chengdu",
        outcome="approve",
        extra={"lines": [{"line_no": 2, "amount": 600, "comment": "收据后补"}]},
        now=at(date(2026, 10, 13)),
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    decide(
        f"claim:{CODE}",
        "claim_approval",
        decider="specialist.chengdu",
        outcome="approve",
        extra={"lines": [{"line_no": 3, "amount": 1200, "comment": "营地按实际 1200"}]},
        now=at(date(2026, 10, 13)),
    )
    [run] = runner.run_pending()
    assert run.state.name == "Completed"
    with session_scope(db_url) as session:
        lines = session.execute(select(SubsidyLine).order_by(SubsidyLine.line_no)).scalars().all()
        assert [(x.proposed_action, x.proposed_amount, x.decided_amount) for x in lines] == [
            ("reduce", 1800, 1800),
            ("reject", 0, 0),
            ("approve", 1500, 1200),
        ]
    deliver_notifications(now=at(date(2026, 10, 13), 11))
    [table] = _sent(sink, "补贴审批结果")
    assert table.path == "/person/admin.ch001"
    assert "批准 ¥3,000.00" in table.title
    assert "2 | insurance | ¥600.00 | ¥0.00 | no evidence" in table.body
    assert len(sink.to("role/finance")) == 1

    # 6. Finance pays.
    assert activity_payment(CODE, "finance", "PAY-2026-1017", now=at(date(2026, 10, 16))) == 3000

    # 7. Points at end + 10 working days (10-23), once; ranks rise and members are told.
    _day(db_url, at(date(2026, 10, 22), 9))
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(PointsEntry)).scalar() == 0
    for hour in (9, 10, 11):  # the sweep runs hourly: points once, then the archive
        _day(db_url, at(date(2026, 10, 23), hour))
    with session_scope(db_url) as session:
        entries = session.execute(select(PointsEntry.reason, PointsEntry.amount)).all()
        ranks = Counter(
            session.execute(select(Member.rank).where(Member.member_no.in_(MEMBERS))).scalars()
        )
        archive = session.execute(select(ActivityArchive)).scalar_one()
        activity = session.execute(select(Activity).where(Activity.code == CODE)).scalar_one()
    assert Counter(entries) == {("activity", 100): 29, ("organiser", 200): 1}
    assert ranks == {"仁勇校尉": 29, "宣节校尉": 1}
    assert activity.status == "archived"
    assert len(archive.snapshot["participants"]) == 30
    # The audit shows the rules overruling the first claim answer, with the reason.
    assert [d["accepted"] for d in archive.snapshot["decisions"]] == [True, True, False, True]
    with session_scope(db_url) as session:
        overruled = session.execute(
            select(Decision).where(Decision.outcome == "overruled")
        ).scalar_one()
    assert overruled.decider == "clubflow:rules"
    assert "line 2: cannot be approved (no evidence" in overruled.refusal_reason
    assert archive.snapshot["claim"]["status"] == "paid"

    # Each notification once: every outbox row was delivered exactly once, and each business
    # event produced the expected number of messages.
    _day(db_url, at(date(2026, 10, 24), 9))  # another day: nothing new
    with session_scope(db_url) as session:
        rows = session.execute(select(Notification.recipient, Notification.template)).all()
    assert len(sink.messages) == len(rows)
    assert Counter(t for _, t in rows) == {
        "activity_review_request": 1,
        "activity_approved": 1,
        "activity_warmup": len(club_phones),
        "activity_claim_review": 2,  # round 1, and round 2 saying why the first was refused
        "activity_claim_decision": 1,
        "activity_claim_payable": 1,
        "activity_claim_paid": 1,
        "member_rank_up": 30,
        # A class C activity's handbook is due three weeks before it: never handed in here,
        # so the organiser is reminded and HQ told; preparation starts two weeks before.
        "quarter_materials_reminder": 1,
        "quarter_materials_escalation": 1,
        "quarter_preparation": 1,
        # The same daily sweep runs the operator's monthly competitor report: not submitted.
        "quarter_competitor_reminder": 1,
        "quarter_competitor_escalation": 1,
    }
    [refused] = [m for m in sink.to("role/regional_specialist/chengdu") if "第 2 轮" in m.body]
    assert "line 2: cannot be approved (no evidence" in refused.body
