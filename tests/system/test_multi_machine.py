"""The multi-machine installation exactly as the README gives it, on PostgreSQL.

A Prefect server whose database is PostgreSQL, the project database on PostgreSQL, one
`clubflow deploy`, and two `clubflow worker` processes started outside the project folder (the
pull step must find the project by itself). A gated flow suspends, is decided through
`clubflow decide` and reaches its next gate in a run forked by a worker's warm start; a
scheduled deployment (the outbox) runs on a worker and delivers to a loopback inbox. Every
process is bounded in time and stopped in teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

from clubflow.inbox import start_sink

pytestmark = pytest.mark.system

PG_ADMIN = os.environ.get("CLUBFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent
CODE = "C-CH001-20261011"
PROPOSAL = {
    "title": "雨林穿越 秋季站",
    "activity_class": "B",  # the specialist, then a campaign manager
    "invited_regions": ["lanzhou", "beijing"],
    "theme": "穿越季",
    "region": "chengdu",
    "club": "C-CH001",
    "starts_on": "2026-10-11",
    "ends_on": "2026-10-11",
    "place": "四川雅安",
    "expected_participants": 30,
    "budget": [{"item": "场地费", "amount": 1500}],
    "subsidy_requested": 4500,
    "proposed_by": "admin.ch001",
    "safety_plan": "https://docs.example/safety/CH001-20261011（火灾、地震、暴雨、断电）",
    "support_vehicle": "川A·救援01",
}
PROPOSED = "2026-09-21T10:00:00+08:00"  # a Monday, three weeks ahead


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def clean_env(**extra: str) -> dict[str, str]:
    """This test process's environment without its Prefect/clubflow settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLUBFLOW_"))}
    return {**env, **extra}


@pytest.fixture
def pg_databases():
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            pass
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN} is required under CI=true")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:10]
    names = [f"prefect_sys_{suffix}", f"clubflow_sys_{suffix}"]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield {
        "prefect": base.replace("postgresql://", "postgresql+asyncpg://") + f"/{names[0]}",
        "project": f"{base}/{names[1]}",
    }
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []

    def start(argv, *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
        cwd.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in reversed(started):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _run_state(client, run_id):
    run = client.read_flow_run(run_id)
    return run, (run.state.name if run.state else None)


def test_deploy_and_two_workers_on_postgresql(tmp_path, pg_databases, processes):
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    logs = tmp_path / "logs"
    logs.mkdir()

    # The Prefect server, its database on PostgreSQL. Its scheduler is off so that the only
    # runs are the ones this test starts (scheduling itself is tested in tests/deployments).
    server_env = clean_env(
        PREFECT_HOME=str(tmp_path / "server-home"),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=pg_databases["prefect"],
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
    )
    server = processes(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path / "server",
        env=server_env,
        log=logs / "server.log",
    )

    def healthy():
        assert server.poll() is None, (logs / "server.log").read_text()[-3000:]
        try:
            return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for("the Prefect server", healthy, timeout=180)

    sink, sink_server = start_sink()
    try:
        machine_env = clean_env(
            PREFECT_API_URL=api_url,
            CLUBFLOW_DATABASE_URL=pg_databases["project"],
            PREFECT_HOME=str(tmp_path / "client-home"),
        )
        # One command sets everything up; run from outside the project folder too.
        elsewhere = tmp_path / "operator"
        elsewhere.mkdir()
        deploy = subprocess.run(
            [str(BIN / "clubflow"), "deploy", "--demo", "--demo-inbox", sink.base],
            cwd=elsewhere,
            env=machine_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "work pool 'clubflow' created (process, runs start clubflow-run)" in deploy.stdout
        assert "channels block clubflow-notification-channels/default created" in deploy.stdout

        # Deploying again keeps what exists (the channels block above all).
        again = subprocess.run(
            [str(BIN / "clubflow"), "deploy"],
            cwd=elsewhere,
            env=machine_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert "channels block clubflow-notification-channels/default exists: kept" in (
            again.stdout
        )

        # Two workers, each in its own folder that is not the project.
        for n in (1, 2):
            processes(
                [str(BIN / "clubflow"), "worker", "--name", f"worker-{n}"],
                cwd=tmp_path / f"worker-{n}",
                env=machine_env,
                log=logs / f"worker-{n}.log",
            )

        with temporary_settings({PREFECT_API_URL: api_url}):
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("activity-lifecycle/activity-lifecycle")
                assert deployment.pull_steps == [{"deployments.steps.prepare_run": {}}]
                assert deployment.path is None
                wait_for(
                    "two workers online",
                    lambda: len(client.read_workers_for_work_pool("clubflow")) == 2,
                    timeout=120,
                )

                run = run_deployment(
                    "activity-lifecycle/activity-lifecycle",
                    parameters={"proposal": PROPOSAL, "now": PROPOSED},
                    timeout=0,
                )

                def suspended_at(gate_key: str):
                    current, state = _run_state(client, run.id)
                    assert state not in ("Failed", "Crashed"), _worker_logs(logs)
                    return state == "Suspended" and current.name.endswith(f"· {gate_key}")

                wait_for("the specialist's gate", lambda: suspended_at("specialist_review"), 240)

                decide = subprocess.run(
                    [str(BIN / "clubflow"), "decide", f"activity:{CODE}", "specialist_review",
                     "approve", "--as", "specialist.chengdu"],
                    cwd=elsewhere, env=machine_env, capture_output=True, text=True, timeout=300,
                )  # fmt: skip
                assert decide.returncode == 0, decide.stdout + decide.stderr
                wait_for("the manager's gate", lambda: suspended_at("manager_review"), 240)
                # Every execution of the run was forked by a warm-start server, none cold.
                everything = "".join(p.read_text() for p in logs.glob("worker-*.log"))
                assert f"flow run {run.id} forked as pid" in everything, _worker_logs(logs)
                assert "starting the run cold" not in everything

                # A scheduled deployment, run now with an explicit business time.
                outbox = run_deployment(
                    "deliver-notifications/deliver-notifications",
                    parameters={"now": "2026-09-21T10:30:00+08:00"},
                    timeout=0,
                )

                def outbox_done():
                    _, state = _run_state(client, outbox.id)
                    assert state not in ("Failed", "Crashed"), _worker_logs(logs)
                    return state == "Completed"

                wait_for("the outbox run", outbox_done, 240)
                ran_on = {
                    r.infrastructure_pid is not None
                    for r in (client.read_flow_run(run.id), client.read_flow_run(outbox.id))
                }
                assert ran_on == {True}  # both ran as worker processes

        # The rows are in the project's PostgreSQL database.
        engine = create_engine(
            pg_databases["project"].replace("postgresql://", "postgresql+psycopg://")
        )
        try:
            with engine.connect() as conn:
                gates = conn.execute(
                    text("SELECT key, status FROM gate WHERE subject_code = :c ORDER BY id"),
                    {"c": CODE},
                ).all()
                activity = conn.execute(
                    text("SELECT status FROM activity WHERE code = :c"), {"c": CODE}
                ).scalar_one()
                sent = conn.execute(
                    text("SELECT count(*) FROM notification WHERE status = 'sent'")
                ).scalar_one()
        finally:
            engine.dispose()
        assert [(g.key, g.status) for g in gates] == [
            ("specialist_review", "decided"),
            ("manager_review", "open"),
        ]
        assert activity == "in_review"
        assert sent >= 1 and len(sink.messages) == sent
    finally:
        sink_server.shutdown()


def _worker_logs(logs: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(logs.glob("worker-*.log"))
    )
