"""The campaign store on SQLite and PostgreSQL: one campaign per code, versions, milestones
moved with L, a sign-off voided by a budget change, dated steps once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.world import WorldSize, seed_demo_world
from domain.campaigns import CampaignPlan, PlanError
from domain.gates import GateSpec
from domain.models import Campaign, CampaignPlanVersion, GateStatus, Milestone, Role
from tasks.campaigns.hooks import run_campaign_steps
from tasks.campaigns.store import (
    advance_campaign_task,
    amend_plan,
    load_campaign,
    register_campaign,
    reschedule,
    set_status,
)
from tasks.gates.store import open_gate, record_decision

NOW = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)
PLAN = CampaignPlan(
    code="2026-mid-autumn",
    name="2026 中秋国庆",
    launch_date=date(2026, 9, 21),
    end_date=date(2026, 9, 27),
    regions=["chengdu"],
    budget=[{"item": "平台资源位", "amount": 300000}],
    kpis=[{"name": "线索量", "target": 2000}],
    started_by="hq.manager",
)


@pytest.fixture
def store(any_db_url, settings_env):
    settings_env(database_url=any_db_url)
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
    return any_db_url


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_registering_twice_keeps_one_campaign_and_hands_it_to_the_newer_run(store):
    settings = get_settings()
    with session_scope(store) as session:
        first = register_campaign(
            session=session, plan=PLAN, now=NOW, settings=settings, flow_run_id="a"
        )
        again = register_campaign(
            session=session, plan=PLAN, now=NOW, settings=settings, flow_run_id="b"
        )
        rows = (count(session, Campaign), count(session, CampaignPlanVersion))
        milestones = count(session, Milestone)
    assert first.id == again.id and rows == (1, 1) and milestones == 11
    assert (first.replaced_run_id, again.replaced_run_id, again.flow_run_id) == (None, "a", "b")


def test_a_refused_plan_stores_nothing(store):
    late = PLAN.model_copy(update={"launch_date": date(2026, 9, 16), "end_date": date(2026, 9, 20)})
    with session_scope(store) as session, pytest.raises(PlanError, match="44 days away"):
        register_campaign(session=session, plan=late, now=NOW, settings=get_settings())
    with session_scope(store) as session:
        assert count(session, Campaign) == 0


def test_a_budget_change_voids_the_sign_off_of_the_old_hash(store):
    settings = get_settings()
    with session_scope(store) as session:
        view = register_campaign(session=session, plan=PLAN, now=NOW, settings=settings)
        gate = open_gate(
            session=session,
            spec=GateSpec(
                subject_type="campaign",
                subject_id=view.id,
                subject_code=view.code,
                key="signoff",
                title="签字确认",
                owner_role=Role.campaign_manager,
                due_on=date(2026, 8, 21),
            ),
            now=NOW,
        )
        record_decision(
            session=session,
            gate_id=gate.id,
            decider="hq.manager",
            outcome="approve",
            now=NOW,
            settings=settings,
            plan_hash=view.plan_hash,
        )
        set_status(session=session, campaign_id=view.id, status="signed")
        budget = [{"item": "平台资源位", "amount": 350000}]
        amended, voided = amend_plan(
            session=session, code=view.code, by="hq.manager", now=NOW, note="+5 万", budget=budget
        )
        same, none = amend_plan(
            session=session, code=view.code, by="hq.manager", now=NOW, note="", budget=budget
        )
    assert [(g.key, g.status) for g in voided] == [("signoff", GateStatus.void)]
    assert (amended.plan_version, amended.status, amended.budget_total) == (2, "planning", 350000)
    assert (same.plan_version, none) == (2, [])


def test_moving_l_moves_the_milestones_and_the_dated_steps_fire_once(store):
    settings = get_settings()
    with session_scope(store) as session:
        view = register_campaign(session=session, plan=PLAN, now=NOW, settings=settings)
        before, after = reschedule(
            session=session,
            code=view.code,
            new_launch=date(2026, 10, 12),
            now=NOW,
            settings=settings,
        )
    assert after.milestone("launch").starts_on == date(2026, 10, 12)
    assert after.milestone("report").due_on == date(2026, 10, 25)
    with session_scope(store) as session:
        set_status(session=session, campaign_id=view.id, status="signed")
    advance_campaign_task.fn(campaign_id=view.id, status="ready", now=NOW)
    training_day = after.milestone("training").starts_on
    with session_scope(store) as session:
        early = run_campaign_steps(
            session=session, now=NOW, today=date(2026, 10, 8), settings=settings
        )
        runs = run_campaign_steps(session=session, now=NOW, today=training_day, settings=settings)
        again = run_campaign_steps(session=session, now=NOW, today=training_day, settings=settings)
    assert early == [] and again == []
    [training] = runs
    assert [n.recipient for n in training.notifications] == ["dealer:CH001", "dealer:CH002"]
    with session_scope(store) as session:
        assert (
            load_campaign(session=session, campaign_id=view.id).milestone("training").status
            == "done"
        )
