"""Test-only kill points for the SIGKILL drills (tests/flows/test_run_recovery_drills.py).

`GateRunner.execute_until_killed` starts `python -m prefect.engine` with this folder on
PYTHONPATH and `CLUBFLOW_DRILL_KILL_AT` set. At that point the child writes the marker file
and waits; the drill then SIGKILLs it. Nothing here is imported by production code.

- `suspending`: the run is Paused, its input form not yet stored.
- `resumed`: the resumed run has read the answer it was given, nothing is recorded yet.
- `mid-task`: inside a notification-queueing task, rows inserted, transaction not committed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINT = os.environ.get("CLUBFLOW_DRILL_KILL_AT", "")
MARKER = os.environ.get("CLUBFLOW_DRILL_MARKER", "")


def _halt(where: str) -> None:
    Path(MARKER).write_text(where, encoding="utf-8")
    while True:  # the drill kills this process here
        time.sleep(0.5)


if POINT == "suspending":
    import prefect.input.run_input as run_input

    _create = run_input.create_flow_run_input

    def create_flow_run_input(key, value, flow_run_id=None, sender=None):
        if str(key).endswith("schema"):
            _halt("suspending")
        return _create(key=key, value=value, flow_run_id=flow_run_id, sender=sender)

    run_input.create_flow_run_input = create_flow_run_input

elif POINT == "resumed":
    import prefect.input.run_input as run_input

    _read = run_input.read_flow_run_input

    def read_flow_run_input(key, flow_run_id=None):
        value = _read(key=key, flow_run_id=flow_run_id)
        if str(key).endswith("response") and value:
            _halt("resumed")
        return value

    run_input.read_flow_run_input = read_flow_run_input

elif POINT == "mid-task":
    import tasks.outbox as outbox

    _queue = outbox.queue_notifications

    def queue_notifications(**kwargs):
        result = _queue(**kwargs)
        if result.queued:
            _halt("mid-task")  # inserted, not committed
        return result

    outbox.queue_notifications = queue_notifications
