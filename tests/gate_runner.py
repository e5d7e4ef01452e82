"""Run deployments under the test harness, so flows can suspend at gates (suspend needs a
deployment run) and be resumed as in production.

    runner = GateRunner(["campaign-pipeline"])          # registers them on the test server
    run_id = runner.start("campaign-pipeline", {"plan": {...}})
    runner.run_pending()          # executes every due run of those deployments until it
                                  # completes, fails or suspends
    decide("campaign:X", "plan_review", decider=..., outcome="approve", now=NOW)  # resumes
    runner.run_pending()          # the resumed run goes on to the next gate

Each execution is what `prefect.engine` does in the serve process: the flow is loaded from the
deployment's entrypoint and run with the run's parameters. In-process (default) is fast
(~0.1 s per run) and lets a test monkeypatch a task to simulate a crash; `in_process=False`
starts `python -m prefect.engine` as a subprocess, exactly as `flow.serve`/the Runner does
(~3 s per run), to prove the real path.

Runs are executed one at a time, in the order they became due; nothing sleeps or polls in the
background, so tests are deterministic.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.exceptions import Abort, Pause
from prefect.settings import PREFECT_API_URL

from deployments.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
DRILL_HOOKS = Path(__file__).resolve().parent / "drill_hooks"


class DrillError(RuntimeError):
    """The child did not reach its kill point (its output is in the message)."""


class GateRunner:
    def __init__(self, names: Iterable[str], *, flows: dict[str, Flow] | None = None) -> None:
        """Register the prefect.yaml deployments `names`, and `flows` (name → flow object,
        for flows that exist only in tests; those run in-process only)."""
        specs = {s.name: s for s in load_catalog()}
        self.flows: dict[UUID, Flow] = {}
        self.deployment_ids: dict[str, UUID] = {}
        entries = [(name, specs[name].load_flow(), specs[name]) for name in names]
        entries += [(name, flow, None) for name, flow in (flows or {}).items()]
        for name, flow, spec in entries:
            deployment_id = flow.to_deployment(
                name=name,
                tags=list(spec.tags) if spec else [],
                parameters=(spec.parameters or None) if spec else None,
            ).apply()
            self.flows[deployment_id] = flow
            self.deployment_ids[name] = deployment_id
        self.executed: list[UUID] = []

    def start(
        self, name: str, parameters: dict[str, Any], *, tags: list[str] | None = None
    ) -> UUID:
        """Create a run of deployment `name` (not yet executed)."""
        flow = self.flows[self.deployment_ids[name]]
        run = run_deployment(
            f"{flow.name}/{name}", parameters=parameters, timeout=0, tags=tags or []
        )
        return run.id

    def reset(self) -> None:
        """Delete every run of these deployments (a test starts from none)."""
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=list(self.deployment_ids.values()))
                ),
                limit=200,
            )
            for run in runs:
                client.delete_flow_run(run.id)
        self.executed.clear()

    def due_runs(self) -> list[FlowRun]:
        with get_client(sync_client=True) as client:
            return client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING])
                    )
                ),
                deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=list(self.deployment_ids.values()))
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            )

    def run_pending(self, *, in_process: bool = True, limit: int = 20) -> list[FlowRun]:
        """Execute due runs until none is left; returns the runs as they ended."""
        ended = []
        for _ in range(limit):
            runs = self.due_runs()
            if not runs:
                return ended
            ended.append(self.execute(runs[0].id, in_process=in_process))
        raise RuntimeError(f"still runs due after {limit} executions: a flow loops")

    def execute(self, flow_run_id: UUID, *, in_process: bool = True) -> FlowRun:
        self.executed.append(flow_run_id)
        if in_process:
            self._execute_in_process(flow_run_id)
        else:
            self._execute_in_subprocess(flow_run_id)
        return self.read(flow_run_id)

    def _execute_in_process(self, flow_run_id: UUID) -> None:
        from prefect.flow_engine import run_flow

        run = self.read(flow_run_id)
        flow = self.flows[run.deployment_id]
        try:
            run_flow(flow, flow_run=run)
        except (Pause, Abort):
            pass  # suspended (or aborted by the orchestrator): the state says which
        except Exception:  # noqa: BLE001 - the run's state records the failure
            pass

    @staticmethod
    def _engine_env(flow_run_id: UUID) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PREFECT__FLOW_RUN_ID=str(flow_run_id),
            PREFECT_API_URL=str(PREFECT_API_URL.value()),
            PYTHONPATH=str(ROOT),
        )
        return env

    def execute_until_killed(
        self, flow_run_id: UUID, *, at: str, heartbeats: bool = True, timeout: float = 180
    ) -> FlowRun:
        """Start `python -m prefect.engine` for the run as the serve process does, let it reach
        kill point `at` (tests/drill_hooks/sitecustomize.py), then SIGKILL it. With
        `heartbeats` the child sends flow-run heartbeats every 30 s, as production processes
        do, and a run killed while Running is killed only once its first heartbeat is stored.
        Returns the run as the killed process left it."""
        self.executed.append(flow_run_id)
        marker = Path(tempfile.mkdtemp(prefix="drill-")) / "reached"
        env = self._engine_env(flow_run_id)
        env.update(
            PYTHONPATH=os.pathsep.join([str(ROOT), str(DRILL_HOOKS)]),
            CLUBFLOW_DRILL_KILL_AT=at,
            CLUBFLOW_DRILL_MARKER=str(marker),
        )
        if heartbeats:
            env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = "30"
        log = marker.with_name("output.log")
        with log.open("wb") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "prefect.engine"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + timeout
            while not marker.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    child.kill()
                    child.wait()
                    raise DrillError(
                        f"run {flow_run_id} never reached {at!r}:\n"
                        + log.read_text(errors="replace")[-3000:]
                    )
                time.sleep(0.1)
            if heartbeats and self.read(flow_run_id).state.name == "Running":
                self.wait_for_heartbeat(flow_run_id, deadline=deadline)
            child.send_signal(signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL, child.returncode
        return self.read(flow_run_id)

    @staticmethod
    def last_heartbeat(flow_run_id: UUID) -> datetime | None:
        from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

        with get_client(sync_client=True) as client:
            page = client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
                    resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
                ),
                limit=1,
            )
        return max((e.occurred for e in page.events), default=None)

    def wait_for_heartbeat(self, flow_run_id: UUID, *, deadline: float) -> datetime:
        """The server stores events in batches: wait (not sleep-and-assert) until it has one."""
        while True:
            beat = self.last_heartbeat(flow_run_id)
            if beat is not None:
                return beat
            if time.monotonic() > deadline:
                raise DrillError(f"run {flow_run_id}: no heartbeat stored")
            time.sleep(0.25)

    def _execute_in_subprocess(self, flow_run_id: UUID) -> None:
        env = self._engine_env(flow_run_id)
        subprocess.run(
            [sys.executable, "-m", "prefect.engine"],
            cwd=ROOT,
            env=env,
            check=False,
            timeout=180,
            capture_output=True,
        )

    @staticmethod
    def read(flow_run_id: UUID) -> FlowRun:
        with get_client(sync_client=True) as client:
            return client.read_flow_run(flow_run_id)
