"""`clubflow-run`: the command a `clubflow` pool's worker starts for each flow run.

It asks the warm-start server named by CLUBFLOW_WARM_SOCKET to fork the run, then stands in for
it: it forwards SIGTERM and SIGINT (Prefect's cancellation) to the run, and exits as the run
exited (killed by the same signal, or with its exit code). Without a server, or when the server
cannot take the run, it becomes `python -m prefect.engine`, the command Prefect would have run.
Standard library only: this process must start in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys

from clubflow.warmstart import SOCKET_ENV

HEADER = struct.Struct("!I")
FORWARDED = (signal.SIGTERM, signal.SIGINT)


def cold_start(reason: str = "") -> None:
    if reason:
        print(f"clubflow-run: {reason}; starting the run cold", file=sys.stderr, flush=True)
    argv = [sys.executable, "-m", "prefect.engine", *sys.argv[1:]]
    os.execv(sys.executable, argv)


def connect(path: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


def standard_streams() -> list[int]:
    """Descriptors 0, 1 and 2 for the run; a closed one is replaced by /dev/null."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            fd = os.open(os.devnull, os.O_RDWR)
        fds.append(fd)
    return fds


def main() -> None:
    path = os.environ.get(SOCKET_ENV)
    conn = connect(path) if path else None
    if conn is None:
        cold_start(f"no warm-start server at {path}" if path else "")
        return
    body = json.dumps({"cwd": os.getcwd(), "env": dict(os.environ), "argv": sys.argv[1:]})
    data = HEADER.pack(len(body.encode())) + body.encode()
    lines = conn.makefile("r", encoding="utf-8")
    try:
        socket.send_fds(conn, [data[: 1 << 15]], standard_streams())
        if len(data) > 1 << 15:
            conn.sendall(data[1 << 15 :])
        answer = lines.readline().split()
    except OSError as exc:
        answer = ["error", str(exc)]
    if not answer or answer[0] != "pid":
        conn.close()
        if answer == ["stale"]:
            cold_start("the code changed since the warm-start server imported it")
        cold_start(f"the warm-start server did not take the run ({' '.join(answer) or 'closed'})")
        return
    pid = int(answer[1])

    def forward(signum, _frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    while True:
        try:
            line = lines.readline()
        except InterruptedError:
            continue
        break
    status = line.split()
    if len(status) != 2 or status[0] != "exit":
        print(
            f"clubflow-run: the warm-start server went away; run process {pid}'s exit "
            "status is unknown",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)
    code = int(status[1])
    if code < 0:
        # Die of the same signal, so the worker reports the run as Prefect would.
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
