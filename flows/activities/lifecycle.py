"""One activity from proposal to approval: register, review by class (each step a suspended
gate), then approve: the dated steps are derived and the warm-up is scheduled, sent at once,
sent late with a warning, or the activity is cancelled."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain import calendar
from domain.activities import ActivityProposal, review_chain
from domain.gates import GateSpec
from domain.safety import approval_refusal
from flows.activities.naming import proposal_run_name
from flows.gates import ApprovalInput, current_flow_run_id, wait_for_decision
from flows.naming import clock
from tasks.activities.store import (
    ActivityView,
    approve_activity_task,
    mark_in_review_task,
    publish_upcoming_steps,
    record_review_outcome_task,
    register_proposal_task,
    review_due_on,
    review_requests,
)
from tasks.gates.runs import label_run_task


def review_description(activity: ActivityView, step_title: str) -> str:
    late = (
        "\n\n**迟报**：已错过预热窗口；批准即接受迟报，预热通知将立即发出并提醒组织者。"
        if activity.late
        else ""
    )
    # What the reviewer weighs: every budget line, their total and the subsidy asked for.
    total = sum(float(line.get("amount", 0)) for line in activity.budget)
    lines = "".join(
        f"| {line.get('item', '')} | ¥{float(line.get('amount', 0)):,.2f} |\n"
        for line in activity.budget
    )
    budget = (
        f"\n\n**预算明细**\n\n| 项目 | 金额 |\n|---|---|\n{lines}| **合计** | ¥{total:,.2f} |"
        if activity.budget
        else "\n\n**预算明细**：未填写"
    )
    return (
        f"### {step_title}：{activity.region_zh} {activity.title}\n\n"
        f"| | |\n|---|---|\n| 编号 | {activity.code} |\n| 等级 | {activity.klass} |\n"
        f"| 时间 | {activity.starts_on} 至 {activity.ends_on} |\n| 地点 | {activity.place} |\n"
        f"| 预计人数 | {activity.expected_participants} |\n| 提报人 | {activity.proposed_by} |\n"
        f"| 申请补贴 | ¥{activity.subsidy_requested:,.2f} |"
        f"{budget}{late}\n\napprove, revise (send back with comments) or reject (with the reason)."
    )


def safety_check(activity: ActivityView):
    """An approval without the safety plan (B/C) or a crossing's support vehicle is refused."""

    def check(answer) -> str | None:
        return approval_refusal(
            outcome=str(answer.outcome),
            klass=str(activity.klass),
            theme=activity.theme,
            title=activity.title,
            safety_plan=activity.safety_plan,
            support_vehicle=activity.support_vehicle,
        )

    return check


@flow(
    name="activity-lifecycle",
    flow_run_name=proposal_run_name("proposal"),
    log_prints=False,
    version="1",
)
def activity_lifecycle(proposal: ActivityProposal, now: datetime | None = None) -> str:
    """Register the proposal and take it through its class's review; returns the status."""
    settings = get_settings()
    now = clock(now)
    activity = register_proposal_task(proposal=proposal, now=now, settings=settings)
    run_id = current_flow_run_id()
    label_run_task(run_id, f"{activity.run_label} · proposal", activity.tags)

    today = calendar.business_date(now)
    for step in review_chain(activity.klass, activity.region_code):
        activity = mark_in_review_task(code=activity.code, settings=settings)
        review = wait_for_decision(
            GateSpec(
                subject_type="activity",
                subject_id=activity.id,
                subject_code=activity.code,
                subject_title=activity.title,
                key=step.key,
                round=activity.review_round,
                title=step.title,
                owner_role=step.role,
                owner_region=step.region,
                due_on=review_due_on(today=today, starts_on=activity.starts_on, settings=settings),
            ),
            description=review_description(activity, step.title),
            input_model=ApprovalInput,
            run_label=activity.run_label,
            tags=activity.tags,
            on_open=review_requests(activity, step_key=step.key, settings=settings, now=now),
            check=safety_check(activity),
            now=now,
        )
        if review.void:
            return "void"
        if review.outcome != "approve":
            activity = record_review_outcome_task(
                code=activity.code,
                step_key=step.key,
                outcome=review.outcome,
                decider=review.decision.decider,
                comment=review.decision.comment,
                now=now,
                settings=settings,
            )
            label_run_task(run_id, f"{activity.run_label} · {activity.status}", activity.tags)
            return activity.status

    activity, plan = approve_activity_task(code=activity.code, now=now, settings=settings)
    label_run_task(run_id, f"{activity.run_label} · {plan.action}", activity.tags)
    publish_upcoming_steps(activity, plan)
    return activity.status
