"""The gate page in Chromium: the region's specialist approves a class C activity's review
while its lifecycle run waits on the Prefect test server; the run then leaves the gate."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser_support import CLASS_C_CODE, browser_sign_in, off_thread, suspend_at_review
from gate_runner import GateRunner
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity, Decision, Gate
from domain.models_portal import PortalAudit


@pytest.fixture(scope="session")
def _lifecycle(prefect_server) -> GateRunner:
    return GateRunner(["activity-lifecycle"])


@pytest.fixture
def runner(_lifecycle, channels) -> GateRunner:
    _lifecycle.reset()
    return _lifecycle


def test_the_specialist_approves_the_review_in_the_browser_and_the_run_goes_on(
    runner, db_url, portal, phone, served
):
    # The run is started and suspended before the browser opens (see conftest: chromium).
    gate_id, run = suspend_at_review_before(runner, db_url, portal)
    assert run.state.name == "Suspended"

    browser_sign_in(
        phone,
        served.base_url,
        served.sink,
        "specialist.chengdu",
        "person/specialist.chengdu",
        next_path=f"/gates/{gate_id}",
    )
    assert urlparse(phone.url).path == f"/gates/{gate_id}"
    assert "雨林穿越 冬季站" in phone.content()
    phone.get_by_label("通过").check()
    phone.fill("#comment", "路线与保障方案可行")
    phone.get_by_role("button", name="的身份提交").click()

    assert "已提交：approve" in phone.locator(".notice").inner_text()
    [ended] = off_thread(runner.run_pending)
    assert ended.id == run.id and ended.state.name == "Completed"
    # The run recorded the decision as it left the gate: the page now shows it, and no form.
    phone.goto(f"/gates/{gate_id}")
    assert "specialist.chengdu" in phone.locator("table").last.inner_text()
    assert phone.get_by_role("button", name="的身份提交").count() == 0
    with session_scope(db_url) as session:
        gate = session.get(Gate, gate_id)
        assert (gate.status, gate.outcome) == ("decided", "approve")
        decisions = session.execute(
            select(Decision.decider, Decision.outcome, Decision.comment, Decision.accepted)
        ).all()
        assert [tuple(d) for d in decisions] == [
            ("specialist.chengdu", "approve", "路线与保障方案可行", True)
        ]
        activity = session.execute(
            select(Activity).where(Activity.code == CLASS_C_CODE)
        ).scalar_one()
        assert activity.status == "approved"
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.detail).where(PortalAudit.action == "gate.decide")
        ).all()
        assert [tuple(a) for a in audit] == [
            ("person:specialist.chengdu", "specialist_review: approve")
        ]


def suspend_at_review_before(runner, db_url, portal):
    return off_thread(suspend_at_review, runner, database_url=db_url, now=portal.clock())
