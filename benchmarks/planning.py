"""Quarterly planning at scale: 7 regions × 500 clubs, end to end through the plan-quarter
flow (host, plan, 10,500 slots stored, ICS file of 10,501 events, artifacts, 7,000 queued
notifications), beside a raw sqlite3 executemany of the same slot rows.

    uv run python -m benchmarks.planning
    uv run python -m benchmarks.planning --clubs-per-region 100

Target: planning clubs=3500 seconds <= 5.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks._server import bench_server

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=SH)  # the scheduled run that plans 2027Q2


def seed(url: str, per_region: int) -> int:
    from clubflow.core.db import insert_ignoring_conflicts, session_scope
    from clubflow.world import seed_regions
    from domain.models import Club, Dealer, Person, Role
    from domain.regions import REGIONS

    with session_scope(url) as session:
        seed_regions(session=session)
        dealers = [
            {
                "code": f"{r.code[:2].upper()}{i:04d}",
                "name": f"{r.name_zh}经销商{i}",
                "city": r.name_zh,
                "region_code": r.code,
                "active": True,
            }
            for r in REGIONS
            for i in range(per_region)
        ]
        insert_ignoring_conflicts(session, Dealer, dealers, on=["code"])
        ids = dict(
            session.execute(
                Dealer.__table__.select().with_only_columns(Dealer.code, Dealer.id)
            ).all()
        )
        clubs = [
            {
                "code": f"C-{d['code']}",
                "name": f"{d['city']}车友会{d['code']}",
                "city": d["city"],
                "region_code": d["region_code"],
                "grade": "city",
                "dealer_id": ids[d["code"]],
            }
            for d in dealers
        ]
        insert_ignoring_conflicts(session, Club, clubs, on=["code"])
        club_ids = dict(
            session.execute(Club.__table__.select().with_only_columns(Club.code, Club.id)).all()
        )
        admins = [
            {
                "username": f"admin.{c['code'].lower()}",
                "name": f"{c['code']}管理员",
                "role": Role.club_admin,
                "region_code": c["region_code"],
                "club_id": club_ids[c["code"]],
                "active": True,
                "daily_capacity": 0,
                "in_rotation": True,
            }
            for c in clubs
        ]
        insert_ignoring_conflicts(session, Person, admins, on=["username"])
        return len(clubs)


def raw_sqlite(path: Path, clubs: int) -> float:
    """The floor: the same slot rows through one sqlite3 executemany, nothing else."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE club_slot (id INTEGER PRIMARY KEY, plan_id INT, quarter TEXT, club_id INT,"
        " region_code TEXT, month DATE, season TEXT, theme TEXT, due_on DATE, status TEXT,"
        " reminded_at TEXT, UNIQUE (club_id, month))"
    )
    rows = [
        (1, "2027Q2", club, "beijing", month, "spring", "踏青游·开春探路", "2027-03-25", "open")
        for club in range(clubs)
        for month in ("2027-04-01", "2027-05-01", "2027-06-01")
    ]
    start = time.perf_counter()
    conn.executemany(
        "INSERT INTO club_slot (plan_id, quarter, club_id, region_code, month, season, theme,"
        " due_on, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def run(work: Path, per_region: int) -> str:
    from clubflow.core.db import migrate
    from clubflow.core.settings import get_settings

    url = f"sqlite:///{work / 'clubflow.db'}"
    os.environ["CLUBFLOW_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate(url)
    clubs = seed(url, per_region)
    raw_s = raw_sqlite(work / "raw.db", clubs)
    print(f"baseline: raw sqlite3 executemany of {3 * clubs} slot rows {raw_s:.3f} s", flush=True)

    with bench_server(url):
        from flows.planning.plan_quarter import plan_quarter

        started = time.perf_counter()
        result = plan_quarter(now=NOW, ics_dir=str(work / "plans"))
        seconds = time.perf_counter() - started
        # The outbox's queue task loads the channels block, which validates every Apprise
        # URL it holds (one per club admin and dealer here): measured on its own.
        from tasks.outbox import load_channels

        started = time.perf_counter()
        load_channels()
        block_s = time.perf_counter() - started
    print(f"plan: {result}", file=sys.stderr)
    assert result["slots"] == 3 * clubs and result["slots_added"] == 3 * clubs
    print(
        f"of which the outbox loading its channels block ({2 * clubs} Apprise URLs "
        f"validated): about {block_s:.2f} s"
    )
    print(
        f"ratio to the raw insert: {seconds / raw_s:.0f}x (the flow also renders and queues "
        f"{result['notifications_queued']} notifications and writes the ICS file)"
    )
    return f"planning clubs={clubs} seconds={seconds:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.planning")
    parser.add_argument("--clubs-per-region", type=int, default=500)
    args = parser.parse_args(argv if argv is not None else [])
    print("target: planning clubs=3500 seconds <= 5", flush=True)
    with tempfile.TemporaryDirectory(prefix="planning-bench-") as tmp:
        line = run(Path(tmp), args.clubs_per_region)
    print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
