"""`clubflow up`'s deliver part: a queued message reaches the inbox without a flow run, and
pausing the deliver-notifications deployment (the stage keeps it paused) pauses it.

Named to run after the other stack tests: while the deployment is resumed here, the loop
delivers whatever the earlier tests left due, on the wall clock."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # due ever since
WAIT = 120.0  # an upper bound on a loaded machine; the wait ends when the message is there


def _queue(stack, key: str, *, urgent: bool) -> None:
    from clubflow.core.db import session_scope
    from clubflow.core.settings import Settings
    from tasks.outbox import NotificationRequest, queue_notifications

    request = NotificationRequest(
        recipient="person:hq.manager",
        template="test_message",
        context={"name": "周经理", "seq": key},
        idem_key=f"system:loop:{key}",
        urgent=urgent,
    )
    with session_scope(stack.database_url) as session:
        queue_notifications(session=session, requests=[request], now=NOW, settings=Settings())


def _arrived(stack, key: str) -> list[dict]:
    return [m for m in stack.messages_to("person/hq.manager") if f"编号 {key}）" in m["body"]]


def _wait(stack, key: str) -> None:
    deadline = time.monotonic() + WAIT
    while not _arrived(stack, key):
        assert time.monotonic() < deadline, f"{key} not delivered within {WAIT:.0f}s"
        time.sleep(0.5)


def test_the_delivery_loop_delivers_without_a_flow_run_and_follows_the_pause(stack):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("deliver-notifications/deliver-notifications")
        assert deployment.paused and not deployment.schedules  # the stage paused it
        _queue(stack, "while-paused", urgent=True)
        time.sleep(3)  # many of the loop's polls: paused, it sends nothing
        assert not _arrived(stack, "while-paused")
        runs_before = client.count_flow_runs()
        client.resume_deployment(deployment.id)
        try:
            _queue(stack, "code", urgent=True)
            _queue(stack, "plain", urgent=False)
            for key in ("while-paused", "code", "plain"):
                _wait(stack, key)
            assert client.count_flow_runs() == runs_before  # no flow run delivered them
        finally:
            client.pause_deployment(deployment.id)
        for key in ("while-paused", "code", "plain"):
            assert len(_arrived(stack, key)) == 1, key
