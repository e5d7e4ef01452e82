"""The outbox at a day's volume: 50,000 notifications over one simulated business day,
queued as they arrive and delivered by the delivery loop's own code to a loopback receiver,
beside raw Apprise sending to the same kind of receiver in the same run.

    uv run python -m benchmarks.outbox_day        (make bench BENCH=outbox_day)

Prints, one figure a line, then the targets:
`outbox_day notifications=50000 seconds=<s> per_s=<r> raw_apprise_per_s=<r> ratio=<x>
max_backlog=<n> max_minute_arrivals=<m> duplicates_at_receiver=0 lost=0`.

The day: arrivals follow an hourly curve (Asia/Shanghai: a morning peak, a smaller afternoon
one and an evening one when members are online, almost nothing at night), each message at a
seeded random second of its hour; 5 % are urgent (codes, incidents). Non-urgent messages that
arrive in quiet hours (21:00-08:00) are held until 08:00 by rule: they are not backlog while
held, and their release at 08:00 has its own figure (how long until all are sent).

The clock: simulated, moving in the delivery loop's steps (`outbox_loop_seconds`). At each
step the arrivals since the last one are queued (as the flows queue them), the backlog is
read (due and not sent), and one delivery pass runs: the same `deliver_notifications` function
the loop and the deployment call. A pass that takes longer than a step moves the clock by its
own wall time, so arrivals during a slow pass pile up as they would; only idle time is skipped
(a step with nothing arrived and nothing due is not run).

Throughput: `per_s` is messages per second of delivery work (the passes' wall time);
`seconds` the whole run, queueing included. The baseline sends 5,000 of the same texts one by
one with raw Apprise (an `Apprise` object per message, as a script would), to its own
receiver: `ratio` = outbox per_s / raw per_s. The receiver counts copies of a key it accepted
already (`duplicates_at_receiver`); `lost` is messages never accepted.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 3, 0, 0, tzinfo=SH)  # a Tuesday
NOTIFICATIONS, URGENT_SHARE, RAW_SAMPLE, SEED = 50_000, 0.05, 5_000, 17
# Share of the day's messages per hour of the business day (sums to 100).
HOURLY = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5,   # 00-07
    5.0, 8.0, 10.0, 9.0, 6.0, 6.5, 8.0, 8.5,  # 08-15
    7.5, 6.0, 4.5, 5.0, 6.5, 4.0, 1.8, 0.8,   # 16-23
]  # fmt: skip


def arrivals(rng: random.Random) -> list[tuple[datetime, bool]]:
    """(arrival time, urgent) of the day's messages, in order."""
    hours = rng.choices(range(24), weights=HOURLY, k=NOTIFICATIONS)
    out = [
        (DAY + timedelta(hours=h, seconds=rng.uniform(0, 3600)), rng.random() < URGENT_SHARE)
        for h in hours
    ]
    return sorted(out)


def max_minute(times: list[datetime]) -> int:
    return max(Counter(t.replace(second=0, microsecond=0) for t in times).values())


def _requests(people: list[str], batch: list[tuple[int, datetime, bool]]) -> list:
    from tasks.outbox import NotificationRequest

    return [
        NotificationRequest(
            recipient=f"person:{people[i % len(people)]}",
            template="test_message",
            context={"name": "车主", "seq": i},
            idem_key=f"day:{i}",
            urgent=urgent,
        )
        for i, _at, urgent in batch
    ]


def _due_count(session, now: datetime) -> int:
    from sqlalchemy import func, select

    from tasks.outbox import _due

    return session.execute(select(func.count()).where(_due(now))).scalar_one()


def run_outbox(url: str, day: list[tuple[datetime, bool]]) -> dict:
    from sqlalchemy import select

    from blocks.channels import NotificationChannels
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from clubflow.inbox import start_sink
    from domain.models import Person
    from tasks.outbox import deliver_all_due, queue_notifications

    settings = get_settings()
    sink, server = start_sink()
    with session_scope(url) as session:
        people = list(session.execute(select(Person.username)).scalars())
    channels = NotificationChannels(
        people={u: sink.url(f"person/{u}") for u in people}, roles={"ops": sink.url("role/ops")}
    )
    step = timedelta(seconds=settings.outbox_loop_seconds)
    end_hour = settings.quiet_hours_end.hour
    releases = [(DAY + timedelta(days=d)).replace(hour=end_hour).astimezone(UTC) for d in (0, 1)]
    drained: dict[datetime, float] = {}
    pending = [(i, at.astimezone(UTC), urgent) for i, (at, urgent) in enumerate(day)]
    now, nxt, busy, max_backlog = DAY.astimezone(UTC), 0, 0.0, 0
    start = time.perf_counter()
    while True:
        batch = []
        while nxt < len(pending) and pending[nxt][1] <= now:
            batch.append(pending[nxt])
            nxt += 1
        with session_scope(url) as session:
            if batch:
                queue_notifications(
                    session=session, requests=_requests(people, batch), now=now, settings=settings
                )
                _stamp_arrivals(session, batch, settings)
            due = _due_count(session, now)
            following = _next_due(session)
            releasing = [r for r in releases if r <= now and r not in drained]
            for r in releasing:
                if not _unsent_before(session, r):  # everything that arrived before it is sent
                    drained[r] = (now - r).total_seconds()
        if not releasing:
            max_backlog = max(max_backlog, due)  # the held messages' release is not backlog
        took = 0.0
        if due:
            began = time.perf_counter()
            deliver_all_due(now=now, settings=settings, channels=channels)
            took = time.perf_counter() - began
            busy += took
            now += max(step, timedelta(seconds=took))
            continue
        # Idle: skip to the step of the next arrival or the next due row (quiet hours' end).
        upcoming = [t for t in (following, pending[nxt][1] if nxt < len(pending) else None) if t]
        if not upcoming:
            break
        steps = max(1, -(-(min(upcoming) - now) // step))
        now += step * steps
    seconds = time.perf_counter() - start
    keys = Counter(m.key for m in sink.messages if m.path.strip("/") != "role/ops")
    server.shutdown()
    quiet_from = DAY.replace(hour=settings.quiet_hours_start.hour)
    held = [
        sum(1 for at, urgent in day if not urgent and at < releases[0]),
        sum(1 for at, urgent in day if not urgent and at >= quiet_from),
    ]
    return {
        "seconds": seconds,
        "busy": busy,
        "max_backlog": max_backlog,
        "released": held,
        "release_drain_s": max(drained.get(r, float("inf")) for r in releases),
        "duplicates": sink.duplicates + sum(1 for c in keys.values() if c > 1),
        "lost": NOTIFICATIONS - len(keys),
    }


def _unsent_before(session, moment: datetime) -> int:
    from sqlalchemy import func, select

    from domain.models import Notification, NotificationStatus

    return session.execute(
        select(func.count()).where(
            Notification.created_at < moment, Notification.status != NotificationStatus.sent
        )
    ).scalar_one()


def _next_due(session) -> datetime | None:
    from sqlalchemy import func, select

    from domain.models import Notification, NotificationStatus

    value = session.execute(
        select(func.min(Notification.next_attempt_at)).where(
            Notification.status == NotificationStatus.pending
        )
    ).scalar_one()
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _stamp_arrivals(session, batch, settings) -> None:
    """queue_notifications stamps a whole step's arrivals with the step's time; give each its
    own arrival second (and the quiet-hours release), as if queued the moment it arrived."""
    from sqlalchemy import update

    from domain.calendar import BUSINESS_TZ
    from domain.models import Notification
    from domain.quiet_hours import release_time

    for i, at, urgent in batch:
        due = release_time(
            at,
            urgent=urgent,
            start=settings.quiet_hours_start,
            end=settings.quiet_hours_end,
            tz=BUSINESS_TZ,
        )
        session.execute(
            update(Notification)
            .where(Notification.idem_key == f"day:{i}")
            .values(created_at=at, next_attempt_at=due)
        )
    session.commit()


def run_raw(url: str) -> float:
    """Raw Apprise's messages per second, one by one, to a receiver like the outbox's."""
    import apprise
    from sqlalchemy import select

    from clubflow.core.db import session_scope
    from clubflow.inbox import start_sink
    from domain.models import Person
    from tasks.render import render_message

    sink, server = start_sink()
    with session_scope(url) as session:
        people = list(session.execute(select(Person.username)).scalars())
    texts = [
        (
            sink.url(f"person/{people[i % len(people)]}"),
            *render_message("test_message", {"name": "车主", "seq": i}),
        )
        for i in range(RAW_SAMPLE)
    ]
    apprise.Apprise.instantiate(sink.url("warm-up"))  # Apprise loads its plugins once
    start = time.perf_counter()
    for target, title, body in texts:
        sender = apprise.Apprise()
        sender.add(target)
        assert sender.notify(title=title, body=body)
    seconds = time.perf_counter() - start
    server.shutdown()
    assert len(sink.messages) == RAW_SAMPLE, f"raw baseline delivered {len(sink.messages)}"
    return RAW_SAMPLE / seconds


def main() -> None:
    import logging

    from clubflow.core.db import migrate, session_scope
    from clubflow.core.settings import get_settings
    from clubflow.world import WorldSize, seed_demo_world

    logging.getLogger("apprise").propagate = False
    logging.getLogger("clubflow.outbox").setLevel(logging.ERROR)
    day = arrivals(random.Random(SEED))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'outbox_day.db'}"
        os.environ.update(CLUBFLOW_DATABASE_URL=url)
        get_settings.cache_clear()
        migrate(url)
        with session_scope(url) as session:
            seed_demo_world(
                session=session,
                size=WorldSize(clubs_per_region=2, members=0, leads=0),
                now=DAY.astimezone(UTC),
            )
        raw_per_s = run_raw(url)
        r = run_outbox(url, day)
    peak = max_minute([at for at, _urgent in day])
    per_s = NOTIFICATIONS / r["busy"]
    print(
        f"  outbox_day: held by quiet hours and released at 08:00: {r['released'][0]} that "
        f"morning, {r['released'][1]} the next; all sent {r['release_drain_s']:.0f} s after "
        "(simulated)",
        flush=True,
    )
    print(
        f"outbox_day notifications={NOTIFICATIONS} seconds={r['seconds']:.1f} "
        f"per_s={per_s:.0f} raw_apprise_per_s={raw_per_s:.0f} ratio={per_s / raw_per_s:.2f} "
        f"max_backlog={r['max_backlog']} max_minute_arrivals={peak} "
        f"release_drain_s={r['release_drain_s']:.0f} "
        f"duplicates_at_receiver={r['duplicates']} lost={r['lost']}",
        flush=True,
    )
    targets = {
        f"backlog {r['max_backlog']} <= one minute's arrivals {peak}": r["max_backlog"] <= peak,
        f"quiet-hours release sent within 60 s ({r['release_drain_s']:.0f} s)": r["release_drain_s"]
        <= 60,
        f"duplicates_at_receiver={r['duplicates']} lost={r['lost']}": r["duplicates"] == 0
        and r["lost"] == 0,
    }
    for text, ok in targets.items():
        print(f"outbox_day target {text}: {'PASS' if ok else 'FAIL'}", flush=True)
    assert all(targets.values()), "outbox_day: a target was missed"


if __name__ == "__main__":
    main()
    sys.exit(0)
