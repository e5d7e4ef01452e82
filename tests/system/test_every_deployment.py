"""Every deployment of prefect.yaml runs once on the running stack, through the Prefect API,
with a typical input and a fixed business time; each ends Completed (or Suspended at its
first gate) with the rows and messages it should produce.

The class C activity of the Beijing club goes from its proposal (`clubflow activity propose`)
through its review (`clubflow decide`), registration, check-in, recap, claim and payment to its
points, issued by the hourly sweep on the activity's points day.

`leads-accept` needs a lead handed off to a dealer: the leads day (test_leads_day.py) runs it.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from system_support import BATCH_TIMEOUT, BEIJING_CODE, at, beijing_proposal, catalog_names

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings
from domain.models import Activity, Campaign, Gate, Member, PointsEntry, SubsidyClaim

NOW = "2026-06-01T10:00:00+08:00"  # a Monday, working day, outside quiet hours
EVERY_PLAN = {
    "code": "sys-every",
    "name": "系统测试 夏季试驾",
    "kind": "points_festival",
    "launch_date": "2026-07-20",  # 49 days after NOW
    "end_date": "2026-07-26",
    "regions": ["beijing"],
    "summary": "试驾送积分",
    "policy": "到店试驾送 300 积分",
    "budget": [{"item": "试驾礼品", "amount": 50000}],
    "kpis": [{"name": "线索量", "target": 800, "unit": "条"}],
    "started_by": "hq.manager",
}
NEW_MEMBER_PHONE = "13812345678"
POINTS_DAY = at("2026-07-06")  # ten working days after the activity's Sunday 2026-06-21
PROCESS_LIMIT = 3  # PREFECT_RUNNER_PROCESS_LIMIT of the stack (conftest)


def _count(url, model, *where) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _max_running_at_once(runs) -> int:
    """The most runs whose Running spans overlapped (start/end times the server recorded)."""
    edges = []
    for run in runs:
        if run.start_time and run.end_time:
            edges += [(run.start_time, 1), (run.end_time, -1)]
    most = current = 0
    for _, step in sorted(edges):
        current += step
        most = max(most, current)
    return most


def test_every_deployment_runs_once_on_the_stack(stack):
    started: dict[str, object] = {}

    def start(name, params):
        started[name] = stack.start(name, params)

    # The activity's proposal, as its club admin files it.
    proposal = stack.home / "proposal.json"
    proposal.write_text(json.dumps(beijing_proposal(), ensure_ascii=False), encoding="utf-8")
    known_lifecycles = {r.id for r in stack.runs_of("activity-lifecycle")}
    proposed = stack.cli("activity", "propose", str(proposal), "--now", NOW)
    assert proposed.returncode == 0, proposed.stdout + proposed.stderr
    assert f"activity {BEIJING_CODE}: lifecycle run" in proposed.stdout, proposed.stdout
    started["activity-lifecycle"] = stack.wait_for_run_of(
        "activity-lifecycle", known_lifecycles, until_settled=False
    ).id

    # A dealer registers a second-tier outlet: its qualification run waits at the first review.
    known_outlets = {r.id for r in stack.runs_of("outlet-qualification")}
    docs = [
        f"{kind}:NO{i}20260001:2030-12-31"
        for i, kind in enumerate(("business_licence", "tax_registration", "organisation_code"))
    ]
    registered = stack.cli(
        "outlets", "register", "--code", "O-BE001-SYS", "--name", "系统测试二网",
        "--city", "廊坊", *[a for d in docs for a in ("--doc", d)],
        "--as", "dealer.be001", "--now", NOW,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stdout + registered.stderr
    started["outlet-qualification"] = stack.wait_for_run_of(
        "outlet-qualification", known_outlets, until_settled=False
    ).id

    # -- 1. everything that needs nothing before it, at once (the serve process runs them)
    for name in (
        "deliver-notifications",
        "leads-intake",
        "leads-outcomes",
        "leads-sweep",
        "leads-deal-feed",
        "disputes-sweep",
        "complaints-sweep",
        "complaints-monthly",
        "leads-weekly-revisit",
        "gate-sweep",
        "remind-monthly-plans",
        "club-report",
        "club-rating",
        "dealer-monthly-return",
        "feedback-reminder",
        "members-activation-sweep",
        "members-birthdays",
        "members-referral-rewards",
        "members-points-expiry",
        "members-voucher-expiry",
        "members-segmentation",
        "members-tier-review",
        "members-points-digest",
        "members-points-budget",
        "members-transaction-feed",
        "members-monthly-offers",
        "outlets-documents",
    ):
        start(name, {"now": NOW})
    start("leads-daily-statistics", {"day": "2026-05-31"})
    start("best-crossing", {"year": 2025, "now": NOW})
    start("plan-quarter", {"quarter": "2026Q3", "requested_by": "hq.manager", "now": NOW})
    start("campaign-pipeline", {"plan": EVERY_PLAN, "now": NOW})
    # Housekeeping over Prefect's own runs: its clock is the server's (nothing is stranded).
    start("recover-runs", {})
    start("prune-housekeeping-runs", {})
    start(
        "register-members",
        {
            "registrations": [
                {"name": "系统测试", "phone": NEW_MEMBER_PHONE, "club_code": "C-BE001"}
            ],
            "now": NOW,
        },
    )
    start(
        "record-member-interactions",
        {
            "interactions": [
                {
                    "member_no": "M000002",
                    "kind": "service",
                    "ref": "WO-SYS-1",
                    "occurred_at": NOW,
                }
            ],
            "now": NOW,
        },
    )
    runs = dict(
        zip(started, stack.wait(list(started.values()), timeout=BATCH_TIMEOUT), strict=True)
    )
    states = {name: run.state_name for name, run in runs.items()}
    suspended = {"campaign-pipeline", "activity-lifecycle", "plan-quarter", "outlet-qualification"}
    assert {n: s for n, s in states.items() if n not in suspended} == {
        n: "Completed" for n in states if n not in suspended
    }
    assert states["campaign-pipeline"] == "Suspended"
    assert runs["campaign-pipeline"].name == "campaign 系统测试 夏季试驾 · plan_review"
    assert states["activity-lifecycle"] == "Suspended"
    assert states["plan-quarter"] == "Suspended"  # the draft waits for HQ's confirmation

    url = stack.database_url
    with session_scope(url) as session:
        campaign = session.execute(
            select(Campaign).where(Campaign.code == "sys-every")
        ).scalar_one()
        assert campaign.status not in ("rejected", "reported")
        open_gates = {
            (g.subject_code, g.key)
            for g in session.execute(select(Gate).where(Gate.status == "open")).scalars()
        }
        new_member = session.execute(
            select(Member).where(Member.phone == "+86" + NEW_MEMBER_PHONE)
        ).scalar_one()
    assert ("sys-every", "plan_review") in open_gates
    assert (BEIJING_CODE, "specialist_review") in open_gates
    assert ("2026Q3", "quarter_confirm") in open_gates

    # propose-monthly-plans reads the quarter the plan-quarter run just made
    [proposals] = stack.wait([stack.start("propose-monthly-plans", {"quarter": "2026Q3"})])
    assert proposals.state_name == "Completed", proposals.state

    # -- 2. what follows a decision or a registration
    review = stack.cli(
        "decide", f"activity:{BEIJING_CODE}", "specialist_review", "approve",
        "--as", "specialist.beijing", "--now", NOW,
    )  # fmt: skip
    assert review.returncode == 0, review.stdout + review.stderr
    lifecycle = stack.wait_resumed(
        runs["activity-lifecycle"].id, runs["activity-lifecycle"].state.id
    )
    assert lifecycle.state_name == "Completed", lifecycle.state
    activate = stack.start(
        "activate-member",
        {"member_no": new_member.member_no, "dealer_code": "BE001", "now": NOW},
    )
    registration = stack.start(
        "activity-registration",
        {"code": BEIJING_CODE, "member_nos": ["M000001", "M000008"], "now": at("2026-06-10")},
    )
    activated, registered = stack.wait([activate, registration])
    assert (activated.state_name, registered.state_name) == ("Completed", "Completed")
    checkin = stack.run(
        "activity-checkin",
        {
            "code": BEIJING_CODE,
            "rows": [
                {"member_no": "M000001", "organiser": True},
                {"member_no": "M000008"},
                {"member_no": "M000015"},
            ],
            "by": "admin.be001",
            "now": at("2026-06-21", 17),
        },
    )
    assert checkin.state_name == "Completed", checkin.state
    recap = stack.run(
        "activity-recap",
        {"code": BEIJING_CODE, "recap": {"filed_by": "admin.be001"}, "now": at("2026-06-22")},
    )
    assert recap.state_name == "Completed", recap.state
    assert (stack.data / "reports" / f"activity-{BEIJING_CODE}-recap.html").exists()
    claim = stack.run(
        "activity-claim",
        {
            "code": BEIJING_CODE,
            "claim": {
                "submitted_by": "admin.be001",
                "lines": [{"category": "venue", "amount": 900, "evidence": ["收据 BJ-1"]}],
            },
            "now": at("2026-06-23"),
        },
    )
    assert claim.state_name == "Suspended", claim.state
    decided = stack.cli(
        "activity", "decide-claim", BEIJING_CODE, "approve", "--as", "specialist.beijing",
        "--now", at("2026-06-23", 15),
    )  # fmt: skip
    assert decided.returncode == 0, decided.stdout + decided.stderr
    claim = stack.wait_resumed(claim.id, claim.state.id)
    assert claim.state_name == "Completed", claim.state
    payment = stack.run(
        "activity-payment",
        {
            "code": BEIJING_CODE,
            "paid_by": "finance",
            "payment_ref": "SYS-PAY-1",
            "now": at("2026-06-24"),
        },
    )
    assert payment.state_name == "Completed", payment.state
    points_day = stack.run("gate-sweep", {"now": POINTS_DAY})
    assert points_day.state_name == "Completed", points_day.state
    stack.deliver(at("2026-07-06", 11))

    with session_scope(url) as session:
        activity = session.execute(
            select(Activity).where(Activity.code == BEIJING_CODE)
        ).scalar_one()
        claim_row = session.execute(select(SubsidyClaim)).scalars().all()
        member = session.get(Member, new_member.id)
        points = {
            member_no: amount
            for member_no, amount in session.execute(
                select(Member.member_no, PointsEntry.amount)
                .join(PointsEntry, PointsEntry.member_id == Member.id)
                .where(PointsEntry.activity_id == activity.id)
            )
        }
    assert activity.status in ("approved", "held", "recapped", "closed"), activity.status
    assert [c.status for c in claim_row] == ["paid"]
    assert member.status == "active"
    settings = Settings()
    base = settings.points_by_class["C"]
    assert points == {
        "M000001": base + settings.organiser_points_bonus,  # the organiser
        "M000008": base,
        "M000015": base,  # checked in without registering: registered on the spot
    }
    assert activity.points_issued_at is not None

    # The people concerned heard about it in the inbox.
    review_requests = stack.messages_to("role/regional_specialist/beijing")
    assert any("坝上穿越" in m["title"] for m in review_requests), [
        m["title"] for m in review_requests
    ]
    assert stack.messages_to("person/admin.be001"), "the club admin heard nothing"
    # The inbox journals the SMS address masked, like every phone (activation code, welcome).
    masked = NEW_MEMBER_PHONE[:3] + "****" + NEW_MEMBER_PHONE[-4:]
    assert len(stack.messages_to(f"sms/{masked}")) == 2, "the new member got no SMS"

    # Every deployment of prefect.yaml except leads-accept (see the docstring) ran here.
    ran = {d for d in catalog_names() if stack.runs_of(d)}
    assert set(catalog_names()) - ran == {"leads-accept"}
    # The serve process kept to its process limit (it once started every due run at once).
    assert _max_running_at_once(runs.values()) <= PROCESS_LIMIT
