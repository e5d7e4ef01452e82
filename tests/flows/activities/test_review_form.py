"""The review form in the Prefect UI: what the reviewer weighs (every budget line, the total,
the subsidy asked for), and a refused answer shown on the form the next time it opens."""

from __future__ import annotations

import json
from datetime import date

from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from prefect.input.run_input import keyset_from_paused_state
from support_activities import at, proposal


def _form_description(run_id) -> str:
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        keyset = keyset_from_paused_state(run.state)
        return json.loads(client.read_flow_run_input(run_id, keyset["description"]))


def test_the_review_form_shows_the_budget_and_then_who_was_refused(runner, db_url):
    budget = [{"item": "场地费", "amount": 1500}, {"item": "保险", "amount": 300}]
    run_id = runner.start(
        "activity-lifecycle",
        {
            "proposal": proposal(budget=budget, subsidy_requested=4500),
            "now": at(date(2026, 9, 21)),
        },
    )
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    form = _form_description(run_id)
    assert "| 场地费 | ¥1,500.00 |" in form and "| 保险 | ¥300.00 |" in form
    assert "| **合计** | ¥1,800.00 |" in form
    assert "| 申请补贴 | ¥4,500.00 |" in form
    assert "上次的决定未被接受" not in form

    # Someone types the manager's name into the form: refused, and the form says so.
    resume_flow_run(run_id, run_input={"decider": "hq.manager", "outcome": "approve"})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    form = _form_description(run_id)
    assert "上次的决定未被接受" in form
    assert "以 `hq.manager` 的名义" in form
    assert "this gate needs regional_specialist" in form
