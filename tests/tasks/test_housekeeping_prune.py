"""The daily prune: finished housekeeping runs older than the kept days go; business runs,
recent ones and runs still going stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Completed, Failed, Running

from tasks.housekeeping import prune_housekeeping_runs


@flow(name="prune-test-subject")
def _subject() -> None:
    pass


def test_only_old_finished_housekeeping_runs_are_deleted(prefect_server):
    keep = timedelta(days=2)
    with get_client(sync_client=True) as client:

        def run(tags, state):
            return client.create_flow_run(_subject, tags=tags, state=state).id

        old_done = run(["housekeeping", "for:it"], Completed())
        old_failed = run(["housekeeping", "for:it"], Failed())
        business = run(["activity", "for:regional_specialist"], Completed())
        going = run(["housekeeping", "for:it"], Running())
        # Three days on, the finished ones ended more than two days ago.
        later = datetime.now(UTC) + timedelta(days=3)
        assert prune_housekeeping_runs(client=client, now=later, keep=keep) >= 2
        left = {r.id for r in client.read_flow_runs(limit=200)}
        assert old_done not in left and old_failed not in left
        assert {business, going} <= left

        recent = run(["housekeeping", "for:it"], Completed())
        assert prune_housekeeping_runs(client=client, now=datetime.now(UTC), keep=keep) == 0
        assert recent in {r.id for r in client.read_flow_runs(limit=200)}
