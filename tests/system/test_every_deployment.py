"""Every deployment of prefect.yaml runs once on the running stack, through the Prefect API,
with a typical input and a fixed business time; each ends Completed (or Suspended at its
first gate) with the rows and messages it should produce.

`leads-accept` needs a lead handed off to a dealer: the leads day (test_leads_day.py) runs it.
"""

from __future__ import annotations

from sqlalchemy import func, select
from system_support import BEIJING_CODE, at, beijing_proposal, catalog_names

from clubflow.db import session_scope
from domain.models import Activity, Campaign, Gate, Member, SubsidyClaim

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


def _count(url, model, *where) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_every_deployment_runs_once_on_the_stack(stack):
    started: dict[str, object] = {}

    def start(name, params):
        started[name] = stack.start(name, params)

    # -- 1. everything that needs nothing before it, at once (the serve process runs them)
    for name in (
        "deliver-notifications",
        "leads-intake",
        "leads-outcomes",
        "leads-sweep",
        "leads-weekly-revisit",
        "gate-sweep",
        "remind-monthly-plans",
        "club-report",
        "feedback-reminder",
        "members-activation-sweep",
        "members-birthdays",
        "members-referral-rewards",
        "members-points-expiry",
        "members-segmentation",
        "members-tier-review",
    ):
        start(name, {"now": NOW})
    start("leads-daily-statistics", {"day": "2026-05-31"})
    start("best-crossing", {"year": 2025, "now": NOW})
    start("plan-quarter", {"quarter": "2026Q3", "requested_by": "hq.manager", "now": NOW})
    start("campaign-pipeline", {"plan": EVERY_PLAN, "now": NOW})
    start("activity-lifecycle", {"proposal": beijing_proposal(), "now": NOW})
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
    runs = dict(zip(started, stack.wait(list(started.values())), strict=True))
    states = {name: run.state_name for name, run in runs.items()}
    suspended = {"campaign-pipeline", "activity-lifecycle"}
    assert {n: s for n, s in states.items() if n not in suspended} == {
        n: "Completed" for n in states if n not in suspended
    }
    assert states["campaign-pipeline"] == "Suspended"
    assert runs["campaign-pipeline"].name == "campaign 系统测试 夏季试驾 · plan_review"
    assert states["activity-lifecycle"] == "Suspended"

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

    # propose-monthly-plans reads the quarter the plan-quarter run just made
    [proposals] = stack.wait([stack.start("propose-monthly-plans", {"quarter": "2026Q3"})])
    assert proposals.state_name == "Completed", proposals.state

    # -- 2. what follows a decision or a registration
    review = stack.cli(
        "decide", f"activity:{BEIJING_CODE}", "specialist_review", "approve",
        "--as", "specialist.beijing",
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
        "activity", "decide-claim", BEIJING_CODE, "approve", "--as", "specialist.beijing"
    )
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
    stack.deliver(at("2026-06-24", 11))

    with session_scope(url) as session:
        activity = session.execute(
            select(Activity).where(Activity.code == BEIJING_CODE)
        ).scalar_one()
        claim_row = session.execute(select(SubsidyClaim)).scalars().all()
        member = session.get(Member, new_member.id)
    assert activity.status in ("approved", "held", "recapped", "closed"), activity.status
    assert [c.status for c in claim_row] == ["paid"]
    assert member.status == "active"

    # The people concerned heard about it in the inbox.
    review_requests = stack.messages_to("role/regional_specialist/beijing")
    assert any("坝上穿越" in m["title"] for m in review_requests), [
        m["title"] for m in review_requests
    ]
    assert stack.messages_to("person/admin.be001"), "the club admin heard nothing"
    assert stack.messages_to("sms/+86" + NEW_MEMBER_PHONE), "the new member got no SMS"

    # Every deployment of prefect.yaml except leads-accept (see the docstring) ran here.
    ran = {d for d in catalog_names() if stack.runs_of(d)}
    assert set(catalog_names()) - ran == {"leads-accept"}
