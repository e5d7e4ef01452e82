"""The delivery loop: the outbox delivered by one long-running process, not a flow run a minute.

`clubflow up` runs it as its supervised `deliver` part (`python -m clubflow.delivery`); on
several machines any machine runs `clubflow deliver --loop` (the outbox's leases keep two
loops, or a loop and a `deliver-notifications` run, from sending a row twice).

It delivers everything due every `outbox_loop_seconds`, and between those passes looks every
`outbox_loop_urgent_poll_seconds` for a due urgent row (a sign-in or decision code, an
incident): one indexed query, so a code goes out about a second after it was queued. A poll
is used rather than a signal from the queueing process because those processes are flow runs
on any machine, and the database is the one thing they all share.

Pausing the `deliver-notifications` deployment (its toggle in the Prefect UI) pauses the loop
too: one switch stops every send. The loop reads that flag at each full pass; when the
Prefect API cannot be read, it goes on as it was.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings, get_settings

log = logging.getLogger("clubflow.delivery")
DEPLOYMENT = "deliver-notifications/deliver-notifications"


def urgent_waiting(*, url: str, now: datetime) -> bool:
    """Whether an urgent row is due and unsent (the loop's cheap look between passes)."""
    from domain.models import Notification, NotificationStatus

    with session_scope(url) as session:
        found = session.execute(
            select(Notification.id)
            .where(
                Notification.urgent.is_(True),
                Notification.status == NotificationStatus.pending,
                Notification.next_attempt_at <= now,
            )
            .limit(1)
        ).first()
    return found is not None


def deployment_paused() -> bool | None:
    """Whether the deliver-notifications deployment is paused; None when it cannot be read
    (no API, or not deployed yet)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            return bool(client.read_deployment_by_name(DEPLOYMENT).paused)
    except Exception as exc:  # the API down or the deployment not there yet: keep going
        log.debug("deliver-notifications not readable: %s", exc)
        return None


@dataclass
class LoopState:
    passes: int = 0
    urgent_passes: int = 0
    sent: int = 0
    paused: bool = False


def run_loop(
    *,
    settings: Settings | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    paused: Callable[[], bool | None] = deployment_paused,
    load_channels: Callable | None = None,
) -> LoopState:
    """Deliver until `stop` is set: a full pass every `outbox_loop_seconds`, an urgent row
    as soon as a poll sees it. A failing pass is logged and tried again at the next one."""
    from tasks.outbox import deliver_all_due
    from tasks.outbox import load_channels as load_block

    settings = settings or get_settings()
    stop = stop or threading.Event()
    load_channels = load_channels or load_block
    state = LoopState()
    channels = None
    last_full = float("-inf")
    while not stop.is_set():
        began = time.monotonic()
        full = began - last_full >= settings.outbox_loop_seconds
        try:
            if full:
                last_full = began
                flag = paused()
                if flag is not None and flag != state.paused:
                    state.paused = flag
                    log.info("delivery %s", "paused" if flag else "resumed")
                if not state.paused:
                    channels = load_channels()  # read again each pass: edits take effect
            if not state.paused and channels is not None:
                now = clock()
                if full or urgent_waiting(url=settings.database_url, now=now):
                    report = deliver_all_due(now=now, settings=settings, channels=channels)
                    state.passes += 1
                    state.urgent_passes += not full
                    state.sent += report.sent
                    if report.claimed:
                        log.info(
                            "delivered: %s sent, %s to retry, %s deferred, %s dead, %s waiting",
                            report.sent,
                            report.retried,
                            report.deferred,
                            report.dead,
                            report.waiting,
                        )
        except Exception:  # one bad pass (a database hiccup) must not end delivery
            log.exception("delivery pass failed; trying again")
        stop.wait(settings.outbox_loop_urgent_poll_seconds)
    return state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clubflow.delivery")
    parser.parse_args(argv)
    from clubflow.core.logging import install_masking
    from deployments.steps import prepare_process

    prepare_process(register_blocks=False)
    # Its own console handler: the stack's deliver.log (and a worker's console) shows each pass.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    # A line per pass; the outbox's own lines (one per message sent) only when one fails.
    for name, level in (("clubflow.delivery", logging.INFO), ("clubflow.outbox", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    install_masking()  # the new handler masks too
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    settings = get_settings()
    log.info(
        "delivering every %.0f s, urgent messages within %.0f s",
        settings.outbox_loop_seconds,
        settings.outbox_loop_urgent_poll_seconds,
    )
    run_loop(settings=settings, stop=stop)


if __name__ == "__main__":
    main()
