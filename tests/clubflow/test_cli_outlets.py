"""`clubflow outlets`: register (refused for non-dealer staff, bad document named), list."""

from __future__ import annotations

from typer.testing import CliRunner

from clubflow.cli import app

DOCS = [
    "--doc", "business_licence:91110105MA01ABCD2X:2030-12-31:https://files.example/bl.pdf",
    "--doc", "tax_registration:110105123456789:2030-12-31",
    "--doc", "organisation_code:MA01ABCD-2:2030-12-31",
]  # fmt: skip
BASE = ["outlets", "register", "--code", "O-BE001-01", "--name", "廊坊越野二网", "--city", "廊坊",
        "--phone", "13912345678", "--no-start", "--now", "2027-03-01T10:00"]  # fmt: skip


def test_dealer_staff_register_and_list_shows_it_masked(db_url, world):
    runner = CliRunner()
    done = runner.invoke(app, [*BASE, *DOCS, "--as", "dealer.be001"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["outlets", "list"])
    assert "O-BE001-01 廊坊越野二网 · dealer BE001 · 廊坊" in listed.output
    assert "139****5678" in listed.output and "13912345678" not in listed.output
    shown = runner.invoke(app, ["outlets", "show", "O-BE001-01"])
    assert "business_licence **************CD2X until 2030-12-31" in shown.output


def test_refusals_and_bad_documents_are_one_line_exit_2(db_url, world):
    runner = CliRunner()
    refused = runner.invoke(app, [*BASE, *DOCS, "--as", "finance"])
    assert refused.exit_code == 2
    assert "refused: user 'finance' is finance; registering an outlet is for dealer staff" in (
        refused.output
    )
    bad = runner.invoke(
        app, [*BASE, "--doc", "business_licence:X:31-12-2030", "--as", "dealer.be001"]
    )
    assert bad.exit_code == 2
    assert "--doc business_licence: expires '31-12-2030' is not a date (YYYY-MM-DD)" in bad.output
    missing = runner.invoke(app, [*BASE, DOCS[0], DOCS[1], "--as", "dealer.be001"])
    assert missing.exit_code == 2
    assert "documents missing: tax_registration, organisation_code" in missing.output


def test_a_risk_score_below_the_pass_mark_is_refused_not_sent(db_url, world):
    """The CLI checks the checklist before it resumes the run: the refusal is said, recorded
    on the gate's history and in the refusals, and nothing is sent."""
    from datetime import date

    from sqlalchemy import select

    from clubflow.core.db import session_scope
    from domain.models import Decision, Gate, Role
    from domain.models_audit import Refusal
    from domain.models_outlets import Outlet

    runner = CliRunner()
    assert runner.invoke(app, [*BASE, *DOCS, "--as", "dealer.be001"]).exit_code == 0
    with session_scope(db_url) as session:
        outlet = session.execute(select(Outlet).where(Outlet.code == "O-BE001-01")).scalar_one()
        session.add(
            Gate(subject_type="outlet", subject_id=outlet.id, subject_code=outlet.code,
                 key="risk", title="二网风险评估", owner_role=Role.finance,
                 due_on=date(2027, 3, 8), flow_run_id=None)
        )  # fmt: skip
    low = runner.invoke(
        app,
        ["outlets", "risk", "O-BE001-01", "--score", "credit=50", "--score", "finance=50",
         "--score", "business=50", "--as", "finance", "--now", "2027-03-02T10:00"],
    )  # fmt: skip
    assert low.exit_code == 2
    assert (
        "outlet O-BE001-01: refused: risk score 50 is below the pass mark 60: revise or reject"
        in low.output
    )
    assert "sent" not in low.output and "Traceback" not in low.output
    with session_scope(db_url) as session:
        decision = session.execute(select(Decision)).scalar_one()
        refusal = session.execute(
            select(Refusal).where(Refusal.action == "outlet.risk")
        ).scalar_one()
        gate = session.execute(select(Gate)).scalar_one()
    assert (decision.decider, decision.accepted) == ("finance", False)
    assert "below the pass mark" in decision.refusal_reason
    assert (refusal.actor, refusal.subject) == ("finance", "outlet:O-BE001-01")
    assert gate.status == "open"
    missing = runner.invoke(
        app, ["outlets", "risk", "O-BE001-01", "--score", "credit=90", "--as", "finance"]
    )
    assert missing.exit_code == 2
    assert "refused: risk items not scored: finance, business" in missing.output
