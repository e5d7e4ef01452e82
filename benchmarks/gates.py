"""Gates at national scale, on PostgreSQL: the Prefect side of one suspended run per gate.

    uv run python -m benchmarks gates                       # 2,000 clubs, 10,000 gates, 50,000 runs
    uv run python -m benchmarks.gates --clubs 70 --campaigns 2 --sweep-gates 1000 \\
        --history 3000 --decisions 4                        # small

It creates (and drops) its own databases `clubflow_bench_gates` and `prefect_bench_gates` on
127.0.0.1:5432, starts `prefect server start` on them as a subprocess, runs `clubflow deploy`,
and measures, each figure beside a baseline from the same run:

1. open: every club's class B activity proposal (real `activity-lifecycle` deployment) and the
   campaigns (`campaign-pipeline`) run until they suspend at their first gate. Executed
   in-process one after the other, as the serve process / worker executes a run minus the
   process start (measured once on its own). Baseline: as many bare runs of the same
   deployment created and set Suspended through the API.
2. sweep: the hourly gate sweep over `--sweep-gates` open gates (the runs' gates plus rows
   added through the store's own `open_gate`): the first one owes every reminder and
   escalation, the second owes nothing.
3. decide: `clubflow decide` of a specialist's review until the run is suspended at the
   manager's gate, with 1 and then 2 `clubflow worker` processes picking up the resumed runs.
4. resume: a 20-gate benchmark flow (benchmarks/_gate_chain.py); resume time against the
   number of gates already passed (each resume replays from the top).
5. history: the Prefect server's RSS and the runs list (`/flow_runs/filter`, 50 newest by start
   time, and filtered by a tag) with `--history` runs stored; the runs beyond those the
   benchmark made are added through concurrent API calls.

Targets: sweep ≤ 5 s, decide p95 ≤ 5 s, resume growth 1→20 ≤ 2×.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SH = ZoneInfo("Asia/Shanghai")
PG_ADMIN = os.environ.get("CLUBFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROJECT_DB = "clubflow_bench_gates"
PREFECT_DB = "prefect_bench_gates"

PROPOSED = datetime(2026, 9, 21, 10, 0, tzinfo=SH)  # a Monday, three weeks before
STARTS = "2026-10-11"
CAMPAIGN_NOW = datetime(2026, 8, 3, 10, 0, tzinfo=SH)
SWEEP_NOW = datetime(2026, 10, 30, 10, 5, tzinfo=SH)  # every gate overdue, escalation owed
CHAIN_NOW = datetime(2026, 9, 21, 11, 0, tzinfo=SH)

REGION_CODES = ("beijing", "lanzhou", "chengdu", "guangzhou", "nanjing", "jinan", "shenyang")
TARGET_SWEEP_S = 5.0
TARGET_DECIDE_P95_S = 5.0
TARGET_RESUME_GROWTH = 2.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


# ---------------------------------------------------------------- databases and processes


def pg_url(name: str, driver: str = "postgresql") -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql", driver, 1) + f"/{name}"


def recreate_databases() -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in (PROJECT_DB, PREFECT_DB):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases() -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in (PROJECT_DB, PREFECT_DB):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLUBFLOW_"))}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Every process the benchmark starts, stopped (SIGTERM, then SIGKILL) by their ids."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, argv: list[str], *, name: str, env: dict[str, str], cwd: Path):
        cwd.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("a") as out:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append(proc)
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            self.stop(proc)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return total / 1024


def wait_for(what: str, check, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextmanager
def prefect_client_settings(api_url: str):
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW,
        temporary_settings,
    )

    with temporary_settings(
        {
            PREFECT_API_URL: api_url,
            # As the test harness: an in-process run sends no heartbeats (workers do).
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW: "ignore",
        }
    ):
        yield


# ---------------------------------------------------------------- the world and its runs


def proposal(club_code: str, region: str, admin: str) -> dict:
    return {
        "title": f"{club_code} 秋季穿越",
        "activity_class": "B",  # the specialist, then a campaign manager: two gates
        "invited_regions": ["lanzhou", "beijing"],
        "theme": "穿越季",
        "region": region,
        "club": club_code,
        "starts_on": STARTS,
        "ends_on": STARTS,
        "place": "基准场地",
        "expected_participants": 30,
        "budget": [{"item": "场地费", "amount": 1500}],
        "subsidy_requested": 4500,
        "proposed_by": admin,
        "safety_plan": "https://docs.example/safety/bench（火灾、地震、暴雨、断电）",
        "support_vehicle": "川A·救援01",
    }


def campaign_plan(n: int) -> dict:
    return {
        "code": f"2026-bench-{n:02d}",
        "name": f"2026 基准活动 {n}",
        "kind": "ecommerce_festival",
        "launch_date": "2026-09-21",
        "end_date": "2026-09-27",
        "regions": ["chengdu"],
        "summary": "天猫、京东双平台，试驾预约送积分",
        "policy": "到店试驾送 500 积分，订车送全年保养",
        "budget": [{"item": "平台资源位", "amount": 300000}],
        "kpis": [{"name": "线索量", "target": 2000, "unit": "条"}],
        "handbook_url": "https://example.invalid/handbook.pdf",
        "started_by": "hq.manager",
    }


def seed_world(url: str, clubs: int) -> list[tuple[str, str, str]]:
    """Clubs, their admins, the specialists and HQ; returns (club, region, admin) per club."""
    from sqlalchemy import select

    from clubflow.core.db import session_scope
    from clubflow.world import WorldSize, seed_demo_world
    from domain.models import Club, Person, Role

    size = WorldSize(clubs_per_region=math.ceil(clubs / 7), members=0, leads=0)
    with session_scope(url) as session:
        seed_demo_world(session=session, size=size, now=PROPOSED)
        admins = dict(
            session.execute(
                select(Person.club_id, Person.username).where(Person.role == Role.club_admin)
            ).all()
        )
        rows = session.execute(select(Club.id, Club.code, Club.region_code).order_by(Club.id))
        return [(code, region, admins[cid]) for cid, code, region in rows][:clubs]


def deploy(env: dict[str, str], work: Path) -> None:
    done = subprocess.run(
        [str(BIN / "clubflow"), "deploy"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"clubflow deploy failed:\n{done.stdout}\n{done.stderr}")


def execute_in_process(flow, flow_run) -> None:
    """What the serve process's engine does with a run, in this process."""
    from prefect.exceptions import Abort, Pause
    from prefect.flow_engine import run_flow

    try:
        run_flow(flow, flow_run=flow_run)
    except (Pause, Abort):
        pass  # suspended: the state says so
    except Exception as exc:  # noqa: BLE001 - counted below by state
        log(f"run {flow_run.name} failed: {exc}")


def count_paused(api_url: str) -> int:
    body = {"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}
    return httpx.post(f"{api_url}/flow_runs/count", json=body, timeout=60).json()


def baseline_open(api_url: str, work: list[tuple[UUID, dict]], openers: int) -> float:
    """The floor: bare runs of the same deployments created and set Suspended through the API,
    by as many parallel clients as there are openers."""

    def share(items: list[tuple[UUID, dict]]) -> None:
        with httpx.Client(base_url=api_url, timeout=120) as http:
            for deployment_id, parameters in items:
                created = http.post(
                    f"/deployments/{deployment_id}/create_flow_run",
                    json={"parameters": parameters, "tags": ["bench:baseline"]},
                )
                created.raise_for_status()
                suspended = {
                    "type": "PAUSED",
                    "name": "Suspended",
                    "state_details": {"pause_reschedule": True, "pause_key": "baseline"},
                }
                http.post(
                    f"/flow_runs/{created.json()['id']}/set_state",
                    json={"state": suspended, "force": True},
                ).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=openers) as pool:
        list(pool.map(share, [work[i::openers] for i in range(openers)]))
    return time.perf_counter() - started


def execute_runs(work_file: str, times_file: str, deadline: float) -> None:
    """An opener process: create each listed run of its deployment and execute it in-process,
    one after the other, as a serve process's engine does (without starting a process per
    run), until the list or the time (`deadline`, wall clock) ends; write each one's seconds."""
    import json

    from prefect.client.orchestration import get_client

    from deployments.catalog import load_catalog

    specs = {s.name: s for s in load_catalog()}
    flows = {}
    times = []
    with get_client(sync_client=True) as client:
        for line in Path(work_file).read_text().splitlines():
            if time.time() > deadline:
                break
            name, deployment_id, parameters = json.loads(line)
            if name not in flows:
                flows[name] = specs[name].load_flow()
            t0 = time.perf_counter()
            run = client.create_flow_run_from_deployment(UUID(deployment_id), parameters=parameters)
            execute_in_process(flows[name], run)
            times.append(time.perf_counter() - t0)
            Path(times_file).write_text("\n".join(f"{t:.4f}" for t in times))


def open_gates(
    api_url: str,
    deployments: dict,
    work_items: list[tuple[str, dict]],
    args,
    work: Path,
) -> tuple[float, list[float]]:
    """`args.openers` processes create the runs and execute them in-process until each
    suspends (the wall time includes those processes' start, a few seconds), within
    `args.open_budget_s` seconds when given."""
    import json

    started = time.perf_counter()
    env = clean_env(
        PREFECT_API_URL=api_url,
        CLUBFLOW_DATABASE_URL=os.environ["CLUBFLOW_DATABASE_URL"],
        PREFECT_HOME=os.environ["BENCH_PREFECT_HOME"],
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
        PYTHONPATH=str(ROOT),
    )
    deadline = time.time() + (args.open_budget_s or 10**9)
    children = []
    for i in range(args.openers):
        todo, out = work / f"open-{i}.jsonl", work / f"open-{i}.times"
        todo.write_text(
            "\n".join(
                json.dumps([name, str(deployments[name][0]), p], ensure_ascii=False)
                for name, p in work_items[i :: args.openers]
            )
        )
        code = (
            "from benchmarks.gates import execute_runs; "
            f"execute_runs({str(todo)!r}, {str(out)!r}, {deadline})"
        )
        log_file = (work / "logs" / f"opener-{i}.log").open("w")
        children.append(
            (subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                              stdout=log_file, stderr=subprocess.STDOUT), out)
        )  # fmt: skip
    each = []
    for child, out in children:
        child.wait(timeout=7200)
        each += [float(t) for t in out.read_text().split()] if out.exists() else []
    return time.perf_counter() - started, each


def engine_subprocess_s(api_url: str, flow_run_id: UUID) -> float:
    """One run executed as `python -m prefect.engine`, as the serve process starts it."""
    env = clean_env(
        PREFECT_API_URL=api_url,
        PREFECT__FLOW_RUN_ID=str(flow_run_id),
        PYTHONPATH=str(ROOT),
        CLUBFLOW_DATABASE_URL=os.environ["CLUBFLOW_DATABASE_URL"],
        PREFECT_HOME=os.environ.get("BENCH_PREFECT_HOME", ""),
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "prefect.engine"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        log(done.stdout[-2000:] + done.stderr[-2000:])
    return seconds


# ---------------------------------------------------------------- the sweep


def seed_open_gates(url: str, total: int) -> int:
    """Add open gates through the store's `open_gate` until `total` are open."""
    from sqlalchemy import func, select

    from clubflow.core.db import session_scope
    from domain.gates import GateKind, GateSpec
    from domain.models import Gate, GateStatus, Role
    from domain.regions import REGIONS
    from tasks.gates.store import open_gate

    with session_scope(url) as session:
        have = session.execute(
            select(func.count()).select_from(Gate).where(Gate.status == GateStatus.open)
        ).scalar_one()
        for i in range(max(total - have, 0)):
            region = REGIONS[i % len(REGIONS)].code
            open_gate(
                session=session,
                spec=GateSpec(
                    subject_type="bench",
                    subject_id=100_000 + i,
                    subject_code=f"S{i:05d}",
                    subject_title=f"基准审核 {i}",
                    key="review",
                    title="基准审核",
                    kind=GateKind.approval,
                    owner_role=Role.regional_specialist,
                    owner_region=region,
                    due_on=date(2026, 10, 9),
                ),
                now=PROPOSED,
            )
        return session.execute(
            select(func.count()).select_from(Gate).where(Gate.status == GateStatus.open)
        ).scalar_one()


def time_sweeps() -> tuple[float, float, dict]:
    from flows.sweep import sweep

    t0 = time.perf_counter()
    first = sweep(now=SWEEP_NOW)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep(now=SWEEP_NOW + timedelta(hours=1))
    return first_s, time.perf_counter() - t0, first


# ---------------------------------------------------------------- decisions through workers


def open_reviews(url: str, limit: int) -> list[tuple[str, str, str]]:
    """(activity code, region, run id) of open specialist reviews."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT g.subject_code, g.owner_region, g.flow_run_id FROM gate g"
            " WHERE g.subject_type = 'activity' AND g.key = 'specialist_review'"
            " AND g.status = 'open' ORDER BY g.id LIMIT %s",
            (limit,),
        ).fetchall()
    return [(code, region, run_id) for code, region, run_id in rows]


def decide_once(api_url: str, env: dict[str, str], work: Path, review) -> tuple[float, float]:
    """`clubflow decide` until the run waits at the manager's gate: (latency, the CLI's own)."""
    code, region, run_id = review
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "clubflow"), "decide", f"activity:{code}", "specialist_review", "approve",
         "--as", f"specialist.{region}"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    cli_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"decide {code}: {done.stdout}{done.stderr}")

    def at_next_gate():
        run = httpx.get(f"{api_url}/flow_runs/{run_id}", timeout=30).json()
        state = (run.get("state") or {}).get("type")
        if state in ("FAILED", "CRASHED"):
            raise RuntimeError(f"run {run['name']} {state}")
        return state == "PAUSED" and run["name"].endswith("· manager_review")

    wait_for(f"{code} at manager_review", at_next_gate, timeout=300, every=0.1)
    return time.perf_counter() - started, cli_s


def decide_with_workers(
    procs: Processes, api_url: str, reviews, n_workers: int, machine_env, work: Path, *, warm: bool
) -> tuple[list[float], list[float]]:
    start = "warm" if warm else "cold"
    names = [f"bench-w{n_workers}-{start}-{i}" for i in range(1, n_workers + 1)]
    workers = [
        procs.start(
            [str(BIN / "clubflow"), "worker", "--name", name, "--warm" if warm else "--no-warm"],
            name=name,
            env={**machine_env, "PREFECT_WORKER_QUERY_SECONDS": "1"},
            cwd=work / name,
        )
        for name in names
    ]

    def online():
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            found = client.read_workers_for_work_pool("clubflow")
        return {w.name for w in found if str(w.status).upper().endswith("ONLINE")} >= set(names)

    wait_for(f"{n_workers} worker(s) online", online, timeout=180)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # two deciders at a time
            results = list(pool.map(lambda r: decide_once(api_url, machine_env, work, r), reviews))
    finally:
        for proc in workers:
            procs.stop(proc)
    return [r[0] for r in results], [r[1] for r in results]


# ---------------------------------------------------------------- resume against gates passed


def resume_curve(chains: int, api_url: str) -> tuple[list[float], float, float]:
    """Resume time after decision k (1..20) of a 20-gate run, the fastest of `chains` runs;
    the chain's opening time in-process and as an engine subprocess."""
    from prefect.client.orchestration import get_client

    from benchmarks._gate_chain import CHAIN_GATES, gate_chain
    from tasks.gates.decisions import decide

    deployment_id = gate_chain.to_deployment(name="bench-gate-chain").apply()
    curves: list[list[float]] = []
    open_s = []
    with get_client(sync_client=True) as client:
        for c in range(chains + 1):
            code = f"CHAIN-{c}"
            run = client.create_flow_run_from_deployment(
                deployment_id,
                parameters={
                    "subject_id": 900_000 + c,
                    "code": code,
                    "due_on": "2026-10-09",
                    "now": CHAIN_NOW.isoformat(),
                },
            )
            if c == chains:  # the last one opens as a subprocess: the process start
                return (
                    [min(times) for times in zip(*curves, strict=True)],
                    statistics.median(open_s),
                    engine_subprocess_s(api_url, run.id),
                )
            t0 = time.perf_counter()
            execute_in_process(gate_chain, client.read_flow_run(run.id))
            open_s.append(time.perf_counter() - t0)
            curve = []
            for k in range(1, CHAIN_GATES + 1):
                decide(
                    f"bench:{code}",
                    f"step_{k:02d}",
                    decider="specialist.chengdu",
                    outcome="approve",
                    now=CHAIN_NOW,
                )
                t0 = time.perf_counter()
                execute_in_process(gate_chain, client.read_flow_run(run.id))
                curve.append(time.perf_counter() - t0)
            curves.append(curve)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- the runs list with history


def list_latencies_ms(api_url: str, rounds: int = 20) -> tuple[float, float]:
    """p95 of the UI's runs list: the 50 newest by start time, and the same for one tag."""
    newest = {"limit": 50, "sort": "START_TIME_DESC"}
    tagged = {**newest, "flow_runs": {"tags": {"all_": ["region:chengdu"]}}}
    out = []
    with httpx.Client(timeout=60) as http:
        for body in (newest, tagged):
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                http.post(f"{api_url}/flow_runs/filter", json=body).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            out.append(p95(times))
    return out[0], out[1]


def count_runs(api_url: str) -> int:
    return httpx.post(f"{api_url}/flow_runs/count", json={}, timeout=60).json()


async def _add_history(api_url: str, n: int, concurrency: int = 16) -> None:
    """`n` finished runs of a flow, through concurrent API calls (no bulk-create endpoint)."""
    regions = REGION_CODES
    async with httpx.AsyncClient(base_url=api_url, timeout=120) as http:
        flow_id = (await http.post("/flows/", json={"name": "bench-history"})).json()["id"]
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                body = {
                    "flow_id": flow_id,
                    "name": f"history {i}",
                    "tags": [f"region:{regions[i % len(regions)]}", "bench:history"],
                    "state": {"type": "COMPLETED", "name": "Completed"},
                }
                (await http.post("/flow_runs/", json=body)).raise_for_status()

        await asyncio.gather(*(one(i) for i in range(n)))


def copy_history(n: int) -> float:
    """`n` more finished runs written straight into Prefect's `flow_run` table in one
    INSERT ... SELECT (copies of a run the API made, spread over the past year, tagged by
    region): the API has no bulk create, and one POST at a time would take most of an hour
    here. Returns the seconds it took."""
    regions = ", ".join(f"'region:{r}'" for r in REGION_CODES)
    with psycopg.connect(pg_url(PREFECT_DB)) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = 'flow_run'"
            ).fetchall()
        )
        at = "now() - g * interval '10 minutes'"
        overrides = {
            "id": "gen_random_uuid()",
            "name": "'history ' || g",
            "tags": f"json_build_array((ARRAY[{regions}])[1 + mod(g, {len(REGION_CODES)})],"
            f" 'bench:history')::{types['tags']}",
            "idempotency_key": "NULL",
            "created": at,
            "updated": at,
            "expected_start_time": at,
            "start_time": at,
            "state_timestamp": f"{at} + interval '1 minute'",
            "end_time": f"{at} + interval '1 minute'",
        }
        columns = list(types)
        exprs = [overrides.get(c, f"t.{c}") for c in columns]
        t0 = time.perf_counter()
        conn.execute(
            f"INSERT INTO flow_run ({', '.join(columns)}) SELECT {', '.join(exprs)}"
            " FROM (SELECT * FROM flow_run WHERE name LIKE 'history %%' LIMIT 1) t,"
            " generate_series(1, %s) g",
            (n,),
        )
        conn.commit()
        conn.execute("ANALYZE flow_run")
        return time.perf_counter() - t0


def prefect_table_rows() -> dict[str, int]:
    with psycopg.connect(pg_url(PREFECT_DB)) as conn:
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("flow_run", "task_run", "events", "log", "artifact")
        }


# ---------------------------------------------------------------- the whole benchmark


def run(args, work: Path) -> list[str]:
    logs = work / "logs"
    logs.mkdir()
    procs = Processes(logs)
    recreate_databases()
    try:
        return _run(args, work, procs)
    finally:
        procs.stop_all()
        drop_databases()


def _run(args, work: Path, procs: Processes) -> list[str]:
    from clubflow.core.db import migrate
    from clubflow.core.settings import get_settings

    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server = procs.start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        name="server",
        env=clean_env(
            PREFECT_HOME=str(work / "server-home"),
            PREFECT_SERVER_DATABASE_CONNECTION_URL=pg_url(PREFECT_DB, "postgresql+asyncpg"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            # Only the runs the benchmark starts (the schedules would add their own).
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        ),
        cwd=work / "server",
    )

    def healthy():
        if server.poll() is not None:
            raise RuntimeError((work / "logs" / "server.log").read_text()[-3000:])
        try:
            return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for("the Prefect server", healthy, timeout=180)
    url = pg_url(PROJECT_DB)
    os.environ["CLUBFLOW_DATABASE_URL"] = url
    os.environ["BENCH_PREFECT_HOME"] = str(work / "client-home")
    get_settings.cache_clear()
    machine_env = clean_env(
        PREFECT_API_URL=api_url, CLUBFLOW_DATABASE_URL=url, PREFECT_HOME=str(work / "client-home")
    )
    migrate(url)
    clubs = seed_world(url, args.clubs)
    log(f"seeded {len(clubs)} clubs; clubflow deploy ...")
    deploy(machine_env, work)
    lines = []
    with prefect_client_settings(api_url):
        lines += _measure(args, work, procs, server, api_url, url, clubs, machine_env)
    return lines


def _measure(args, work, procs, server, api_url, url, clubs, machine_env) -> list[str]:
    from prefect.client.orchestration import get_client

    from clubflow.core.db import session_scope
    from clubflow.world import inbox_channels
    from deployments.catalog import load_catalog

    with session_scope(url) as session:
        inbox_channels(session=session, inbox_url="json://127.0.0.1:9").save(
            "default", overwrite=True
        )
    specs = {s.name: s for s in load_catalog()}
    deployments = {}
    with get_client(sync_client=True) as client:
        for name in ("activity-lifecycle", "campaign-pipeline"):
            deployments[name] = (
                client.read_deployment_by_name(f"{name}/{name}").id,
                specs[name].load_flow(),
            )
    # The campaigns first, so that a time budget still opens them.
    work_items = [
        ("campaign-pipeline", {"plan": campaign_plan(n), "now": CAMPAIGN_NOW.isoformat()})
        for n in range(1, args.campaigns + 1)
    ] + [
        ("activity-lifecycle", {"proposal": proposal(*c), "now": PROPOSED.isoformat()})
        for c in clubs
    ]
    n = len(work_items)

    # 1. open
    log(f"opening {n} gates in-process ...")
    open_s, each = open_gates(api_url, deployments, work_items, args, work)
    executed = max(len(each), 1)
    log(f"baseline: {executed} bare runs set Suspended through the API ...")
    base_s = baseline_open(
        api_url, [(deployments[name][0], p) for name, p in work_items[:executed]], args.openers
    )
    with psycopg.connect(url) as conn:
        opened = conn.execute("SELECT count(*) FROM gate WHERE status = 'open'").fetchone()[0]
    paused = count_paused(api_url) - executed  # the baseline's bare runs are Paused too
    print(
        f"baseline: {executed} bare runs created and set Suspended through the API {base_s:.2f} s",
        flush=True,
    )
    if executed < n:
        print(f"open budget {args.open_budget_s:g} s: {executed} of {n} runs executed")
    # The baseline made as many runs as were opened, with as many parallel clients.
    lines = [
        f"gates_open suspended={paused} gates_open={opened} open_s={open_s:.1f} "
        f"per_run_s={statistics.median(each):.3f} baseline_s={base_s:.1f} "
        f"ratio={open_s / base_s:.1f} openers={args.openers}"
    ]
    print(lines[-1], flush=True)

    # 3. decisions through real workers (before the sweep's extra gates). The baseline: the
    # same decisions with the warm start off, each run a new `python -m prefect.engine`.
    configs = ((1, False), (1, True), (2, True))
    reviews = open_reviews(url, len(configs) * args.decisions)
    decide_p95 = 0.0
    for i, (n_workers, warm) in enumerate(configs):
        batch = reviews[i * args.decisions : (i + 1) * args.decisions]
        start = "warm" if warm else "cold"
        log(f"{len(batch)} decisions with {n_workers} worker(s), {start} start ...")
        latencies, cli = decide_with_workers(
            procs, api_url, batch, n_workers, machine_env, work, warm=warm
        )
        lines.append(
            f"gates_decide workers={n_workers} start={start} decisions={len(latencies)} "
            f"p50_s={statistics.median(latencies):.2f} p95_s={p95(latencies):.2f} "
            f"cli_p50_s={statistics.median(cli):.2f}" + ("" if warm else " (baseline)")
        )
        print(lines[-1], flush=True)
        if warm:
            decide_p95 = max(decide_p95, p95(latencies))

    # 4. resume against gates passed
    log("resume curve ...")
    curve, chain_open_s, engine_s = resume_curve(args.chains, api_url)
    print(
        "resume after gate k (in-process, s): "
        + " ".join(f"{k}:{t:.3f}" for k, t in enumerate(curve, 1)),
        flush=True,
    )
    growth = curve[-1] / curve[0]
    lines.append(
        f"gates_resume gates={len(curve)} resume_1_s={curve[0]:.3f} resume_20_s={curve[-1]:.3f} "
        f"growth_1_to_20={growth:.2f} process_start_s={engine_s - chain_open_s:.2f}"
    )
    print(lines[-1], flush=True)

    # 2. the sweep
    log(f"seeding open gates up to {args.sweep_gates} ...")
    open_total = seed_open_gates(url, args.sweep_gates)
    first_s, second_s, first = time_sweeps()
    lines.append(
        f"gates_sweep open_gates={open_total} first_s={first_s:.2f} "
        f"ladder_notifications={first['ladder']} second_s={second_s:.2f}"
    )
    print(lines[-1], flush=True)

    # 5. the runs list with history
    base_runs = count_runs(api_url)
    base_rss = tree_rss_mb(server.pid)
    base_list, base_tag = list_latencies_ms(api_url)
    print(
        f"baseline: runs list with {base_runs} runs p95_ms={base_list:.0f} "
        f"tag_p95_ms={base_tag:.0f} rss_mb={base_rss:.0f}",
        flush=True,
    )
    add = max(args.history - base_runs, 0)
    by_api = min(add, args.history_by_api)
    log(f"adding {add} runs of history ({by_api} through the API) ...")
    t0 = time.perf_counter()
    asyncio.run(_add_history(api_url, by_api))
    api_s = time.perf_counter() - t0
    copy_s = copy_history(add - by_api) if add > by_api else 0.0
    how = (
        f"{by_api} through 16 concurrent POST /flow_runs/ in {api_s:.1f} s "
        f"({by_api / max(api_s, 1e-9):.0f}/s), {add - by_api} copied in SQL in {copy_s:.1f} s"
    )
    runs = count_runs(api_url)
    list_ms, tag_ms = list_latencies_ms(api_url)
    rss = tree_rss_mb(server.pid)
    rows = prefect_table_rows()
    print(
        f"history: {add} runs added ({how}); Prefect tables: "
        + " ".join(f"{k}={v}" for k, v in rows.items()),
        flush=True,
    )
    lines.append(
        f"prefect_server rss_mb={rss:.0f} runs={runs} runs_list_p95_ms={list_ms:.0f} "
        f"tag_list_p95_ms={tag_ms:.0f} baseline_runs={base_runs} baseline_p95_ms={base_list:.0f}"
    )
    print(lines[-1], flush=True)
    lines.append(
        f"gates suspended={paused} open_s={open_s:.1f} sweep_10k_s={first_s:.2f} "
        f"decide_p95_s={decide_p95:.2f} resume_growth_1_to_20={growth:.2f}"
    )
    lines += [
        verdict(f"sweep over {open_total} open gates <= {TARGET_SWEEP_S:g} s", first_s,
                TARGET_SWEEP_S),
        verdict(f"decide p95 <= {TARGET_DECIDE_P95_S:g} s", decide_p95, TARGET_DECIDE_P95_S),
        verdict(f"resume growth 1->20 <= {TARGET_RESUME_GROWTH:g}x", growth,
                TARGET_RESUME_GROWTH),
    ]  # fmt: skip
    return lines


def verdict(what: str, value: float, target: float) -> str:
    return f"{'PASS' if value <= target else 'FAIL'} {what}: {value:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.gates")
    parser.add_argument("--clubs", type=int, default=2000, help="one activity proposal each")
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--sweep-gates", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=50_000, help="runs in Prefect's history")
    parser.add_argument(
        "--history-by-api", type=int, default=1000, help="of those, made through the API"
    )
    parser.add_argument("--decisions", type=int, default=20, help="per worker count (1, 2)")
    parser.add_argument("--openers", type=int, default=2, help="processes opening the gates")
    parser.add_argument(
        "--open-budget-s", type=float, default=0, help="stop opening after this long (0: never)"
    )
    parser.add_argument("--chains", type=int, default=2, help="20-gate runs for the curve")
    args = parser.parse_args(argv if argv is not None else [])
    print(
        f"targets: sweep <= {TARGET_SWEEP_S:g} s, decide p95 <= {TARGET_DECIDE_P95_S:g} s, "
        f"resume growth 1->20 <= {TARGET_RESUME_GROWTH:g}x",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="gates-bench-") as tmp:
        lines = run(args, Path(tmp))
    for line in lines:
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
