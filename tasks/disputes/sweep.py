"""The disputes sweep's task: escalate every overdue step once per level."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings
from tasks.disputes.cases import escalate_overdue_disputes


@task(
    name="escalate-overdue-disputes", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE
)
def escalate_overdue_disputes_task(*, now: datetime, settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return escalate_overdue_disputes(session=session, now=now, settings=settings)
