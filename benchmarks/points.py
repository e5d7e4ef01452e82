"""Points by spending at scale: 100,000 dealer-system bills credited in one run through the
import's task path (store the bills once by transaction id, one ledger row each, recompute
the members touched), beside a raw sqlite3 executemany of the same rows (the bills and their
ledger rows) into tables shaped like `member_transaction` and `points_entry`.
A second run of the same bills adds nothing.

    uv run python -m benchmarks.points
    uv run python -m benchmarks.points --transactions 20000

Target: ratio <= 10.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 10, 12, 20, 0, tzinfo=SH)
MEMBERS = 10_000
KINDS = ("purchase", "service", "parts")


def seed(url: str) -> None:
    from clubflow.core.db import insert_ignoring_conflicts, session_scope
    from domain.models import Member

    with session_scope(url) as session:
        insert_ignoring_conflicts(
            session,
            Member,
            [
                {
                    "member_no": f"M{n:06d}",
                    "name": f"车主{n}",
                    "phone": f"+86139{n:08d}",
                    "tier": ("ordinary", "silver", "gold")[n % 3],
                    "points": 0,
                    "rank": "陪戎校尉",
                    "service_visits": 0,
                    "status": "active",
                    "joined_at": NOW - timedelta(days=400),
                }
                for n in range(1, MEMBERS + 1)
            ],
            on=["member_no"],
        )


def bills(count: int) -> list:
    from domain.points_earn import TxnRow

    return [
        TxnRow(
            line=n + 2,
            txn_id=f"DMS-{n:08d}",
            member_no=f"M{n % MEMBERS + 1:06d}",
            kind=KINDS[n % 3],
            amount_yuan=Decimal(100 + n % 5000) + Decimal("0.50"),
            occurred_at=NOW - timedelta(minutes=n % 600),
            dealer_code=None,
        )
        for n in range(count)
    ]


def raw_sqlite(path: Path, rows: list) -> float:
    """The floor: the rows the run writes (each bill and its ledger row) through sqlite3
    executemany, nothing else."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE member_transaction (id INTEGER PRIMARY KEY, txn_id VARCHAR(100) NOT NULL"
        " UNIQUE, member_id INT NOT NULL, kind VARCHAR(16) NOT NULL, amount_yuan NUMERIC(14, 2)"
        " NOT NULL, occurred_at DATETIME NOT NULL, dealer_id INT, source VARCHAR(32) NOT NULL,"
        " recorded_at DATETIME NOT NULL)"
    )
    conn.execute("CREATE INDEX ix_occ ON member_transaction (occurred_at)")
    conn.execute("CREATE INDEX ix_mk ON member_transaction (member_id, kind)")
    conn.execute(
        "CREATE TABLE points_entry (id INTEGER PRIMARY KEY, member_id INT NOT NULL, amount INT"
        " NOT NULL, reason VARCHAR NOT NULL, activity_id INT, idem_key VARCHAR(200) NOT NULL"
        " UNIQUE, occurred_at DATETIME NOT NULL, expires_on DATE, UNIQUE (activity_id,"
        " member_id))"
    )
    conn.execute("CREATE INDEX ix_pm ON points_entry (member_id)")
    values = [
        (
            r.txn_id,
            int(r.member_no[1:]),
            r.kind,
            str(r.amount_yuan),
            r.occurred_at.isoformat(),
            "import",
            NOW.isoformat(),
        )
        for r in rows
    ]
    ledger = [
        (v[1], int(r.amount_yuan), f"spend:{r.kind}", f"txn:{r.txn_id}", v[4], "2028-10-12")
        for v, r in zip(values, rows, strict=True)
    ]
    start = time.perf_counter()
    conn.executemany(
        "INSERT INTO points_entry (member_id, amount, reason, idem_key, occurred_at,"
        " expires_on) VALUES (?, ?, ?, ?, ?, ?)",
        ledger,
    )
    conn.executemany(
        "INSERT INTO member_transaction (txn_id, member_id, kind, amount_yuan, occurred_at,"
        " source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def credit(url: str, rows: list):
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.members.earn import credit_transactions

    with session_scope(url) as session:
        return credit_transactions(session=session, rows=rows, now=NOW, settings=get_settings())


def run(work: Path, count: int) -> str:
    from clubflow.core.db import migrate
    from clubflow.core.settings import get_settings

    url = f"sqlite:///{work / 'clubflow.db'}"
    os.environ["CLUBFLOW_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate(url)
    seed(url)
    rows = bills(count)
    import tasks.members.earn  # noqa: F401 - imports (Prefect's) are not the credit's time

    raw_s = raw_sqlite(work / "raw.db", rows)
    print(
        f"baseline: raw sqlite3 executemany of {count} bill rows and their {count} "
        f"ledger rows {raw_s:.3f} s",
        flush=True,
    )
    started = time.perf_counter()
    first = credit(url, rows)
    seconds = time.perf_counter() - started
    assert first.recorded == count, first
    again = credit(url, rows)
    assert again.recorded == 0 and again.points == 0 and again.duplicates == count, again
    print(
        f"first run: {first.recorded} bills, {first.points} points to {first.members} members; "
        f"second run: {again.recorded} added, {again.duplicates} already read",
        file=sys.stderr,
    )
    return (
        f"members_credit transactions={count} seconds={seconds:.2f} "
        f"baseline_s={raw_s:.3f} ratio={seconds / raw_s:.1f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.points")
    parser.add_argument("--transactions", type=int, default=100_000)
    args = parser.parse_args(argv if argv is not None else [])
    print("target: members_credit ratio <= 10; a second run adds nothing", flush=True)
    with tempfile.TemporaryDirectory(prefix="points-bench-") as tmp:
        line = run(Path(tmp), args.transactions)
    print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
