"""Decision codes in the store: mint one (for a person asking, or for `clubflow decide`),
check the code an answer carries, and use it up. Sending one is tasks/gates/code_sending.py,
apart: `clubflow decide` mints its codes here without importing Prefect or the outbox.

The Prefect UI's Resume form has no signed-in user: the decider types their username and
the code sent to them through their own channel, and the flow accepts the answer only with
a live code issued to that name at that gate (domain/decision_codes.py has the rules).
Codes are sent on request, not to everyone a gate could ask: the first answer given in the
form without one is refused and gets the code sent, so people who decide with
`clubflow decide` (or the portal) receive nothing extra.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.decision_codes import (
    WRONG_CODE,
    CodeCheck,
    IssuedCode,
    check_code,
    code_hash,
    locked_out,
    new_code,
)
from domain.models import Decision, DecisionCode
from tasks.common import run_logger


def _secret(settings: Settings) -> str:
    return settings.signing_key.get_secret_value()


def codes_of(*, session: Session, gate_id: int, username: str) -> list[DecisionCode]:
    """Every code issued to `username` at the gate, oldest first."""
    return list(
        session.execute(
            select(DecisionCode)
            .where(DecisionCode.gate_id == gate_id, DecisionCode.username == username)
            .order_by(DecisionCode.id)
        ).scalars()
    )


def live_codes(codes: list[DecisionCode], now: datetime) -> list[DecisionCode]:
    """The codes that still work at `now` (not used, not expired or withdrawn)."""
    return [c for c in codes if c.used_at is None and c.expires_at > now]


def issue_code(
    *, session: Session, gate_id: int, username: str, now: datetime, settings: Settings
) -> tuple[DecisionCode, str]:
    """A new code for `username` at the gate: its row (hash only) and the code itself."""
    code = new_code()
    row = DecisionCode(
        gate_id=gate_id,
        username=username,
        code_hash=code_hash(_secret(settings), gate_id=gate_id, username=username, code=code),
        sent_at=now,
        expires_at=now + timedelta(hours=settings.decision_code_hours),
    )
    session.add(row)
    session.flush()
    return row, code


def check_decision_code(
    *,
    session: Session,
    gate_id: int,
    username: str,
    code: str,
    now: datetime,
    settings: Settings,
) -> CodeCheck:
    """Whether the answer's `code` is a live code of `username` at the gate. The wrong codes
    typed for a name are counted: past `decision_code_tries` per code sent, that name's live
    codes stop working (and the flow sends a new one)."""
    codes = codes_of(session=session, gate_id=gate_id, username=username)
    result = check_code(
        [IssuedCode(c.id, c.code_hash, c.expires_at, c.used_at) for c in codes],
        given=code,
        given_hash=code_hash(_secret(settings), gate_id=gate_id, username=username, code=code),
        username=username,
        now=now,
    )
    if result.reason is None or not result.reason.startswith(WRONG_CODE):
        return result
    wrong = (
        1
        + session.execute(
            select(func.count())
            .select_from(Decision)
            .where(
                Decision.gate_id == gate_id,
                Decision.decider == username,
                Decision.accepted.is_(False),
                Decision.refusal_reason.like(f"{WRONG_CODE}%"),
            )
        ).scalar_one()
    )
    live = live_codes(codes, now)
    if live and locked_out(
        wrong=wrong, issued=len(codes), tries_per_code=settings.decision_code_tries
    ):
        for row in live:
            row.expires_at = now
        session.flush()
        run_logger("gates").warning(
            "gate #%s: %s wrong decision codes for %s: their code is withdrawn",
            gate_id,
            wrong,
            username,
        )
        return CodeCheck(
            reason=(
                f"{result.reason} ({wrong} wrong: the code sent to {username} no longer works; "
                "a new one is sent)"
            )
        )
    return result


def use_code(*, session: Session, code_id: int, now: datetime) -> bool:
    """Mark a code used (once): False when it was used meanwhile."""
    return (
        session.execute(
            update(DecisionCode)
            .where(DecisionCode.id == code_id, DecisionCode.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        == 1
    )
