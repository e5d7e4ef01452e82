"""The rewards catalogue in the store: HQ adds and updates rewards; everyone lists them.

A reward is keyed by its code: saving the same row twice changes nothing. Only the campaign
manager changes the catalogue; a refusal is recorded and returned, for the caller to commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.models_rewards import Reward
from domain.rewards import RewardTerms, manage_refusal, terms_problem
from tasks.audit import actor_of, record_refusal


@dataclass(frozen=True)
class SaveOutcome:
    reward: Reward | None
    created: bool = False
    changed: bool = False
    refused: str | None = None


FIELDS = (
    "name",
    "kind",
    "points",
    "stock",
    "valid_from",
    "valid_to",
    "voucher_days",
    "refund_on_expiry",
)


def save_reward(
    *, session: Session, terms: RewardTerms, by: str, now: datetime, settings: Settings
) -> SaveOutcome:
    """Add the reward `terms.code`, or bring the stored one to `terms` (and back in the
    catalogue if it was withdrawn)."""
    reason = manage_refusal(actor_of(session=session, username=by), username=by)
    if reason is None:
        problem = terms_problem(terms, max_points=settings.rewards_max_points)
        reason = f"reward {terms.code}: {problem}" if problem else None
    if reason is not None:
        record_refusal(
            session=session,
            action="reward.save",
            subject=f"reward:{terms.code}"[:128],
            actor=by,
            reason=reason,
            now=now,
        )
        return SaveOutcome(None, refused=reason)
    reward = session.execute(select(Reward).where(Reward.code == terms.code)).scalar_one_or_none()
    created = reward is None
    if created:
        reward = Reward(code=terms.code, **{f: getattr(terms, f) for f in FIELDS})
    changed = created or not reward.active
    for name in FIELDS:
        if getattr(reward, name) != getattr(terms, name):
            setattr(reward, name, getattr(terms, name))
            changed = True
    if changed:
        reward.active = True
        reward.updated_by = by
        reward.updated_at = now
        session.add(reward)
        session.flush()
    return SaveOutcome(reward, created=created, changed=changed)


def withdraw_reward(*, session: Session, code: str, by: str, now: datetime) -> SaveOutcome:
    """Take a reward out of the catalogue (issued vouchers stay valid)."""
    reason = manage_refusal(actor_of(session=session, username=by), username=by)
    reward = session.execute(select(Reward).where(Reward.code == code)).scalar_one_or_none()
    if reason is None and reward is None:
        reason = f"no reward {code!r}"
    if reason is not None:
        record_refusal(
            session=session,
            action="reward.withdraw",
            subject=f"reward:{code}"[:128],
            actor=by,
            reason=reason,
            now=now,
        )
        return SaveOutcome(None, refused=reason)
    changed = reward.active
    if changed:
        reward.active = False
        reward.updated_by = by
        reward.updated_at = now
        session.add(reward)
        session.flush()
    return SaveOutcome(reward, changed=changed)


def list_rewards(*, session: Session, on: date | None = None) -> list[Reward]:
    """The catalogue by code; with `on`, only what can be redeemed that business day."""
    query = select(Reward).order_by(Reward.code)
    if on is not None:
        query = query.where(Reward.active.is_(True), Reward.valid_from <= on, Reward.valid_to >= on)
    return list(session.execute(query).scalars())
