"""A gate's page: what is decided and what the decider needs to see, who decided what so
far (refusals too), and the form that decides it as the signed-in person."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.subjects import gate_facts
from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.gates import OUTCOMES, GateView, OutcomeError
from domain.models import Decision, GateStatus
from tasks.gates.store import check_decider, read_gate

router = APIRouter()


def _gate(request: Request, session: Session, viewer: Viewer, gate_id: int, action: str):
    try:
        gate = read_gate(session=session, gate_id=gate_id)
    except LookupError:
        gate = None
    facts = gate_facts(session=session, gate=gate) if gate else None
    may_decide = (
        gate is not None
        and check_decider(session=session, gate=gate, username=viewer.username or "") is None
    )
    may_see = may_decide or (
        gate is not None
        and not viewer.is_member
        and (viewer.is_hq or (facts.region_code and viewer.sees_region(facts.region_code)))
    )
    require(
        request,
        session,
        viewer,
        bool(may_see),
        action=action,
        subject=f"gate:{gate_id}",
        reason=f"{viewer.actor} 不能查看或决定此审批 (may not see gate #{gate_id})",
    )
    return gate, facts, may_decide


def _history(session: Session, gate_id: int) -> list[Decision]:
    return list(
        session.execute(
            select(Decision).where(Decision.gate_id == gate_id).order_by(Decision.id)
        ).scalars()
    )


def _page(request, session, gate: GateView, facts, may_decide: bool, **extra):
    return render(
        request,
        "gate.html",
        gate=gate,
        facts=facts,
        may_decide=may_decide and gate.status == GateStatus.open,
        # HQ's quarter confirmation takes one answer: approve, with any changes beside it.
        outcomes=("approve",) if gate.key == "quarter_confirm" else OUTCOMES.get(gate.kind, ()),
        history=_history(session, gate.id),
        claim_lines=facts.table if gate.key == "claim_approval" else [],
        risk_items=_risk_items(request, gate),
        **({"error": "", "notice": ""} | extra),
    )


@router.get("/gates/{gate_id}")
def gate_page(
    gate_id: int,
    request: Request,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    gate, facts, may_decide = _gate(request, session, viewer, gate_id, "gate.view")
    return _page(request, session, gate, facts, may_decide)


@router.post("/gates/{gate_id}/decide")
def decide_gate(
    gate_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.gates.decisions import DecisionRefused, GateRunError, decide

    gate, facts, may_decide = _gate(request, session, viewer, gate_id, "gate.decide")
    subject = f"{gate.subject_type}:{gate.subject_code}"
    outcome = str(form.get("outcome", ""))
    comment = str(form.get("comment", "")).strip()
    extra = {}
    if gate.key == "claim_approval":
        extra["lines"] = _claim_lines(form)
    if gate.key == "quarter_confirm":  # a changed host or dates (the flow checks the reason)
        for name in ("host_region", "crossing_starts_on", "crossing_ends_on"):
            if str(form.get(name, "")).strip():
                extra[name] = str(form[name]).strip()
    if _risk_items(request, gate) and outcome == "approve":
        refused = _refused_scores(request, session, viewer, gate, form)
        if refused is not None:
            audit(request, session, viewer, "gate.decide", subject, outcome="refused",
                  detail=refused)  # fmt: skip
            session.commit()
            return _page(request, session, gate, facts, may_decide, error=refused)
        extra["scores"] = _scores(form, _risk_items(request, gate))[0]
    try:
        decide(
            subject,
            gate.key,
            decider=viewer.username or viewer.actor,
            outcome=outcome,
            comment=comment,
            extra=extra or None,
            now=portal(request).now(),
        )
    except DecisionRefused as exc:
        audit(request, session, viewer, "gate.decide", subject, outcome="refused", detail=str(exc))
        return _page(request, session, gate, facts, False, error=str(exc))
    except (LookupError, OutcomeError, GateRunError, ValueError) as exc:
        audit(request, session, viewer, "gate.decide", subject, outcome="failed", detail=str(exc))
        return _page(request, session, gate, facts, may_decide, error=str(exc))
    audit(request, session, viewer, "gate.decide", subject, detail=f"{gate.key}: {outcome}")
    session.expire_all()
    gate = read_gate(session=session, gate_id=gate_id)
    return _page(
        request, session, gate, facts, may_decide, notice=f"已提交：{outcome}，流程继续执行"
    )


def _risk_items(request: Request, gate: GateView) -> dict[str, float]:
    """An outlet's risk assessment takes a 0-100 score per checklist item (item → weight)."""
    if gate.subject_type == "outlet" and gate.key == "risk":
        return portal(request).settings.outlet_risk_weights
    return {}


def _scores(form: dict, items: dict[str, float]) -> tuple[dict[str, float], list[str]]:
    from tasks.outlets.risk import parse_scores

    typed = {item: str(form.get(f"score-{item}", "")).strip() for item in items}
    return parse_scores({k: v for k, v in typed.items() if v})


def _refused_scores(request, session, viewer: Viewer, gate: GateView, form: dict) -> str | None:
    """Why these scores are refused (recorded on the gate and in the refusals), or None: the
    decider is told at once, as the CLI tells them, instead of "sent"."""
    from tasks.outlets.risk import refuse_risk_scores

    scores, bad = _scores(form, _risk_items(request, gate))
    if bad:
        return f"评分不是数字：{', '.join(bad)} (scores must be numbers)"
    p = portal(request)
    problem = refuse_risk_scores(
        session=session,
        code=gate.subject_code,
        decider=viewer.username or viewer.actor,
        scores=scores,
        now=p.now(),
        settings=p.settings,
    )
    return f"已拒绝：{problem}" if problem else None


def _claim_lines(form: dict) -> list[dict]:
    """Amounts the specialist changed, line by line (`line-<n>`; blank keeps the proposal)."""
    lines = []
    for key, value in form.items():
        if key.startswith("line-") and str(value).strip():
            try:
                amount = float(str(value).strip())
            except ValueError as exc:
                raise OutcomeError(f"第 {key[5:]} 行金额 {value!r} 不是数字") from exc
            lines.append(
                {
                    "line_no": int(key[5:]),
                    "amount": amount,
                    "comment": str(form.get(f"note-{key[5:]}", "")).strip(),
                }
            )
    return lines


@router.post("/gates/{gate_id}/code")
def send_code(
    gate_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    """A decision code for the Prefect UI's form, sent to the signed-in decider's channel."""
    from tasks.gates.code_sending import send_decision_code

    gate, facts, may_decide = _gate(request, session, viewer, gate_id, "gate.code")
    p = portal(request)
    require(
        request,
        session,
        viewer,
        may_decide,
        action="gate.code",
        subject=f"gate:{gate_id}",
        reason=f"{viewer.actor} 不能决定此审批，无决定码 (may not decide gate #{gate_id})",
    )
    from tasks.gates.code_sending import run_link

    sent = send_decision_code(
        session=session,
        gate_id=gate_id,
        username=viewer.username,
        now=p.now(),
        settings=p.settings,
        run_url=run_link(gate.flow_run_id),
        replace=True,
    )
    audit(request, session, viewer, "gate.code", f"gate:{gate_id}", detail="sent" if sent else "")
    session.commit()
    if not sent:
        return _page(request, session, gate, facts, may_decide, error="此审批已不在等待决定")
    p.deliver()
    return _page(
        request,
        session,
        gate,
        facts,
        may_decide,
        notice="新的决定码已发送到您的消息渠道（此前的已失效）；在 Prefect 界面的决定表单中填写",
    )
