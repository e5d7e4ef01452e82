"""HQ finance's risk scores checked before they reach the run: a checklist that misses an
item or scores below the pass mark is refused at once (recorded on the gate's history and in
the refusals), so the CLI and the portal tell the decider the truth instead of "sent"."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.outlets import risk_problem
from tasks.audit import record_refusal
from tasks.gates.store import check_decider, find_open_gate, record_decision

RISK_GATE = "risk"


def parse_scores(values: dict[str, str]) -> tuple[dict[str, float], list[str]]:
    """ITEM → score from typed text; the items that are not numbers, by name."""
    scores: dict[str, float] = {}
    bad: list[str] = []
    for item, text in values.items():
        try:
            scores[item.strip()] = float(str(text).strip())
        except ValueError:
            bad.append(item)
    return scores, bad


def refuse_risk_scores(
    *,
    session: Session,
    code: str,
    decider: str,
    scores: dict[str, float],
    now: datetime,
    settings: Settings,
) -> str | None:
    """Why approving outlet `code`'s open risk review with `scores` is refused (and recorded),
    or None. A decider who may not decide it is left to `decide`, which refuses them."""
    problem = risk_problem(
        scores, weights=settings.outlet_risk_weights, pass_mark=settings.outlet_risk_pass_mark
    )
    if problem is None:
        return None
    gate = find_open_gate(session=session, subject=f"outlet:{code}", key=RISK_GATE)
    if check_decider(session=session, gate=gate, username=decider) is not None:
        return None
    record_decision(
        session=session,
        gate_id=gate.id,
        decider=decider,
        outcome="approve",
        now=now,
        settings=settings,
        payload={"scores": scores},
        problem=problem,
    )
    record_refusal(
        session=session,
        action="outlet.risk",
        subject=f"outlet:{code}",
        actor=decider,
        reason=problem,
        now=now,
        details={"scores": scores},
    )
    return problem
