"""The yearly tier review: the only time a tier may fall."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import task

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from tasks.members.ledger import recompute_members


@dataclass
class ReviewReport:
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)


@task(name="review-member-tiers", retries=2, retry_delay_seconds=5)
def review_tiers_task(now: datetime) -> ReviewReport:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
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
