"""A sign-off binds the plan version its form showed; only the agency and the campaign
manager change a plan, and a refusal is recorded."""

from __future__ import annotations

import pytest
import yaml
from campaign_steps import NOW, campaign, decisions, gates, plan, start, through_signoff
from prefect.client.orchestration import get_client
from prefect.input.run_input import keyset_from_paused_state
from typer.testing import CliRunner

from clubflow.campaigns import amend_campaign, reschedule_campaign
from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import CampaignPlanVersion
from tasks.audit import Refused, refusals
from tasks.gates.decisions import decide

CODE = "2026-mid-autumn"
cli = CliRunner()


def form_shown(run_id) -> str:
    """The description above the Resume form of the suspended run: what the approver sees."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        keyset = keyset_from_paused_state(run.state)
        return client.read_flow_run_input(run_id, keyset["description"])


def test_amending_while_the_second_signoff_waits_opens_a_round_showing_v3(gate_runner, db_url):
    start(gate_runner)
    through_signoff(gate_runner)  # v1 signed

    v2 = [{"item": "平台资源位", "amount": 200000}, {"item": "试驾礼品", "amount": 60000}]
    _, voided = amend_campaign(CODE, {"budget": v2}, by="hq.manager", now=NOW)
    assert voided == 2
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· signoff")
    assert "plan v2" in form_shown(run.id) and "¥260,000.00" in form_shown(run.id)

    # The agency changes the plan again while round 2 waits with v2 on its form.
    v3 = [{"item": "平台资源位", "amount": 210000}, {"item": "试驾礼品", "amount": 60000}]
    _, voided = amend_campaign(CODE, {"budget": v3}, by="agency.lead", now=NOW)
    assert voided == 1  # the open round 2: its form shows a plan that is no longer the plan
    [run] = gate_runner.run_pending()
    shown = form_shown(run.id)
    assert "plan v3" in shown and "¥270,000.00" in shown and "¥260,000.00" not in shown
    signoffs = {g.round: (g.status, g.plan_version) for g in gates(db_url) if g.key == "signoff"}
    assert signoffs == {1: ("void", 1), 2: ("void", 2), 3: ("open", 3)}

    decide(f"campaign:{CODE}", "signoff", decider="hq.manager", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· feasibility")
    view = campaign(db_url)
    accepted = [
        (d.plan_version, d.plan_hash) for d in decisions(db_url) if d.accepted and d.plan_hash
    ]
    # Every signature binds the version of its gate's form and that version's own hash.
    with session_scope(db_url) as session:
        hashes = {
            v.version: v.plan_hash
            for v in session.query(CampaignPlanVersion).filter_by(campaign_id=view.id)
        }
    assert accepted == [(1, hashes[1]), (3, hashes[3])]
    assert view.plan_version == 3 and view.plan_hash == hashes[3]


def test_an_answer_to_a_round_that_went_stale_is_not_signed_for_the_new_plan(gate_runner, db_url):
    """The approver answers round 2 (v2 on the form), but v3 lands before the run replays."""
    start(gate_runner)
    through_signoff(gate_runner)
    amend_campaign(CODE, {"budget": [{"item": "礼品", "amount": 260000}]}, by="hq.manager", now=NOW)
    gate_runner.run_pending()
    decide(f"campaign:{CODE}", "signoff", decider="hq.manager", outcome="approve", now=NOW)
    # v3 is stored behind the amend's back (another writer), before the resumed run replays.
    from tasks.campaigns.store import add_plan_version

    with session_scope(db_url) as session:
        add_plan_version(
            session=session,
            campaign_id=campaign(db_url).id,
            summary=campaign(db_url).summary,
            policy=campaign(db_url).policy,
            budget=[{"item": "礼品", "amount": 270000}],
            kpis=campaign(db_url).kpis,
            created_by="agency.lead",
            now=NOW,
        )
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· signoff")  # round 3 waits; nothing was signed for v3
    assert "¥270,000.00" in form_shown(run.id)
    signed = [(d.plan_version, d.accepted) for d in decisions(db_url) if d.plan_hash]
    assert (3, True) not in signed and all(v != 3 for v, ok in signed if ok)


def test_amend_as_nobody_is_refused_in_one_line_and_recorded(gate_runner, db_url, tmp_path):
    start(gate_runner)
    changes = tmp_path / "amend.yaml"
    changes.write_text(yaml.safe_dump({"budget": [{"item": "礼品", "amount": 1}]}), "utf-8")

    for user, why in [
        ("nobody", "unknown user 'nobody'"),
        ("it.lead", "user 'it.lead' is it; amend is for agency or campaign_manager"),
    ]:
        result = cli.invoke(app, ["campaign", "amend", CODE, str(changes), "--as", user])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"error: campaign:{CODE}: amend refused: {why}"
        ]
    view = campaign(db_url)
    assert view.plan_version == 1 and view.budget_total == 380000
    with session_scope(db_url) as session:
        versions = session.query(CampaignPlanVersion).all()
        assert [(v.version, v.created_by) for v in versions] == [(1, "hq.manager")]
        rows = refusals(session=session, subject=f"campaign:{CODE}")
        assert [(r.action, r.actor) for r in rows] == [
            ("campaign.amend", "nobody"),
            ("campaign.amend", "it.lead"),
        ]

    result = cli.invoke(app, ["campaign", "amend", CODE, str(changes), "--as", "agency.lead"])
    assert result.exit_code == 0, result.output
    assert campaign(db_url).plan_version == 2


def test_only_the_campaign_manager_moves_l(gate_runner, db_url):
    start(gate_runner)
    with pytest.raises(Refused, match="reschedule is for campaign_manager"):
        reschedule_campaign(CODE, NOW.date().replace(month=10, day=12), by="agency.lead", now=NOW)
    assert campaign(db_url).launch_date.isoformat() == plan()["launch_date"]
    result = cli.invoke(app, ["campaign", "reschedule", CODE, "2026-10-12", "--as", "it.lead"])
    assert result.exit_code == 2 and "reschedule refused" in result.output
    with session_scope(db_url) as session:
        assert [r.actor for r in refusals(session=session)] == ["agency.lead", "it.lead"]
