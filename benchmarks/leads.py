"""Lead intake at scale: one GBK file of 20,000, 200,000 and 1,000,000 leads, each against
200,000 existing ones, end to end through the intake flow, beside a raw sqlite3 executemany
of the same rows; then (with the first size) the sweep over 100,000 open calls.

Each size's raw_sqlite_s is that executemany into the project's real `lead` table (fresh
migrated SQLite file, same indexes, the columns the intake fills): what storing these rows in
this schema costs at the least. Its baseline line also gives the older, looser floor (a bare
seven-column table with one index) and both ratios. The file and both floors are streamed, so
the benchmark's own memory stays flat too.

The intake flow runs in a process of its own (spawned, on this benchmark's Prefect server), as
a worker runs a flow run: its peak_rss_mb (getrusage's ru_maxrss of that process) is the
intake's, not the seeding's. The last line, leads_linearity, gives the seconds per 1,000 leads
at each size and the largest over the smallest (1.0: time grows exactly with the leads).

    uv run python -m benchmarks.leads                      # all three sizes, SQLite
    uv run python -m benchmarks.leads --sizes 20000,200000 # the ratio sizes only
    uv run python -m benchmarks.leads --leads 20000        # one size
    uv run python -m benchmarks.leads --postgres           # PostgreSQL on 127.0.0.1:5432

Targets: ratio ≤ 5 at 20,000 and 200,000, task_runs ≤ 20, peak RSS ≤ 300 MB at every size,
time linear in the leads, sweep ≤ 3 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks._server import bench_server

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 29, 17, 0, tzinfo=SH)  # a Tuesday, within the service hours
SWEEP_AT = datetime(2026, 9, 30, 10, 0, tzinfo=SH)  # the next working day
EXISTING = 200_000
EXISTING_OPEN = 81_400  # + the intake's 18,600 new leads = 100,000 open calls to sweep
AGENTS = 140
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _phone(n: int) -> str:
    return f"13{n:09d}"


def make_csv(leads: int, cities: list[str], path: Path) -> None:
    """GBK, as exported by Excel on Chinese Windows; 2% duplicates inside the file and 5% of
    the phones already open in the store (both merge). Written as it is made: a million
    rows must not be what sets the benchmark's memory."""
    rng = random.Random(6)
    with path.open("w", encoding="gbk", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["姓名", "电话", "意向车型", "城市", "来源", "留资时间"])
        for i in range(leads):
            if i % 50 == 49:
                n = 500_000_000 + i - 1  # the row before, again
            elif i % 20 == 7:
                n = 100_000_000 + i  # an existing open lead (seeded below with this number)
            else:
                n = 500_000_000 + i
            writer.writerow(
                [
                    f"客户{i}",
                    _phone(n),
                    "越野SUV",
                    cities[i % len(cities)],
                    rng.choice(["汽车之家", "懂车帝", "易车", "官网"]),
                    (NOW - timedelta(minutes=rng.randint(0, 600))).strftime("%Y-%m-%d %H:%M"),
                ]
            )


def seed_people(url: str, leads: int) -> tuple[list[int], list[str], dict[str, str]]:
    """The demo world's regions and dealers, and AGENTS call agents: (agent ids, cities,
    city → region)."""
    from sqlalchemy import select

    from clubflow.core.db import insert_ignoring_conflicts, session_scope
    from clubflow.world import WorldSize, seed_demo_world
    from domain.models import Dealer, Person, Role

    with session_scope(url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=3, members=0, leads=0))
        insert_ignoring_conflicts(
            session,
            Person,
            [
                {
                    "username": f"bench.agent{n:03d}",
                    "name": f"客服{n}",
                    "role": Role.call_agent,
                    "daily_capacity": max(leads // AGENTS + 50, 150),
                    "in_rotation": True,
                    "active": True,
                }
                for n in range(AGENTS)
            ],
            on=["username"],
        )
        agent_ids = list(
            session.execute(select(Person.id).where(Person.role == Role.call_agent)).scalars()
        )
        cities = sorted(set(session.execute(select(Dealer.city)).scalars()))
        region = dict(session.execute(select(Dealer.city, Dealer.region_code)).all())
    return agent_ids, cities, region


def seed(url: str, leads: int) -> list[str]:
    """The people, and EXISTING leads (EXISTING_OPEN of them open, with calls overdue)."""
    from sqlalchemy import insert

    from clubflow.core.db import session_scope
    from domain.models import Lead

    agent_ids, cities, region = seed_people(url, leads)
    arrived = NOW - timedelta(days=3)
    due = date(2026, 9, 28)

    def row(i: int) -> dict:
        is_open = i < EXISTING_OPEN
        city = cities[i % len(cities)]
        return {
            "phone": "+86" + _phone(100_000_000 + i),
            "name": f"老客户{i}",
            "model": "越野SUV",
            "city": city,
            "region_code": region[city],
            "source": "官网",
            "sources": ["官网"],
            "arrived_at": arrived,
            "business_day": arrived.date(),
            "status": "open" if is_open else "invalid",
            "next_call_no": 2,
            "next_call_due": due if is_open else None,
            "call_day": due,
            "third_call_due": due,
            "agent_id": agent_ids[i % len(agent_ids)],
            "assigned_at": arrived,
            "listed_at": arrived,
            "handoff_round": 0,
            "closed_at": None if is_open else arrived,
        }

    # In chunks: the seed must not be what sets the process's peak memory.
    for start in range(0, EXISTING, 10_000):
        with session_scope(url) as session:
            session.execute(insert(Lead.__table__), [row(i) for i in range(start, start + 10_000)])
    return cities


def raw_bare_table(path: Path, db: Path) -> float:
    """The old floor: decode the same file and executemany its rows, as read, into a bare
    seven-column table with one index (no normalising, no planning, no project schema)."""
    start = time.perf_counter()
    source = path.open(encoding="gb18030", newline="")
    reader = csv.reader(source)
    next(reader)
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE lead (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, model TEXT, "
        "city TEXT, source TEXT, arrived_at TEXT)"
    )
    conn.execute("CREATE INDEX ix_phone ON lead (phone)")
    conn.executemany(
        "INSERT INTO lead (name, phone, model, city, source, arrived_at) VALUES (?,?,?,?,?,?)",
        reader,
    )
    conn.commit()
    conn.close()
    source.close()
    return time.perf_counter() - start


LEAD_COLUMNS = (
    "phone", "name", "model", "city", "region_code", "source", "sources", "arrived_at",
    "business_day", "status", "next_call_no", "next_call_due", "call_day", "third_call_due",
    "handoff_round", "import_id", "source_ref", "agent_id", "assigned_at",
)  # fmt: skip


def _stored(moment: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def raw_lead_table(path: Path, url: str, leads: int) -> float:
    """The floor: the same file's 20,000 rows executemany'd by the raw driver (sqlite3, or
    psycopg for a PostgreSQL url) into the project's real `lead` table, made by the
    migrations in a fresh database (every index and foreign key; on SQLite the project
    engine's pragmas), filling the columns the intake fills. Timed: decode, read the CSV,
    build each row's tuple, executemany, commit; the parent rows (regions, agents, the
    import) are stored before the clock starts."""
    from clubflow.core.db import get_engine, migrate

    migrate(url)
    agent_ids, _, region = seed_people(url, leads)
    get_engine(url).dispose()
    if url.startswith("sqlite"):
        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        mark, stored = "?", _stored  # SQLAlchemy's text form of a UTC datetime
    else:
        import psycopg

        conn, mark, stored = psycopg.connect(url), "%s", lambda moment: moment.astimezone(UTC)
    import_id = conn.execute(
        "INSERT INTO leadimport (source, content_hash, filename, rows, created, merged, "
        f"rejected, imported_at, kind) VALUES ('csv', 'raw', 'raw.csv', 0, 0, 0, 0, {mark}, "
        "'leads') RETURNING id",
        (stored(NOW),),
    ).fetchone()[0]
    conn.commit()
    today, third, assigned = NOW.date().isoformat(), "2026-09-30", stored(NOW)
    statement = (
        f"INSERT INTO lead ({', '.join(LEAD_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(LEAD_COLUMNS))}) ON CONFLICT (source_ref) DO NOTHING"
    )

    start = time.perf_counter()
    source = path.open(encoding="gb18030", newline="")
    reader = csv.reader(source)
    next(reader)
    arrivals: dict[str, Any] = {}

    def rows() -> Iterator[tuple]:
        # One tuple at a time into the driver's executemany: flat memory at any size.
        for line, (name, phone, model, city, source_name, at) in enumerate(reader, start=2):
            arrived = arrivals.get(at)
            if arrived is None:
                arrived = arrivals[at] = stored(datetime.fromisoformat(at).replace(tzinfo=SH))
            yield (
                "+86" + phone,
                name,
                model,
                city,
                region[city],
                source_name,
                f'["{source_name}"]',
                arrived,
                today,
                "open",
                1,
                today,
                today,
                third,
                0,
                import_id,
                f"file:raw:line{line}",
                agent_ids[line % len(agent_ids)],
                assigned,
            )

    conn.cursor().executemany(statement, rows())
    conn.commit()
    seconds = time.perf_counter() - start
    source.close()
    conn.close()
    return seconds


def warm_up() -> None:
    from prefect import flow, task

    @task
    def nothing() -> None:
        return None

    @flow(name="bench-warm-up")
    def empty() -> None:
        nothing()

    empty()


def intake_in_child(csv_path: str, queue: Any) -> None:
    """The intake flow in a process of its own, as a worker runs a flow run: its peak RSS is
    the intake's (Python, Prefect, clubflow and the file's chunks), not the benchmark's
    seeding. Reports (flow seconds, task runs, peak RSS MB, the flow's result)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.leads.intake import leads_intake
    from tasks.leads.common import optional_channels

    # This process's first flow run and block load pay for its client's start and imports
    # (a worker's flow-run process has them too): not the intake's.
    warm_up()
    optional_channels()
    started = time.perf_counter()
    state = leads_intake(files=[csv_path], pull_source=False, now=NOW, return_state=True)
    flow_s = time.perf_counter() - started
    result = state.result()
    # The one measure of memory: the kernel's high-water mark of this process's RSS.
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            )
        )
    for run in sorted(runs, key=lambda r: r.start_time or NOW):
        print(f"  task {run.name}: {run.total_run_time.total_seconds():.2f}s", file=sys.stderr)
    queue.put((flow_s, len(runs), rss_mb, result))


def run_intake(csv_path: Path) -> tuple[float, int, float, dict]:
    """intake_in_child, started fresh (spawn) against this benchmark's Prefect server."""
    import multiprocessing

    from prefect.settings import PREFECT_API_URL

    os.environ.update(
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
    )
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=intake_in_child, args=(str(csv_path), queue))
    child.start()
    try:
        found = queue.get(timeout=3600)
    finally:
        child.join()
    if child.exitcode:
        raise SystemExit(f"the intake process failed (exit code {child.exitcode})")
    return found


def run(url: str, leads: int, work: Path, *, sweep: bool) -> list[str]:
    """One size: a fresh store, the file, both floors, then the intake (and the sweep)."""
    from clubflow.core.db import migrate, session_scope
    from clubflow.core.settings import get_settings

    os.environ.update(
        CLUBFLOW_DATABASE_URL=url,
        CLUBFLOW_LEADS_EXPORT_DIR=str(work / "exports"),
        CLUBFLOW_LEADS_INBOX_DIR=str(work / "inbox"),
    )
    get_settings.cache_clear()
    migrate(url)
    cities = seed(url, leads)
    csv_path = work / "leads_gbk.csv"
    make_csv(leads, cities, csv_path)
    bare_s = raw_bare_table(csv_path, work / "bare.db")
    raw_s = raw_lead_table(csv_path, f"sqlite:///{work / 'raw.db'}", leads)
    # On PostgreSQL, also the same floor on PostgreSQL itself (a fresh database of its own).
    raw_pg_s = raw_postgres(csv_path, leads) if url.startswith("postgresql") else None

    with bench_server(url):
        warm_up()  # the harness's first flow run pays for server-side caches: not ours
        flow_s, task_runs, rss_mb, result = run_intake(csv_path)
        swept, sweep_s, open_calls = None, 0.0, 0
        if sweep:
            from sqlalchemy import func, select

            from domain.models import Lead
            from flows.leads.sweep import leads_sweep

            with session_scope(url) as session:
                open_calls = session.execute(
                    select(func.count()).select_from(Lead).where(Lead.status == "open")
                ).scalar_one()
            started = time.perf_counter()
            swept = leads_sweep(now=SWEEP_AT)
            sweep_s = time.perf_counter() - started
    print(f"intake: {result} | sweep: {swept}", file=sys.stderr)
    baseline_line = (
        f"leads_intake_baseline leads={leads} bare_table_s={bare_s:.3f} "
        f"ratio={flow_s / bare_s:.1f} lead_table_s={raw_s:.3f} ratio={flow_s / raw_s:.1f}"
    )
    if raw_pg_s is not None:
        baseline_line += f" lead_table_postgres_s={raw_pg_s:.3f} ratio={flow_s / raw_pg_s:.1f}"
    lines = [
        baseline_line,
        f"leads_intake leads={leads} flow_s={flow_s:.2f} raw_sqlite_s={raw_s:.3f} "
        f"ratio={flow_s / raw_s:.1f} task_runs={task_runs} peak_rss_mb={rss_mb:.0f} "
        f"s_per_1000={flow_s / leads * 1000:.3f}",
    ]
    if sweep:
        lines.append(f"leads_sweep open_calls={open_calls} seconds={sweep_s:.2f}")
    return lines


def linearity(figures: dict[int, float]) -> str:
    """Seconds per 1,000 leads at each size, and the largest over the smallest (1.0 = time
    grows exactly with the leads)."""
    per = {n: s / n * 1000 for n, s in figures.items()}
    spread = max(per.values()) / min(per.values())
    sizes = " ".join(f"s_per_1000_at_{n}={v:.3f}" for n, v in sorted(per.items()))
    return f"leads_linearity {sizes} growth={spread:.2f}"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1, dropped afterwards."""
    import psycopg

    from clubflow.core.db import get_engine

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_postgres(path: Path, leads: int) -> float:
    with postgres_database("clubflow_bench_raw") as url:
        return raw_lead_table(path, url, leads)


SIZES = (20_000, 200_000, 1_000_000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.leads")
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in SIZES),
        help="lead counts to import, comma-separated (default: %(default)s)",
    )
    parser.add_argument("--leads", type=int, help="one size only (same as --sizes N)")
    parser.add_argument("--postgres", action="store_true", help="store on PostgreSQL")
    args = parser.parse_args(argv if argv is not None else [])
    sizes = [args.leads] if args.leads else [int(n) for n in args.sizes.split(",") if n]
    print(
        "baseline: ratio <= 5 at 20000 and 200000, task_runs <= 20, peak_rss_mb <= 300 at every "
        "size, linear growth; sweep <= 3 s",
        flush=True,
    )
    lines: list[str] = []
    flow_s: dict[int, float] = {}
    for index, leads in enumerate(sizes):
        with tempfile.TemporaryDirectory(prefix="leads-bench-") as tmp:
            work = Path(tmp)
            # The sweep over 100,000 open calls: with the first size (20,000 new leads).
            sweep = index == 0
            if not args.postgres:
                found = run(f"sqlite:///{work / 'clubflow.db'}", leads, work, sweep=sweep)
            else:
                with postgres_database("clubflow_bench") as url:
                    found = run(url, leads, work, sweep=sweep)
        for line in found:
            print(line, file=sys.stderr, flush=True)  # as it comes; the summary follows
        lines += found
        flow_s[leads] = float(found[1].split("flow_s=")[1].split()[0])
    if len(flow_s) > 1:
        lines.append(linearity(flow_s))
    for line in lines:  # one line per figure, each beside its baseline of the same run
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
