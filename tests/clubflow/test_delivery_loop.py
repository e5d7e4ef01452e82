"""The delivery loop: a full pass every `outbox_loop_seconds`, an urgent message as soon as a
poll sees it, nothing while the deliver-notifications deployment is paused; no flow run."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from clubflow.core.settings import get_settings
from clubflow.delivery import run_loop
from tasks.outbox import NotificationRequest, queue_notifications_task

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WAIT = 60.0  # an upper bound for a loaded machine: each wait ends as soon as it is met


def _queue(key: str, *, urgent: bool) -> None:
    queue_notifications_task(
        [
            NotificationRequest(
                recipient="person:hq.manager",
                template="test_message",
                context={"name": "周经理", "seq": key},
                idem_key=key,
                urgent=urgent,
            )
        ],
        now=NOON,
    )


def _wait_for(what, check) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"no {what} within {WAIT:.0f}s"
        time.sleep(0.05)


def _start(channels, paused=lambda: False):
    stop = threading.Event()
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(
            state=run_loop(
                settings=get_settings(),
                stop=stop,
                clock=lambda: NOON,
                paused=paused,
                load_channels=lambda: channels,
            )
        ),
        daemon=True,
    )
    thread.start()
    return stop, thread, result


def test_an_urgent_message_goes_at_once_the_rest_waits_for_a_pass(channels, sink, settings_env):
    settings_env(outbox_loop_seconds=3600, outbox_loop_urgent_poll_seconds=0.05)
    _queue("loop:before", urgent=False)
    stop, thread, result = _start(channels)
    try:
        _wait_for("first full pass", lambda: len(sink.to("person/hq.manager")) == 1)
        _queue("loop:later", urgent=False)
        time.sleep(0.5)  # many polls: they look for urgent rows only, the next pass is an hour off
        assert len(sink.to("person/hq.manager")) == 1
        _queue("loop:code", urgent=True)
        # The urgent row wakes a pass at once, and the pass sends everything due.
        _wait_for("urgent message", lambda: len(sink.to("person/hq.manager")) == 3)
        bodies = [m.body for m in sink.to("person/hq.manager")]
        assert "loop:before" in bodies[0] and {"loop:later", "loop:code"} <= {
            b.split("编号 ")[1].split("）")[0] for b in bodies[1:]
        }
    finally:
        stop.set()
        thread.join(WAIT)
    assert result["state"].passes == 2 and result["state"].urgent_passes == 1
    assert sink.duplicates == 0


def test_nothing_is_sent_while_the_deployment_is_paused(channels, sink, settings_env):
    settings_env(outbox_loop_seconds=0.1, outbox_loop_urgent_poll_seconds=0.05)
    switch = {"paused": True}
    stop, thread, _result = _start(channels, paused=lambda: switch["paused"])
    try:
        _queue("loop:paused", urgent=True)
        time.sleep(0.5)  # several passes and polls
        assert sink.messages == []
        switch["paused"] = False
        _wait_for("the message after resuming", lambda: len(sink.messages) == 1)
    finally:
        stop.set()
        thread.join(WAIT)


def test_clubflow_deliver_sends_what_is_due_once_without_a_flow_run(channels, sink):
    from prefect.client.orchestration import get_client
    from typer.testing import CliRunner

    from clubflow.cli import app

    _queue("cli:once", urgent=False)
    with get_client(sync_client=True) as client:
        runs = client.count_flow_runs()
        result = CliRunner().invoke(app, ["deliver"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "1 sent, 0 to retry, 0 deferred, 0 dead, 0 waiting" in result.output
        assert client.count_flow_runs() == runs
    again = CliRunner().invoke(app, ["deliver"], env={"COLUMNS": "200"})
    assert "0 sent" in again.output and len(sink.messages) == 1
