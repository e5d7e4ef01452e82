"""The server turns prefect.yaml's schedules into runs at the right business times.

This is what `clubflow up` relies on: a scheduler that cannot insert runs (as with an
incompatible SQLAlchemy) leaves every scheduled deployment silent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

from deployments.catalog import load_catalog

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECS = {s.name: s for s in load_catalog()}


def _scheduled_starts(name: str) -> list[datetime]:
    spec = SPECS[name]
    deployment_id = (
        spec.load_flow()
        .to_deployment(name=spec.name, schedules=spec.prefect_schedules(), tags=list(spec.tags))
        .apply()
    )
    with get_client(sync_client=True) as client:
        response = client._client.post(
            f"/deployments/{deployment_id}/schedule",
            json={"min_runs": 3, "max_runs": 3, "min_time": timedelta(days=3).total_seconds()},
        )
        response.raise_for_status()
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    return sorted(r.expected_start_time.astimezone(SHANGHAI) for r in runs)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("members-birthdays", lambda t: (t.hour, t.minute) == (9, 0)),  # 09:00 in Shanghai
        ("gate-sweep", lambda t: t.minute == 5),
        ("leads-weekly-revisit", lambda t: (t.weekday(), t.hour) == (0, 9)),  # Monday 09:00
    ],
)
def test_scheduled_deployments_get_runs_at_their_business_times(prefect_server, name, check):
    starts = _scheduled_starts(name)
    assert len(starts) >= 3, f"{name}: the server scheduled {len(starts)} runs"
    assert all(check(t) for t in starts), [t.isoformat() for t in starts]
