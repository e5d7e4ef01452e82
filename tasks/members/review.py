"""The yearly tier review: the only time a tier may fall."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from clubflow.core.settings import Settings
from tasks.common import data_task
from tasks.members.ledger import recompute_members


@dataclass
class ReviewReport:
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)


def review_tiers(*, session: Session, now: datetime, settings: Settings) -> ReviewReport:
    """Recompute every member with tiers following the numbers down too; who rose, who fell."""
    changes = recompute_members(
        session=session, member_ids=None, now=now, review=True, settings=settings
    )
    report = ReviewReport()
    for change in changes:
        if change.tier_rose:
            report.up.append(change.member_no)
        elif change.tier != change.old_tier:
            report.down.append(change.member_no)
    return report


review_tiers_task = data_task(review_tiers, retries=2, retry_delay_seconds=5)
