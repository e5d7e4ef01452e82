"""The system-test stage: the real stack started the way a user starts it (`clubflow up`), and
driven only through what users have: the `clubflow` CLI, the Prefect API, the leads inbox
folder, the deployments. Messages are read from the demo inbox's journal file.

The stack's schedules fire on the wall clock; the stage pauses them (what the UI's schedule
toggle does) right after start, so that every run is one the test started with a fixed `now`,
never mixed with a run that reads the clock.

Prefect's server keeps its SQLite file in the data folder, as `make up` does for a user: the
serve process runs at most PREFECT_RUNNER_PROCESS_LIMIT flow runs at once, which keeps its
writers few enough for SQLite. On failure the tails of the console and server logs and the
logs of the stack's failed runs are printed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from system_support import catalog_names

REPO = Path(__file__).resolve().parents[2]
CLUBFLOW_BIN = Path(sys.executable).with_name("clubflow")
START_TIMEOUT = 240.0  # server, migration, seeding and 30 deployments on a busy 2-core machine
RUN_TIMEOUT = 240.0
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def pytest_collection_modifyitems(items) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.system)


def _free_port_pair() -> int:
    """A port p with p + 1 and p + 100 free too (the stack's portal and demo inbox)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 100 > 65535:
            continue
        try:
            for other in (port + 1, port + 100):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", other))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair on 127.0.0.1")


@dataclass
class Stack:
    home: Path  # the stack's cwd: its data lives in home/.clubflow
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    outputs: list[str] = field(default_factory=list)  # every CLI answer, for the masking check

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.port + 1}"

    @property
    def data(self) -> Path:
        return self.home / ".clubflow"

    @property
    def database_url(self) -> str:
        """The project database `up` chose (in its data folder), as a client reads it."""
        return json.loads((self.data / "stack.json").read_text(encoding="utf-8"))["database_url"]

    # -- what a user types --------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(CLUBFLOW_BIN), *args],
            cwd=self.home,
            env={**self.env, "COLUMNS": "240"},  # rich wraps at 80 columns in a pipe
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.outputs.append(done.stdout + done.stderr)  # what it answered, not what was typed
        return done

    # -- the Prefect API ----------------------------------------------------------------
    def start(self, deployment: str, parameters: dict[str, Any] | None = None) -> UUID:
        from prefect.deployments import run_deployment

        run = run_deployment(
            f"{_flow_name(deployment)}/{deployment}", parameters=parameters or {}, timeout=0
        )
        return run.id

    def wait(self, run_ids: list[UUID], *, until_suspended: bool = True, timeout=RUN_TIMEOUT):
        """Wait until each run is final (or Suspended); returns them in the given order."""
        from prefect.client.orchestration import get_client

        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while True:
                runs = [client.read_flow_run(i) for i in run_ids]
                if all(_settled(r, until_suspended) for r in runs):
                    return runs
                if time.monotonic() > deadline:
                    waiting = [(r.name, r.state_name) for r in runs if not _settled(r, True)]
                    raise AssertionError(f"runs not finished in {timeout:.0f}s: {waiting}")
                time.sleep(1)

    def run(self, deployment: str, parameters: dict[str, Any] | None = None):
        [run] = self.wait([self.start(deployment, parameters)])
        return run

    def runs_of(self, deployment: str) -> list:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

        with get_client(sync_client=True) as client:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment]))
            )

    def wait_for_run_of(
        self, deployment: str, known: set[UUID], *, until_settled=True, timeout=RUN_TIMEOUT
    ):
        """The run of `deployment` a CLI command started (one not in `known`), once settled
        (or at once, `until_settled=False`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [r for r in self.runs_of(deployment) if r.id not in known]
            if new and not until_settled:
                return new[0]
            if new:
                return self.wait([new[0].id], timeout=deadline - time.monotonic())[0]
            time.sleep(1)
        raise AssertionError(f"no new run of {deployment} within {timeout:.0f}s")

    def wait_resumed(self, run_id: UUID, previous_state_id: UUID, *, timeout=RUN_TIMEOUT):
        """After `clubflow decide`: wait until the run left the state it was in and settled."""
        from prefect.client.orchestration import get_client

        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                run = client.read_flow_run(run_id)
                if run.state.id != previous_state_id and _settled(run, True):
                    # Suspended again at the next gate, or final.
                    return run
                time.sleep(1)
        raise AssertionError(f"run {run_id} did not settle after the decision")

    # -- the inbox and the store --------------------------------------------------------
    def inbox(self) -> list[dict[str, str]]:
        journal = self.data / "inbox.jsonl"
        if not journal.exists():
            return []
        lines = journal.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def messages_to(self, path: str) -> list[dict[str, str]]:
        return [m for m in self.inbox() if m["path"].strip("/") == path.strip("/")]

    def deliver(self, now: str) -> None:
        """One outbox delivery run (the deployment, on demand) at a chosen business time."""
        run = self.run("deliver-notifications", {"now": now})
        assert run.state_name == "Completed", run.state


def _flow_name(deployment: str) -> str:
    """Deployments are addressed `flow-name/deployment-name`; read the flow's name."""
    return _deployment_flow_names()[deployment]


_FLOW_NAMES: dict[str, str] = {}


def _deployment_flow_names() -> dict[str, str]:
    if not _FLOW_NAMES:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            flows = {f.id: f.name for f in client.read_flows()}
            for d in client.read_deployments():
                _FLOW_NAMES[d.name] = flows[d.flow_id]
    return _FLOW_NAMES


def _settled(run, until_suspended: bool) -> bool:
    if run.state is None:
        return False
    if run.state.type.value in TERMINAL:
        return True
    return until_suspended and run.state.name == "Suspended"


def _stack_env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLUBFLOW_"))}
    data = home / ".clubflow"
    env.update(
        {
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_HOME": str(data / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # The serve process looks for due runs every 10 s by default; 2 s keeps the
            # stage short without changing what runs.
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PREFECT_RUNNER_PROCESS_LIMIT": "3",  # 2 cores: more at once only thrash
            "CLUBFLOW_ENVIRONMENT": "development",
            "CLUBFLOW_LEADS_INBOX_DIR": str(data / "leads" / "inbox"),
            "CLUBFLOW_LEADS_EXPORT_DIR": str(data / "leads" / "exports"),
            "CLUBFLOW_REPORTS_DIR": str(data / "reports"),
            "CLUBFLOW_CAMPAIGN_REPORTS_DIR": str(data / "reports"),
            "CLUBFLOW_PLANS_DIR": str(data / "plans"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _wait_for_output(process: subprocess.Popen, log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise RuntimeError(f"`clubflow up` did not print {text!r} (exit {process.poll()}):\n{tail}")


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C, as a user stops it; bounded, then the whole process group is killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _quiet_schedules(names: list[str], timeout: float = 180.0) -> None:
    """Wait for every deployment, pause their schedules, and let runs already started end."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            served = {d.name: d for d in client.read_deployments()}
            if set(names) <= set(served):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"deployments not served: {sorted(set(names) - set(served))}")
            time.sleep(1)
        for d in served.values():
            client.pause_deployment(d.id)  # also deletes its auto-scheduled runs
        while time.monotonic() < deadline:
            busy = [r for r in client.read_flow_runs() if not _settled(r, True)]
            busy = [r for r in busy if r.state.type.value != "SCHEDULED" or r.run_count]
            if not busy:
                break
            time.sleep(1)
        for run in client.read_flow_runs():  # a scheduled run created before the pause
            if run.state and run.state.type.value == "SCHEDULED":
                client.delete_flow_run(run.id)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    yield from _run_stack(tmp_path_factory.mktemp("stack"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _diagnose_failure(request):
    """On a failed system test: what the stack said, and the logs of its failed runs."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed or "stack" not in request.fixturenames:
        return
    stack = request.getfixturevalue("stack")
    print(_diagnosis(stack), file=sys.stderr)


def _tail(path: Path, chars: int = 3000) -> str:
    if not path.exists():
        return f"({path.name} missing)"
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


def _diagnosis(stack: Stack) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    parts = [
        f"--- up.log (tail)\n{_tail(stack.home / 'up.log')}",
        f"--- server.log (tail)\n{_tail(stack.data / 'server.log')}",
    ]
    try:
        with get_client(sync_client=True) as client:
            bad = [
                r
                for r in client.read_flow_runs()
                if r.state and r.state.type.value in {"FAILED", "CRASHED"}
            ]
            for run in bad[:5]:
                logs = client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
                )
                text = "\n".join(f"{log.level:>2} {log.message}" for log in logs[-40:])
                parts.append(f"--- run {run.name} ({run.state_name}: {run.state.message})\n{text}")
    except Exception as exc:  # diagnostics never hide the failure itself
        parts.append(f"--- runs not readable: {exc!r}")
    return "\n".join(parts)


def _run_stack(home: Path) -> Iterator[Stack]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = _free_port_pair()
    env = _stack_env(home, port)
    print(f"\nsystem stack in {home} on port {port}", file=sys.stderr)
    (home / ".clubflow" / "prefect").mkdir(parents=True)  # PREFECT_HOME exists from the start
    log = home / "up.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [str(CLUBFLOW_BIN), "up", "--port", str(port), "--home", ".clubflow"],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a stuck stack can be killed whole
        )
    try:
        _wait_for_output(process, log, "clubflow is up", START_TIMEOUT)
        with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
            _quiet_schedules(catalog_names())
            # The delivery loop follows the deliver-notifications pause: once it says so, every
            # message is sent by a delivery the test starts, at the test's `now`.
            _wait_for_output(process, home / ".clubflow" / "deliver.log", "delivery paused", 60)
            yield Stack(home=home, port=port, env=env, process=process)
    finally:
        _stop(process)
