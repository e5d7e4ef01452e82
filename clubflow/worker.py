"""`clubflow worker`: a Prefect process worker of the `clubflow` pool, with its warm start.

Two supervised processes: the warm-start server (clubflow/warmstart), which forks each flow run
from a process that has already imported Prefect and the flows, and `prefect worker start`,
whose runs start with `clubflow-run`. A part that dies is restarted with a backoff (a server
that found the code changed on disk exits once its runs are done and comes back fresh); Ctrl-C
or SIGTERM stops the worker first, then lets the server's runs finish.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from clubflow.deploy import worker_command
from clubflow.stack import Part, Supervisor
from clubflow.warmstart import SOCKET_ENV

READY_WITHIN_S = 120.0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_worker(*, api_url: str, name: str, limit: int, warm: bool, console: Console) -> None:
    argv, env = worker_command(api_url=api_url, name=name, limit=limit)
    # `clubflow-run` is installed beside this interpreter, whatever the caller's PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    folder = Path(tempfile.mkdtemp(prefix="clubflow-warm-"))
    supervisor = Supervisor(console)
    if warm:
        socket_path = folder / "runs.sock"
        env[SOCKET_ENV] = str(socket_path)
        server = [sys.executable, "-m", "clubflow.warmstart.server", "--socket", str(socket_path)]
        part = supervisor.add(
            Part("warm-start", [*server, "--watch-pid", str(os.getpid())], env=env)
        )
        # Take runs once they can start warm (a run before then would only start cold).
        deadline = time.monotonic() + READY_WITHIN_S
        while not socket_path.exists() and part.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
    else:
        env.pop(SOCKET_ENV, None)
        console.print("warm start off: every run starts a new Python process")
    supervisor.add(Part("worker", argv, env=env))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            supervisor.tick()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
        shutil.rmtree(folder, ignore_errors=True)
