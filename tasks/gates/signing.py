"""The signature of an accepted sign-off: an edited audit row no longer matches it."""

from __future__ import annotations

import hashlib
import hmac

from clubflow.core.settings import Settings


def sign(settings: Settings, *, gate_id: int, decider: str, outcome: str, plan_hash: str) -> str:
    """HMAC over what was signed: the gate, who, the outcome and the plan's hash."""
    message = f"{gate_id}|{decider}|{outcome}|{plan_hash}".encode()
    key = settings.signing_key.get_secret_value().encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
