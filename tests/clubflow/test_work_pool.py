"""The `clubflow` work pool: its runs start with the project's launcher, `clubflow-run`."""

from __future__ import annotations

import io

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.workers.process import ProcessWorker
from rich.console import Console

from clubflow.deploy import RUN_COMMAND, WORK_POOL, ensure_work_pool


def _command_default() -> str | None:
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool(WORK_POOL)
    return pool.base_job_template["variables"]["properties"]["command"]["default"]


def test_a_pool_made_before_the_launcher_gets_it_and_keeps_the_rest(prefect_server):
    template = ProcessWorker.get_default_base_job_template()
    template["variables"]["properties"]["env"]["default"] = {"KEPT": "yes"}
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name=WORK_POOL, type="process", base_job_template=template)
        )
    try:
        out = io.StringIO()
        ensure_work_pool(Console(file=out, width=200))
        assert f"its runs now start {RUN_COMMAND}" in out.getvalue()
        assert _command_default() == "clubflow-run"
        with get_client(sync_client=True) as client:
            pool = client.read_work_pool(WORK_POOL)
        assert pool.base_job_template["variables"]["properties"]["env"]["default"] == {
            "KEPT": "yes"
        }

        again = io.StringIO()
        ensure_work_pool(Console(file=again, width=200))
        assert f"work pool {WORK_POOL!r} exists: kept" in again.getvalue()
    finally:
        with get_client(sync_client=True) as client:
            client.delete_work_pool(WORK_POOL)
