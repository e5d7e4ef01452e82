"""Keep the runs list readable: finished runs of housekeeping deployments are deleted after a
few days (business runs are kept: they are what a specialist looks for).

Prefect 3.9's own retention (`PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED=flow_runs` with
`..._DB_VACUUM_RETENTION_PERIOD`) deletes every old top-level run alike, an activity's or a
campaign's too; it stays off, and this sweep deletes only runs tagged `housekeeping`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import task
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterEndTime,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType

from clubflow.core.settings import Settings, get_settings
from tasks.common import run_logger

HOUSEKEEPING_TAG = "housekeeping"
FINISHED = [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
PAGE = 200


def prune_housekeeping_runs(
    *, client: SyncPrefectClient, now: datetime, keep: timedelta, tag: str = HOUSEKEEPING_TAG
) -> int:
    """Delete the finished flow runs tagged `tag` that ended before `now - keep`; how many."""
    run_filter = FlowRunFilter(
        tags=FlowRunFilterTags(all_=[tag]),
        state=dict(type=FlowRunFilterStateType(any_=FINISHED)),
        end_time=FlowRunFilterEndTime(before_=now - keep),
    )
    deleted = 0
    while True:
        runs = client.read_flow_runs(flow_run_filter=run_filter, limit=PAGE)
        for run in runs:
            client.delete_flow_run(run.id)
        deleted += len(runs)
        if len(runs) < PAGE:
            return deleted


@task(name="delete-old-housekeeping-runs")
def prune_housekeeping_runs_task(now: datetime, settings: Settings | None = None) -> int:
    """Delete housekeeping runs older than `housekeeping_runs_keep_days`."""
    settings = settings or get_settings()
    keep = timedelta(days=settings.housekeeping_runs_keep_days)
    with get_client(sync_client=True) as client:
        deleted = prune_housekeeping_runs(client=client, now=now, keep=keep)
    run_logger("housekeeping").info(
        "deleted %s finished housekeeping runs older than %s days",
        deleted,
        settings.housekeeping_runs_keep_days,
    )
    return deleted
