"""Review by class: D needs none, C the region's specialist, B the specialist then a campaign
manager, in that order; a reviewer from another region is refused and recorded."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from support_activities import CODE, at, proposal

from clubflow.core.db import session_scope
from domain.models import Activity, Decision, Gate
from flows.notifications import deliver_notifications
from tasks.gates.decisions import DecisionRefused, decide

PROPOSED = at(date(2026, 9, 21))  # Monday, three weeks ahead


def _activity(db_url, code=CODE) -> Activity:
    with session_scope(db_url) as session:
        return session.execute(select(Activity).where(Activity.code == code)).scalar_one()


def _decisions(db_url) -> list[tuple[str, str, str, bool]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Gate.key, Decision.decider, Decision.outcome, Decision.accepted)
            .join(Gate, Gate.id == Decision.gate_id)
            .order_by(Decision.id)
        ).all()
    return [tuple(r) for r in rows]


def test_class_c_waits_for_its_regions_specialist_and_refuses_another(runner, db_url, sink):
    runner.start("activity-lifecycle", {"proposal": proposal(), "now": PROPOSED.isoformat()})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    assert run.name == "activity 成都卫 雨林穿越 秋季站 · specialist_review"
    assert {"activity", "region:chengdu", "class:C"} <= set(run.tags)
    assert _activity(db_url).status == "in_review"

    with pytest.raises(DecisionRefused, match="specialist.beijing"):
        decide(
            f"activity:{CODE}",
            "specialist_review",
            decider="specialist.beijing",
            outcome="approve",
            now=PROPOSED,
        )
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=PROPOSED,
    )
    [run] = runner.run_pending()

    assert run.state.name == "Completed"
    assert run.name == "activity 成都卫 雨林穿越 秋季站 · scheduled"
    activity = _activity(db_url)
    assert (activity.status, activity.warmup_on) == ("approved", date(2026, 10, 8))
    assert _decisions(db_url) == [
        ("specialist_review", "specialist.beijing", "approve", False),
        ("specialist_review", "specialist.chengdu", "approve", True),
    ]


def test_class_d_needs_no_review(runner, db_url):
    runner.start(
        "activity-lifecycle",
        {"proposal": proposal(activity_class="D", title="周末聚餐"), "now": PROPOSED.isoformat()},
    )
    [run] = runner.run_pending()

    assert run.state.name == "Completed"
    assert _activity(db_url).status == "approved"
    with session_scope(db_url) as session:
        assert session.execute(select(Gate)).all() == []


def test_class_b_needs_the_specialist_then_a_campaign_manager(runner, db_url):
    runner.start(
        "activity-lifecycle",
        {
            "proposal": proposal(activity_class="B", invited_regions=["lanzhou", "beijing"]),
            "now": PROPOSED.isoformat(),
        },
    )
    runner.run_pending()

    # The manager cannot go first: only the specialist's gate is open.
    with pytest.raises(LookupError, match="no gate 'manager_review'"):
        decide(
            f"activity:{CODE}",
            "manager_review",
            decider="hq.manager",
            outcome="approve",
            now=PROPOSED,
        )
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=PROPOSED,
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    assert run.name.endswith("· manager_review")
    assert _activity(db_url).status == "in_review"

    decide(
        f"activity:{CODE}", "manager_review", decider="hq.manager", outcome="approve", now=PROPOSED
    )
    [run] = runner.run_pending()
    assert run.state.name == "Completed"
    assert _activity(db_url).status == "approved"
    assert [d[:2] for d in _decisions(db_url)] == [
        ("specialist_review", "specialist.chengdu"),
        ("manager_review", "hq.manager"),
    ]


def test_sent_back_with_comments_then_reviewed_again_in_round_two(runner, db_url, sink):
    runner.start("activity-lifecycle", {"proposal": proposal(), "now": PROPOSED.isoformat()})
    runner.run_pending()
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="revise",
        comment="请补充救援车辆安排",
        now=PROPOSED,
    )
    [run] = runner.run_pending()
    assert run.state.name == "Completed"
    assert run.name.endswith("· sent_back")
    deliver_notifications(now=PROPOSED)
    [notice] = sink.to("person/admin.ch001")
    assert notice.title == "活动需修改后重新提报：雨林穿越 秋季站"
    assert "请补充救援车辆安排" in notice.body

    revised = proposal(place="四川雅安（救援车 2 台随行）")
    runner.start("activity-lifecycle", {"proposal": revised, "now": PROPOSED.isoformat()})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    with session_scope(db_url) as session:
        rounds = session.execute(select(Gate.round, Gate.status).order_by(Gate.round)).all()
    assert [tuple(r) for r in rounds] == [(1, "decided"), (2, "open")]
    assert _activity(db_url).review_round == 2


def test_a_late_activity_approved_after_start_minus_3_is_announced_at_once(runner, db_url, sink):
    late_day = at(date(2026, 10, 9))  # start-2: the window closed on 10-08
    runner.start(
        "activity-lifecycle",
        {"proposal": proposal(late=True), "now": late_day.isoformat()},
    )
    runner.run_pending()
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=late_day,
    )
    [run] = runner.run_pending()
    deliver_notifications(now=late_day)

    assert run.name.endswith("· late")
    assert _activity(db_url).status == "announced"
    titles = [m.title for m in sink.to("person/admin.ch001")]
    assert "预热时间不足：雨林穿越 秋季站（2026-10-11 开始）" in titles
    assert len([m for m in sink.messages if m.title.startswith("活动预告")]) > 0


def test_the_review_waits_with_no_process_as_under_the_serve_process(runner, db_url):
    """The same review with each run executed by `python -m prefect.engine`, as served."""
    runner.start("activity-lifecycle", {"proposal": proposal(), "now": PROPOSED.isoformat()})
    [run] = runner.run_pending(in_process=False)
    assert run.state.name == "Suspended"  # and the process has exited
    decide(
        f"activity:{CODE}",
        "specialist_review",
        decider="specialist.chengdu",
        outcome="approve",
        now=PROPOSED,
    )
    [run] = runner.run_pending(in_process=False)
    assert run.state.name == "Completed"
    assert _activity(db_url).status == "approved"
