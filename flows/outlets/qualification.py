"""An outlet's three reviews, in order, each a gate: qualification (the region's specialist
checks the business licence, tax registration and organisation code), risk assessment (HQ
finance scores the checklist; the weighted score must reach the pass mark) and contract
review (HQ legal approves the clauses). `revise` returns the review to the parent dealer with
the reason and opens the next round; `reject` ends the cooperation. All three passed: the
outlet is active. A renewal run (after a document was renewed) reviews the qualification
again under its own gate key, and the outlet is active again once it passes.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import BaseModel, Field

from clubflow.core.settings import get_settings
from domain import calendar
from domain.calendar import business_date
from domain.gates import GateKind, GateSpec
from domain.models import Role
from domain.outlets import REVIEWS, risk_problem, risk_result
from flows.gates import ApprovalInput, GateInput, wait_for_decision
from flows.naming import clock, parameter
from tasks.outbox import queue_notifications_task
from tasks.outlets import messages
from tasks.outlets.store import (
    OutletView,
    load_outlet_task,
    record_rejected_task,
    record_review_passed_task,
)


class RiskInput(ApprovalInput):
    """HQ finance's risk checklist: a 0-100 score per item (the items are a setting)."""

    scores: dict[str, float] = Field(
        default_factory=dict,
        description='Scores 0-100, e.g. {"credit": 80, "finance": 70, "business": 65}',
    )


class QualificationRequest(BaseModel):
    outlet: str = Field(description="The outlet's code, e.g. O-CH001-01")
    renewal: int = Field(0, ge=0, description="0: the first qualification; N: renewal N")


def gate_key(review: str, renewal: int) -> str:
    return review if renewal == 0 else f"{review}_renewal{renewal}"


def _describe(view: OutletView, review: str) -> str:
    lines = [
        f"**二网 {view.code} {view.name}** — 上级经销商 {view.dealer_name}（{view.dealer_code}）",
        f"覆盖城市：{'、'.join(view.cities)}　联系人：{view.contact_name} {view.contact_phone}",
        "",
    ]
    if review == "qualification":
        lines += ["| 证照 | 号码 | 链接 | 有效期至 |", "|---|---|---|---|"]
        lines += [f"| {d.kind} | {d.number} | {d.link} | {d.expires_on} |" for d in view.documents]
    return "\n".join(lines)


def _risk_check(answer: GateInput) -> str | None:
    if answer.outcome != "approve":
        return None
    settings = get_settings()
    return risk_problem(
        getattr(answer, "scores", {}),
        weights=settings.outlet_risk_weights,
        pass_mark=settings.outlet_risk_pass_mark,
    )


def _review(view: OutletView, review: str, renewal: int, now: datetime) -> str:
    """Wait at the review's gate round after round until it is approved or rejected."""
    settings = get_settings()
    key = gate_key(review, renewal)
    role, title = REVIEWS[review]
    round_no = 1
    while True:
        due_on = calendar.add_working_days(business_date(now), settings.outlet_review_working_days)
        spec = GateSpec(
            subject_type="outlet",
            subject_id=view.id,
            subject_code=view.code,
            subject_title=view.name,
            key=key,
            round=round_no,
            title=f"二网{title}",
            kind=GateKind.approval,
            owner_role=Role(role),
            owner_region=messages.review_owner_region(review, view),
            due_on=due_on,
            # Overdue reviews escalate to the parent dealer's region's specialist's manager: HQ.
            escalate_to="role:campaign_manager",
        )
        result = wait_for_decision(
            spec,
            description=_describe(view, review),
            input_model=RiskInput if review == "risk" else ApprovalInput,
            run_label=f"outlet {view.code}",
            on_open=[
                messages.review_requested(
                    view, review=review, key=key, round_no=round_no, due_on=due_on
                )
            ],
            check=_risk_check if review == "risk" else None,
            now=now,
        )
        if result.void:
            raise RuntimeError(f"outlet {view.code}: the {key} gate was voided; start again")
        decision = result.decision
        if decision.outcome == "approve":
            score = None
            if review == "risk":
                score = risk_result(
                    decision.payload.get("scores", {}),
                    weights=settings.outlet_risk_weights,
                    pass_mark=settings.outlet_risk_pass_mark,
                ).score
            record_review_passed_task(
                code=view.code, review=review, today=business_date(now), now=now, risk_score=score
            )
            return "approve"
        if decision.outcome == "reject":
            record_rejected_task(code=view.code)
            queue_notifications_task(
                [
                    messages.rejected(
                        view,
                        review=review,
                        key=key,
                        decider=decision.decider,
                        reason=decision.comment,
                    )
                ],
                now,
            )
            return "reject"
        queue_notifications_task(
            [
                messages.review_returned(
                    view,
                    review=review,
                    key=key,
                    round_no=round_no,
                    decider=decision.decider,
                    reason=decision.comment,
                )
            ],
            now,
        )
        round_no += 1


def _outlet_of(request) -> str:
    """The run's outlet code, whether the parameter came as JSON or as the model."""
    return request["outlet"] if isinstance(request, dict) else request.outlet


@flow(
    name="outlet-qualification",
    version="1",
    flow_run_name=lambda: f"outlet {_outlet_of(parameter('request'))}",
    description="A second-tier outlet's qualification, risk and contract reviews (gates).",
    log_prints=False,
)
def outlet_qualification(request: QualificationRequest, now: datetime | None = None) -> dict:
    """Review one outlet; a re-run returns the decisions already taken."""
    now = clock(now)
    view = load_outlet_task(code=request.outlet)
    reviews = ["qualification"] if request.renewal else list(REVIEWS)
    outcomes: dict[str, str] = {}
    for review in reviews:
        outcomes[review] = _review(view, review, request.renewal, now)
        if outcomes[review] == "reject":
            break
    view = load_outlet_task(code=request.outlet)
    if view.status == "active":
        queue_notifications_task([messages.active(view)], now)
    return {"outlet": view.code, "status": view.status, "reviews": outcomes}
