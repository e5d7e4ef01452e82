"""An outlet's three reviews as gates under the gate runner: a return reopens the review
for another round, the risk score must reach the pass mark, only the review's owner decides,
all three passed make the outlet active; a lead in its city then goes to the parent dealer
with the outlet named."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from gate_runner import GateRunner
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Dealer, Decision, Gate, Lead, LeadStatus
from domain.models_outlets import Outlet
from flows.notifications import deliver_notifications
from tasks.gates.decisions import DecisionRefused, decide
from tasks.leads.handoff import hand_off_valid_leads
from tasks.outlets.store import DocumentIn, OutletIn, register_outlet

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=SH)
CODE = "O-BE001-01"
SCORES = {"credit": 80, "finance": 70, "business": 65}


@pytest.fixture(scope="session")
def _outlet_runner(prefect_server) -> GateRunner:
    return GateRunner(["outlet-qualification"])


@pytest.fixture
def runner(_outlet_runner, channels) -> GateRunner:
    _outlet_runner.reset()
    return _outlet_runner


def _register(db_url) -> str:
    documents = [
        DocumentIn(
            kind=k, number=n, link=f"https://files.example/{k}.pdf", expires_on=date(2028, 6, 30)
        )
        for k, n in (
            ("business_licence", "91110105MA01ABCD2X"),
            ("tax_registration", "110105123456789"),
            ("organisation_code", "MA01ABCD-2"),
        )
    ]
    with session_scope(db_url) as session:
        view = register_outlet(
            session=session,
            outlet=OutletIn(
                code=CODE,
                name="廊坊越野二网",
                cities=["廊坊"],
                contact_name="刘经理",
                contact_phone="13912345678",
                documents=documents,
            ),
            by="dealer.be001",
            now=NOW,
        )
    assert view.contact_phone == "139****5678"
    assert view.documents[0].number == "**************CD2X"
    return view.code


def _decide(runner, key, decider, outcome, comment="", extra=None):
    decide(f"outlet:{CODE}", key, decider=decider, outcome=outcome, comment=comment,
           extra=extra, now=NOW)  # fmt: skip
    [run] = runner.run_pending()
    return run


def test_three_reviews_make_the_outlet_active_and_its_city_leads_go_to_the_parent(
    runner, sink, db_url, world
):
    _register(db_url)
    run_id = runner.start(
        "outlet-qualification", {"request": {"outlet": CODE}, "now": NOW.isoformat()}
    )
    run = runner.execute(run_id)
    assert run.state.name == "Suspended", (run.state, run.state.message)
    assert run.state.name == "Suspended"
    deliver_notifications(now=NOW)
    [ask] = sink.to("role/regional_specialist/beijing")
    assert ask.title.startswith(f"待您审核：二网 {CODE}（廊坊越野二网）资质审核")

    # Only the region's specialist decides the qualification.
    with pytest.raises(DecisionRefused, match="this gate needs regional_specialist"):
        decide(f"outlet:{CODE}", "qualification", decider="finance", outcome="approve", now=NOW)

    # Returned once: the dealer hears why, round 2 opens.
    run = _decide(runner, "qualification", "specialist.beijing", "revise", "营业执照扫描件不清晰")
    assert run.state.name == "Suspended"
    deliver_notifications(now=NOW)
    [returned] = sink.to("dealer/BE001")
    assert returned.title == f"二网 {CODE} 资质审核被退回"
    assert "原因：营业执照扫描件不清晰" in returned.body
    run = _decide(runner, "qualification", "specialist.beijing", "approve")
    assert run.state.name == "Suspended"  # now at the risk gate

    # A score below the pass mark is refused; the gate waits.
    low = {"credit": 40, "finance": 50, "business": 50}
    run = _decide(runner, "risk", "finance", "approve", extra={"scores": low})
    assert run.state.name == "Suspended"
    run = _decide(runner, "risk", "finance", "approve", extra={"scores": SCORES})
    assert run.state.name == "Suspended"  # now at the contract gate
    run = _decide(runner, "contract", "legal", "approve")
    assert run.state.name == "Completed"

    with session_scope(db_url) as session:
        outlet = session.execute(select(Outlet).where(Outlet.code == CODE)).scalar_one()
        gates = session.execute(select(Gate.key, Gate.round, Gate.outcome).order_by(Gate.id)).all()
        refused = (
            session.execute(select(Decision.refusal_reason).where(Decision.accepted.is_(False)))
            .scalars()
            .all()
        )
        assert (outlet.status, sorted(outlet.passed), outlet.risk_score) == (
            "active",
            ["contract", "qualification", "risk"],
            round(80 * 0.4 + 70 * 0.35 + 65 * 0.25, 1),
        )
    assert gates == [
        ("qualification", 1, "revise"),
        ("qualification", 2, "approve"),
        ("risk", 1, "approve"),
        ("contract", 1, "approve"),
    ]
    assert any("below the pass mark 60" in r for r in refused)
    deliver_notifications(now=NOW)
    assert [m.title for m in sink.to("dealer/BE001")][-1] == f"二网 {CODE} 已生效"

    # An interested lead in 廊坊 goes to the parent dealer, the outlet named.
    with session_scope(db_url) as session:
        be001 = session.execute(select(Dealer).where(Dealer.code == "BE001")).scalar_one()
        lead = Lead(
            name="张先生", phone="13700001111", city="廊坊", region_code="beijing",
            source="autohome", status=LeadStatus.valid, outcome="interested",
            arrived_at=NOW, business_day=NOW.date(),
        )  # fmt: skip
        session.add(lead)
        session.flush()
        from clubflow.core.settings import get_settings

        hand_off_valid_leads(session=session, now=NOW, settings=get_settings())
        assert (lead.dealer_id, lead.outlet_code) == (be001.id, CODE)
    deliver_notifications(now=NOW)
    [handed] = [m for m in sink.to("dealer/BE001") if m.title.startswith("新意向线索")]
    assert f"该城市由贵店二网 廊坊越野二网（{CODE}） 覆盖" in handed.body
