"""Tier privileges in the store: seed the defaults once, list them, HQ sets a value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.models_tiers import TierPrivilege
from domain.tiers import DEFAULT_PRIVILEGES, MULTIPLIER_CODE, TIERS, TierError, privilege_refusal
from tasks.audit import actor_of


@dataclass(frozen=True)
class PrivilegeLine:
    tier: str
    code: str
    name: str
    value: str
    editable: bool = True


def seed_privileges(*, session: Session) -> int:
    """Insert the default privileges that are not there yet (an edited value is kept)."""
    rows = [{"tier": t, "code": c, "name": n, "value": v} for t, c, n, v in DEFAULT_PRIVILEGES]
    return len(insert_ignoring_conflicts(session, TierPrivilege, rows, on=["tier", "code"]))


def list_privileges(
    *, session: Session, settings: Settings, tier: str | None = None
) -> list[PrivilegeLine]:
    """Every privilege by tier; the points multiplier comes from settings (read-only)."""
    seed_privileges(session=session)
    stored = session.execute(select(TierPrivilege).order_by(TierPrivilege.id)).scalars().all()
    lines = []
    for name in TIERS if tier is None else (tier,):
        lines.extend(
            PrivilegeLine(p.tier, p.code, p.name, p.value) for p in stored if p.tier == name
        )
        multiplier = settings.tier_points_multiplier.get(name, 1.0)
        lines.append(PrivilegeLine(name, MULTIPLIER_CODE, "积分倍率", f"{multiplier:g}", False))
    return lines


def set_privilege(
    *, session: Session, tier: str, code: str, value: str, by: str, now: datetime
) -> TierPrivilege:
    """HQ sets one privilege's value; anyone else is refused (TierError)."""
    reason = privilege_refusal(actor_of(session=session, username=by), username=by)
    if reason is None and code == MULTIPLIER_CODE:
        reason = "the points multiplier is the setting tier_points_multiplier, not a privilege row"
    privilege = None
    if reason is None:
        seed_privileges(session=session)
        privilege = session.execute(
            select(TierPrivilege).where(TierPrivilege.tier == tier, TierPrivilege.code == code)
        ).scalar_one_or_none()
        if privilege is None:
            reason = f"no privilege {code!r} for tier {tier!r}"
    if reason is not None:
        raise TierError(reason)  # the caller records the refusal in its own transaction
    privilege.value = value
    privilege.updated_by = by
    privilege.updated_at = now
    session.add(privilege)
    return privilege
