"""Deciding in the Prefect UI, bound to a person: through the Prefect API, a decision naming
the region's specialist without their code is refused and recorded; the specialist asks the
portal for a code, and the same answer with it counts."""

from __future__ import annotations

import re

import pytest
from browser_support import suspend_at_review
from gate_runner import GateRunner
from portal_client import csrf_of
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Decision, Gate
from domain.models_portal import PortalAudit


@pytest.fixture(scope="session")
def _lifecycle(prefect_server) -> GateRunner:
    return GateRunner(["activity-lifecycle"])


@pytest.fixture
def runner(_lifecycle, channels) -> GateRunner:
    _lifecycle.reset()
    return _lifecycle


def _decisions(db_url) -> list[tuple[str, bool, str | None]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Decision).order_by(Decision.id)).scalars()
        return [(d.decider, d.accepted, d.refusal_reason) for d in rows]


def test_the_prefect_api_needs_the_code_the_portal_sends(runner, portal, db_url):
    gate_id, run = suspend_at_review(runner, database_url=db_url, now=portal.clock())

    # Anyone with the Prefect API (or the UI's Resume form) types the specialist's name.
    resume_flow_run(run.id, run_input={"decider": "specialist.chengdu", "outcome": "approve"})
    [again] = runner.run_pending()
    assert again.state.name == "Suspended"
    [(decider, accepted, reason)] = _decisions(db_url)
    assert (decider, accepted) == ("specialist.chengdu", False)
    assert "no decision code" in reason

    # The specialist asks the portal for a code (a new one: the one the refusal sent stops).
    client = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    page = client.get(f"/gates/{gate_id}")
    assert "发送决定码" in page.text
    sent = client.post(f"/gates/{gate_id}/code", data={"csrf": csrf_of(page.text)})
    assert "新的决定码已发送" in sent.text
    asked = portal.sink.to("person/specialist.chengdu")[-1]
    assert "您在门户中为" in asked.body and "申请了新的决定码" in asked.body
    bodies = [m.body for m in portal.sink.to("person/specialist.chengdu")]
    codes = [c for body in bodies for c in re.findall(r"决定码 (\d{6})", body)]
    assert codes, bodies
    code = codes[-1]

    resume_flow_run(
        run.id,
        run_input={"decider": "specialist.chengdu", "outcome": "approve", "code": code},
    )
    [ended] = runner.run_pending()
    assert ended.state.name == "Completed"
    with session_scope(db_url) as session:
        gate = session.get(Gate, gate_id)
        assert (gate.status, gate.outcome) == ("decided", "approve")
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.detail).where(PortalAudit.action == "gate.code")
        ).all()
    assert [tuple(a) for a in audit] == [("person:specialist.chengdu", "sent")]
    assert _decisions(db_url)[-1][:2] == ("specialist.chengdu", True)
    assert all(code not in str(d) for d in _decisions(db_url))  # the code is never stored


def test_someone_who_may_not_decide_gets_no_code(runner, portal, db_url):
    gate_id, _run = suspend_at_review(runner, database_url=db_url, now=portal.clock())
    client = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    home = client.get("/")
    refused = client.post(f"/gates/{gate_id}/code", data={"csrf": csrf_of(home.text)})
    assert refused.status_code == 403
    assert portal.sink.to("person/specialist.beijing")[1:] == []  # only the sign-in code
