"""The subsidy claim (补贴申报): stored with the rules engine's proposal per line, then the
region's specialist decides line by line at a suspended gate; the club gets the table."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from domain import calendar
from domain.gates import GateSpec
from domain.models import Role
from domain.subsidy import ClaimInput, LineDecision, LineDecisionInput
from flows.activities.naming import code_run_name
from flows.gates import GateInput, current_flow_run_id, wait_for_decision
from flows.naming import clock
from tasks.activities.claims import (
    check_claim_decision_task,
    claim_markdown_task,
    claim_review_requests,
    decide_claim_task,
    file_claim_task,
    publish_claim,
)
from tasks.activities.store import read_activity_task
from tasks.gates.runs import label_run_task
from tasks.gates.store_tasks import record_overruling_task


class ClaimDecisionInput(GateInput):
    """The specialist's form: lines not listed keep the engine's proposed amount."""

    outcome: Literal["approve", "reject"] = Field(
        description="approve (with the amounts below) or reject the whole claim (with reason)"
    )
    lines: list[LineDecisionInput] = Field(
        default_factory=list, description="Only the lines you change"
    )


@flow(name="activity-claim", flow_run_name=code_run_name("claim"), log_prints=False)
def activity_claim(code: str, claim: ClaimInput, now: datetime | None = None) -> str:
    """File the claim (after the recap only) and wait for the specialist's decision."""
    settings = get_settings()
    now = clock(now)
    policy = settings.subsidy_policy
    activity = read_activity_task(code=code, settings=settings)
    run_id = current_flow_run_id()
    label_run_task(run_id, f"{activity.run_label} · claim", activity.tags)
    filed = file_claim_task(code=code, claim=claim, now=now, policy=policy, settings=settings)
    proposal_md = claim_markdown_task(code=code, settings=settings)
    today = calendar.business_date(now)

    # A decision the rules refuse (e.g. approving a line without evidence) opens the next
    # round of the gate, whose notice says why; replaying the history gives the same rounds.
    round_no, problems = 1, []
    while True:
        result = wait_for_decision(
            GateSpec(
                subject_type="claim",
                subject_id=filed.id,
                subject_code=code,
                subject_title=activity.title,
                key="claim_approval",
                round=round_no,
                title="补贴审批",
                owner_role=Role.regional_specialist,
                owner_region=activity.region_code,
                due_on=calendar.add_working_days(today, settings.claim_review_working_days),
            ),
            description=proposal_md,
            input_model=ClaimDecisionInput,
            run_label=activity.run_label,
            tags=activity.tags,
            on_open=claim_review_requests(
                activity, filed, round_no=round_no, problems=problems, settings=settings, now=now
            ),
            now=now,
        )
        if result.void:
            round_no += 1
            continue
        decision = result.decision
        lines = [LineDecision(**line) for line in decision.payload.get("lines", [])]
        problems = (
            []
            if decision.outcome == "reject"
            else check_claim_decision_task(
                code=code, decisions=lines, policy=policy, settings=settings
            )
        )
        if not problems:
            break
        record_overruling_task(
            decision_id=decision.decision_id, reason="; ".join(problems), now=clock(now)
        )
        round_no += 1

    decided = decide_claim_task(
        code=code,
        decider=decision.decider,
        outcome=decision.outcome,
        decisions=lines,
        comment=decision.comment,
        now=now,
        settings=settings,
    )
    label_run_task(run_id, f"{activity.run_label} · claim {decided.status}", activity.tags)
    publish_claim(
        activity,
        claim_markdown_task(code=code, settings=settings),
        f"claim approved ¥{decided.total_approved:,.2f}",
    )
    return decided.status
