"""One second-tier outlet on the running stack, as its people drive it: BE001's staff register
it with `clubflow outlets register` (its outlet-qualification run starts on the work pool and
waits at the qualification review), Beijing's specialist approves with `clubflow decide`, HQ
finance scores the risk checklist with `clubflow outlets risk` (a score below the pass mark is
refused, then one passes), HQ legal approves the contract, and the outlet is active. The
portal shows it at each step; the messages arrive in the demo inbox; a lead in the outlet's
city, dropped in the leads inbox folder and called interested, goes to the parent dealer with
the outlet named."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from support_leads import FakeApi, lead_file, serve_fake_api
from system_support import portal_browser

from clubflow.core.db import session_scope
from domain.models import Dealer, Decision, Gate, Lead
from domain.models_outlets import Outlet

CODE = "O-BE001-07"
NAME = "固安越野二网"
CITY = "固安"
NOW = "2027-03-01T10:00:00+08:00"  # a Monday
INTAKE_AT = "2027-03-02T14:00:00+08:00"
OUTCOMES_AT = "2027-03-02T16:00:00+08:00"
FIRST = 7500  # phones 1390007500...: no other test's
DOCS = [
    "business_licence:91110105MA07ABCD2X:2029-06-30:https://files.example/bl7.pdf",
    "tax_registration:110105123450007:2029-06-30",
    "organisation_code:MA07ABCD-7:2029-06-30",
]


def _cli_ok(stack, *args: str) -> str:
    done = stack.cli(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _decide(stack, run, review: str, user: str):
    _cli_ok(stack, "decide", f"outlet:{CODE}", review, "approve", "--as", user, "--now", NOW)
    return stack.wait_resumed(run.id, run.state.id)


def _outlet(stack) -> Outlet:
    with session_scope(stack.database_url) as session:
        row = session.execute(select(Outlet).where(Outlet.code == CODE)).scalar_one()
        session.expunge(row)
        return row


def _titles(stack, path: str) -> list[str]:
    return [m["title"] for m in stack.messages_to(path) if CODE in m["title"] + m["body"]]


def test_an_outlet_is_registered_reviewed_three_times_and_receives_its_citys_lead(stack):
    known = {r.id for r in stack.runs_of("outlet-qualification")}
    out = _cli_ok(
        stack, "outlets", "register", "--code", CODE, "--name", NAME, "--city", CITY,
        "--contact", "赵经理", "--phone", "13912347777",
        *[a for d in DOCS for a in ("--doc", d)], "--as", "dealer.be001", "--now", NOW,
    )  # fmt: skip
    assert f"{CODE} {NAME} · dealer BE001 · {CITY}" in out and "139****7777" in out
    run = stack.wait_for_run_of("outlet-qualification", known)
    assert (run.state_name, run.name) == ("Suspended", f"outlet {CODE} · qualification")
    assert run.deployment_id is not None  # the served deployment's run, not a local call

    # The specialist finds it on the portal, waiting for their review.
    specialist = portal_browser(stack, "specialist.beijing")
    listing = specialist.get("/outlets")
    assert listing.status_code == 200 and f"{NAME}（{CODE}）" in listing.text
    page = specialist.get(f"/outlets/{CODE}")
    assert "待审核 (open)" in page.text and "139****7777" in page.text
    assert "13912347777" not in page.text and "**************CD2X" in page.text

    run = _decide(stack, run, "qualification", "specialist.beijing")
    assert run.state_name == "Suspended"  # at the risk assessment
    assert _outlet(stack).passed == ["qualification"]

    # HQ finance: below the pass mark is refused (and said so), then a pass.
    low = stack.cli(
        "outlets", "risk", CODE, "--score", "credit=50", "--score", "finance=55",
        "--score", "business=40", "--as", "finance", "--now", NOW,
    )  # fmt: skip
    assert low.returncode == 2, low.stdout + low.stderr
    said = low.stdout + low.stderr
    assert "refused: risk score 49.2 is below the pass mark 60" in said and "Traceback" not in said
    passed = _cli_ok(
        stack, "outlets", "risk", CODE, "--score", "credit=80", "--score", "finance=70",
        "--score", "business=65", "--as", "finance", "--now", NOW,
    )  # fmt: skip
    assert "risk assessment approved" in passed
    run = stack.wait_resumed(run.id, run.state.id)
    assert run.state_name == "Suspended"  # at the contract review

    # Only HQ legal approves the contract.
    refused = stack.cli(
        "decide", f"outlet:{CODE}", "contract", "approve", "--as", "finance", "--now", NOW
    )
    assert refused.returncode != 0 and "this gate needs legal" in refused.stdout + refused.stderr
    run = _decide(stack, run, "contract", "legal")
    assert run.state_name == "Completed", run.state

    outlet = _outlet(stack)
    assert (outlet.status, sorted(outlet.passed), outlet.risk_score) == (
        "active",
        ["contract", "qualification", "risk"],
        72.8,
    )
    with session_scope(stack.database_url) as session:
        gates = session.execute(
            select(Gate.key, Gate.outcome).where(Gate.subject_code == CODE).order_by(Gate.id)
        ).all()
        decisions = session.execute(
            select(Decision.decider, Decision.accepted)
            .join(Gate, Gate.id == Decision.gate_id)
            .where(Gate.subject_code == CODE)
            .order_by(Decision.id)
        ).all()
    assert [tuple(g) for g in gates] == [
        ("qualification", "approve"),
        ("risk", "approve"),
        ("contract", "approve"),
    ]
    assert [tuple(d) for d in decisions] == [
        ("specialist.beijing", True),
        ("finance", False),  # the low score, refused before it reached the run
        ("finance", True),
        ("finance", False),  # the contract is not finance's
        ("legal", True),
    ]
    shown = _cli_ok(stack, "outlets", "show", CODE)
    assert "active" in shown and "passed: qualification, risk, contract" in shown
    assert "已生效 (active)" in portal_browser(stack, "dealer.be001").get("/outlets").text

    stack.deliver(NOW)
    [asked] = [t for t in _titles(stack, "role/regional_specialist/beijing") if "资质审核" in t]
    assert asked.startswith(f"待您审核：二网 {CODE}（{NAME}）资质审核")
    assert any("风险评估" in t for t in _titles(stack, "role/finance"))
    assert any("合同审核" in t for t in _titles(stack, "role/legal"))
    assert f"二网 {CODE} 已生效" in _titles(stack, "dealer/BE001")

    # A lead in 固安 (no dealer there; the outlet covers it) comes in through the folder.
    generated = lead_file(
        good=1, duplicates=0, bad=0, cities=(CITY,), times=("2027-03-02 10:00",), first=FIRST
    )
    inbox = Path(stack.env["CLUBFLOW_LEADS_INBOX_DIR"])
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "汽车之家_0302.csv").write_bytes(generated.data)
    intake = stack.run("leads-intake", {"source": "汽车之家", "now": INTAKE_AT})
    assert intake.state_name == "Completed", intake.state
    phone = "+86" + f"1390{FIRST:07d}"
    with session_scope(stack.database_url) as session:
        lead = session.execute(select(Lead).where(Lead.phone == phone)).scalar_one()
    assert (lead.city, lead.region_code) == (CITY, "beijing")

    outcomes = [
        {"id": FIRST, "lead_id": lead.id, "call_no": 1, "outcome": "有意购车",
         "called_at": "2027-03-02 15:00", "agent": "agent1"},
    ]  # fmt: skip
    # The call centre's ids only grow, and the stack's cursor has read other tests' outcomes:
    # an id of 1 would be taken as read already.
    api = FakeApi(token="centre-token-outlet", collections={"outcomes": outcomes})
    with serve_fake_api(api):
        api.block().save("call-centre", overwrite=True)
        handed = stack.run("leads-outcomes", {"now": OUTCOMES_AT})
    assert handed.state_name == "Completed", handed.state
    with session_scope(stack.database_url) as session:
        lead = session.get(Lead, lead.id)
        be001 = session.execute(select(Dealer.id).where(Dealer.code == "BE001")).scalar_one()
    assert (lead.status, lead.dealer_id, lead.outlet_code) == ("valid", be001, CODE)
    stack.deliver(OUTCOMES_AT)
    [told] = [m for m in stack.messages_to("dealer/BE001") if f"#{lead.id}" in m["title"]]
    assert f"该城市由贵店二网 {NAME}（{CODE}） 覆盖" in told["body"]
    assert phone not in told["body"] and phone[-4:] in told["body"]

    # The funnel counts it for BE001, the outlet named under it.
    funnel = _cli_ok(
        stack, "leads", "funnel", "--from", "2027-03-02", "--to", "2027-03-02",
        "--now", OUTCOMES_AT,
    )  # fmt: skip
    row = next(line for line in funnel.splitlines() if f"BE001 / {CODE}" in line)
    assert re.findall(r"\d+", row.split(CODE)[1])[:2] == ["1", "1"]  # leads, valid
