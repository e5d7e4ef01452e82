"""One-time decision codes: what proves who answers a gate in the Prefect UI, which has no
users. A code is bound to one gate and one person, works for a number of hours and once;
the store keeps an HMAC of it under the signing key, so the table alone gives no code away.

Pure rules: no database, no Prefect. The time, the secret and the limits are parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.calendar import BUSINESS_TZ

CODE_DIGITS = 6
# The start of every refusal for a code that matches none of the person's: counted for the
# lockout, so its wording is part of the rule.
WRONG_CODE = "wrong decision code"


def new_code() -> str:
    """Six random digits: typed from a phone into the Resume form."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(code: str) -> str:
    """`123 456` and `123-456` are `123456` (as read aloud or copied from a message)."""
    return "".join(ch for ch in code if ch not in " -\t")


def code_hash(secret: str, *, gate_id: int, username: str, code: str) -> str:
    """The stored form of a code: bound to its gate and person, so a code never works for
    another gate or another name."""
    message = f"decision-code|{gate_id}|{username}|{normalise_code(code)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """One code issued to the person at the gate (its hash, not the code)."""

    id: int
    code_hash: str
    expires_at: datetime
    used_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


@dataclass(frozen=True)
class CodeCheck:
    """The code row an answer may use (`code_id`), or why it may not (`reason`)."""

    code_id: int | None = None
    reason: str | None = None


def _at(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def check_code(
    issued: list[IssuedCode], *, given: str, given_hash: str, username: str, now: datetime
) -> CodeCheck:
    """Whether `given` (hashed as `given_hash`) is a live code issued to `username` at this
    gate as of `now`; a refusal names what is wrong in one line.

    Codes are sent on request: a refused answer whose person holds no live code gets one
    (the flow sends it), so every refusal that leaves none says a new one is sent."""
    live = [c for c in issued if c.live(now)]
    fresh = "; a new one is sent" if not live else ""
    if not normalise_code(given):
        if live:
            until = _at(max(c.expires_at for c in live))
            return CodeCheck(
                reason=f"no decision code: type the one sent to {username} (it works until {until})"
            )
        return CodeCheck(
            reason=(
                f"no decision code yet: one is sent to {username}; type it in the form "
                "(clubflow decide needs none)"
            )
        )
    match = next((c for c in issued if hmac.compare_digest(c.code_hash, given_hash)), None)
    if match is None:
        return CodeCheck(reason=f"{WRONG_CODE} for {username}{fresh}")
    if match.used_at is not None:
        return CodeCheck(reason=f"decision code already used at {_at(match.used_at)}{fresh}")
    if match.expires_at <= now:
        newer = f"; type the newer one sent to {username}" if live else fresh
        return CodeCheck(reason=f"decision code expired at {_at(match.expires_at)}{newer}")
    return CodeCheck(code_id=match.id)


def code_is_sent(reason: str | None) -> bool:
    """Whether a refusal is one of the above that promises the person a new code (the flow
    then sends it; read from the recorded reason, so a replay of the refusal agrees)."""
    return (
        reason is not None
        and reason.startswith(("no decision code", WRONG_CODE, "decision code"))
        and "one is sent" in reason
    )


def locked_out(*, wrong: int, issued: int, tries_per_code: int) -> bool:
    """After `tries_per_code` wrong codes per code issued to the person at the gate, their
    live codes stop working (a new one is sent): six digits cannot be guessed that way."""
    return wrong >= tries_per_code * max(issued, 1)
