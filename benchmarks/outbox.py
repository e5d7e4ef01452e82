"""The outbox under trouble: 1,000 messages, 20% of sends refused, one channel hanging,
beside the same messages sent one by one with raw Apprise to the same receivers.

    uv run python -m benchmarks.outbox

Prints `outbox messages=1000 failing=0.2 hanging_channels=1 seconds=<s> raw_apprise_s=<s>
ratio=<r> duplicates_at_receiver=0 lost=0` (target ratio <= 2).

How the trouble is made fair to both sides:
- Failing: both sides post to the same loopback receiver, which refuses 20% of requests
  (HTTP 500, nothing accepted) from the same seeded random sequence. A refused message must
  still arrive: raw Apprise resends it at once until it is accepted; the outbox retries
  inline and then in later delivery runs (a simulated clock, so backoff costs no wall time).
- Hanging: a second receiver (the dealers' server, 5% of the messages) accepts each message
  and then answers only after 5 s; both sides use the same 1 s send timeout (`rto`/`cto`).
  The baseline is given a perfect circuit breaker for free: after its first timeout it skips
  that channel's other messages (it does not wait 1 s on each), and it counts the message
  that timed out as delivered (it did arrive) instead of resending it. Then the channel
  recovers, for both sides at the same point (after the first pass over all messages), and
  both send what they skipped. The outbox resends its unanswered messages under their keys;
  the receiver drops those copies by key.
Seeding, queueing and rendering are inside the outbox's time; the baseline's texts are
prepared before its clock starts.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=SH)
MESSAGES, FAILING, HANGING_SHARE, TIMEOUT, HANG = 1000, 0.2, 0.05, 1.0, 5.0


def _messages(session) -> list:
    from sqlalchemy import select

    from domain.models import Dealer, Person
    from tasks.outbox import NotificationRequest

    people = session.execute(select(Person.username)).scalars().all()
    dealers = session.execute(select(Dealer.code)).scalars().all()
    hanging = int(MESSAGES * HANGING_SHARE)
    return [
        NotificationRequest(
            recipient=(
                f"dealer:{dealers[i % len(dealers)]}"
                if i < hanging
                else f"person:{people[i % len(people)]}"
            ),
            template="test_message",
            context={"name": "车主", "seq": i},
            idem_key=f"bench:{i}",
        )
        for i in range(MESSAGES)
    ]


def _receivers():
    from clubflow.inbox import start_sink

    ok, ok_server = start_sink(fail_rate=FAILING, seed=7)
    slow, slow_server = start_sink(delays={"": HANG})
    return ok, slow, (ok_server, slow_server)


def _channels(session, ok, slow):
    from sqlalchemy import select

    from blocks.channels import NotificationChannels
    from domain.models import Dealer, Person

    return NotificationChannels(
        people={
            u: ok.url(f"person/{u}") for u in session.execute(select(Person.username)).scalars()
        },
        dealers={
            c: slow.url(f"dealer/{c}") for c in session.execute(select(Dealer.code)).scalars()
        },
        roles={"ops": ok.url("role/ops")},
    )


def run_outbox(url: str) -> tuple[float, int, int]:
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.outbox import deliver_due, queue_notifications

    ok, slow, servers = _receivers()
    settings = get_settings()
    with session_scope(url) as session:
        requests = _messages(session)
        channels = _channels(session, ok, slow)
    start = time.perf_counter()
    with session_scope(url) as session:
        queue_notifications(session=session, requests=requests, now=NOW, settings=settings)
    now, runs = NOW, 0
    while True:
        report = deliver_due(url=url, channels=channels, now=now, settings=settings)
        runs += 1
        slow.delays.clear()  # the hanging channel is back after the first pass
        if not report.waiting and not report.claimed:
            break
        now += timedelta(hours=1)  # the next scheduled run, on a simulated clock
    seconds = time.perf_counter() - start
    keys = Counter(
        m.key for m in ok.messages + slow.messages if m.key and m.path.strip("/") != "role/ops"
    )
    for server in servers:
        server.shutdown()
    duplicates = sum(1 for c in keys.values() if c > 1)
    lost = MESSAGES - len(keys)
    print(
        f"  outbox: {runs} delivery runs, {ok.failures} refused, "
        f"{ok.duplicates + slow.duplicates} copies dropped by key",
        flush=True,
    )
    return seconds, duplicates, lost


def run_raw(url: str) -> float:
    import apprise

    from clubflow.core.db import session_scope
    from tasks.render import render_message

    ok, slow, servers = _receivers()
    with session_scope(url) as session:
        requests = _messages(session)
        channels = _channels(session, ok, slow)
        texts = [
            (channels.urls_for(r.recipient)[0], *render_message(r.template, r.context))
            for r in requests
        ]
    apprise.Apprise.instantiate(ok.url("warm-up"))  # Apprise loads its plugins once
    start = time.perf_counter()
    skipped, hung = [], False
    for target, title, body in texts:
        if hung and target.startswith(slow.base):
            skipped.append((target, title, body))
            continue
        sender = apprise.Apprise()
        sender.add(f"{target}?rto={TIMEOUT}&cto={TIMEOUT}")
        while True:
            began = time.perf_counter()
            if sender.notify(title=title, body=body):
                break
            if time.perf_counter() - began >= TIMEOUT:  # no answer: it arrived, skip the rest
                hung = True
                break
    slow.delays.clear()
    for target, title, body in skipped:
        sender = apprise.Apprise()
        sender.add(f"{target}?rto={TIMEOUT}&cto={TIMEOUT}")
        while not sender.notify(title=title, body=body):
            pass
    seconds = time.perf_counter() - start
    received = len(ok.messages) + len(slow.messages)
    for server in servers:
        server.shutdown()
    assert received == MESSAGES, f"raw baseline delivered {received}"
    return seconds


def main() -> None:
    import logging

    from clubflow.core.db import migrate, session_scope
    from clubflow.core.settings import get_settings
    from clubflow.world import WorldSize, seed_demo_world

    # 200 refusals are expected: keep them off the console (the outbox still reads Apprise's
    # reasons through its own handler on the `apprise` logger).
    logging.getLogger("apprise").propagate = False
    logging.getLogger("clubflow.outbox").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'outbox.db'}"
        os.environ.update(
            CLUBFLOW_DATABASE_URL=url,
            CLUBFLOW_OUTBOX_SEND_TIMEOUT_SECONDS=str(TIMEOUT),
            CLUBFLOW_OUTBOX_BATCH_SIZE="2000",
        )
        get_settings.cache_clear()
        migrate(url)
        with session_scope(url) as session:
            seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
        raw_s = run_raw(url)
        seconds, duplicates, lost = run_outbox(url)
    print(
        f"outbox messages={MESSAGES} failing={FAILING} hanging_channels=1 "
        f"seconds={seconds:.2f} raw_apprise_s={raw_s:.2f} ratio={seconds / raw_s:.2f} "
        f"duplicates_at_receiver={duplicates} lost={lost}",
        flush=True,
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
