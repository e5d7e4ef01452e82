"""The warm-start server: imports once, then forks one child per flow run (`clubflow worker`).

    python -m clubflow.warmstart.server --socket PATH [--watch-pid PID]

A launcher (`clubflow-run`) connects to PATH and sends one request: a length-prefixed JSON
object (`cwd`, `env`, `argv`) with its stdin, stdout and stderr attached (SCM_RIGHTS). The
server forks; the child takes those streams, folder and environment and runs the engine's
`__main__` exactly as `python -m prefect.engine` would. The server answers `pid N`, later
`exit N` (negative: killed by signal N), or `stale` when the project's code changed on disk
since it was imported; it then stops taking runs, lets its children finish and exits, and
`clubflow worker` starts a fresh server.

Forking is only safe from a process with one thread, so the server refuses to start when the
imports left any thread running, and never starts one itself.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import random
import runpy
import select
import signal
import socket
import struct
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HEADER = struct.Struct("!I")
MAX_REQUEST = 1 << 22
POLL_SECONDS = 0.1


@dataclass
class Preloaded:
    """What the server imported, and the project files' stamps at that time."""

    root: Path
    modules: list[str]
    stamps: dict[str, int] = field(default_factory=dict)

    def changed(self) -> list[str]:
        """Project source files that changed (or went) since they were imported."""
        out = []
        for path, stamp in self.stamps.items():
            try:
                now = os.stat(path).st_mtime_ns
            except OSError:
                now = -1
            if now != stamp:
                out.append(path)
        return out


def entrypoint_modules(root: Path) -> list[str]:
    """The module of every deployment's entrypoint in prefect.yaml (`flows/x.py:f` -> flows.x)."""
    import yaml

    doc = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))
    paths = {d["entrypoint"].split(":", 1)[0] for d in doc.get("deployments") or []}
    return sorted(p.removesuffix(".py").replace("/", ".") for p in paths)


def preload() -> Preloaded:
    """Import what every run imports: Prefect's engine, the pull step, every flow module."""
    from deployments.steps import project_root

    root = project_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    importlib.import_module("prefect.flow_engine")
    importlib.import_module("deployments.steps")
    modules = entrypoint_modules(root)
    for name in modules:
        importlib.import_module(name)
    # What the pull step runs in every flow-run process: the schema check and masking.
    importlib.import_module("alembic.command")
    importlib.import_module("clubflow.core.logging")
    venv = Path(sys.prefix).resolve()
    stamps = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        resolved = Path(path).resolve()
        if resolved.is_relative_to(root) and not resolved.is_relative_to(venv):
            stamps[str(resolved)] = resolved.stat().st_mtime_ns
    return Preloaded(root=root, modules=modules, stamps=stamps)


def read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """One launcher's request and the three standard streams it attached."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    if len(fds) != 3 or len(data) < HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request carries three streams and a length")
    (size,) = HEADER.unpack_from(data)
    if size > MAX_REQUEST:
        raise ValueError(f"request of {size} bytes")
    body = bytearray(data[HEADER.size :])
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("launcher went away mid-request")
        body += chunk
    return json.loads(body), list(fds)


def become_run(conn: socket.socket, fds: list[int], request: dict) -> None:
    """In the forked child: take the launcher's streams, folder and environment, then run the
    engine as `python -m prefect.engine` does. Ends the process (SystemExit) when it is done."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["prefect.engine", *request.get("argv", [])]
    random.seed()
    refresh_environment()
    # The launcher is this run's process for the worker: when it is killed, so is the run.
    threading.Thread(target=die_with_launcher, args=(conn,), daemon=True).start()
    # As in `python -m prefect.engine`, __main__ and the imported prefect.engine are two module
    # objects; runpy warns because the import came first here.
    warnings.filterwarnings("ignore", "'prefect.engine' found in sys.modules", RuntimeWarning)
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def refresh_environment() -> None:
    """Settings read from the environment at import, read again from the run's."""
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    from clubflow.core.db import get_engine
    from clubflow.core.settings import get_settings

    refresh_global_settings_context()
    setup_logging(incremental=False)
    get_settings.cache_clear()
    get_engine.cache_clear()


def die_with_launcher(conn: socket.socket) -> None:
    try:
        while conn.recv(64):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


class Server:
    def __init__(self, path: Path, preloaded: Preloaded, watch_pid: int | None) -> None:
        self.path = path
        self.preloaded = preloaded
        self.watch_pid = watch_pid
        self.pid = os.getpid()
        self.children: dict[int, socket.socket] = {}
        self.accepting = True
        self.stopping = False  # set by SIGTERM/SIGINT; acted on between polls
        self.listener: socket.socket | None = None
        self.inode = -1

    def listen(self) -> None:
        """Bind beside PATH and rename into place, so a launcher never finds a half-ready
        server; the socket replaces a stale one left by an earlier server."""
        tmp = self.path.with_name(f".{self.path.name}.{self.pid}")
        tmp.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(tmp))
        listener.listen(64)
        os.replace(tmp, self.path)
        self.inode = os.stat(self.path).st_ino
        self.listener = listener

    def stop_accepting(self) -> None:
        """Take no more runs; remove PATH unless a newer server has replaced it."""
        if self.listener is None:
            return
        try:
            if os.stat(self.path).st_ino == self.inode:
                self.path.unlink()
        except OSError:
            pass
        self.listener.close()
        self.listener = None
        self.accepting = False

    def serve(self) -> None:
        while self.accepting or self.children:
            if self.accepting and (self.stopping or not self.watched_alive()):
                self.stop_accepting()
            ready = []
            if self.listener is not None:
                ready, _, _ = select.select([self.listener], [], [], POLL_SECONDS)
            else:
                time.sleep(POLL_SECONDS)
            self.reap()
            if ready and self.listener is not None:
                conn, _ = self.listener.accept()
                self.handle(conn)

    def watched_alive(self) -> bool:
        if self.watch_pid is None:
            return True
        try:
            os.kill(self.watch_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def handle(self, conn: socket.socket) -> None:
        try:
            request, fds = read_request(conn)
        except (OSError, ValueError) as exc:
            print(f"warm start: bad request: {exc}", file=sys.stderr, flush=True)
            conn.close()
            return
        changed = self.preloaded.changed()
        if changed:
            for fd in fds:
                os.close(fd)
            print(
                f"warm start: {changed[0]} changed since it was imported; this server takes "
                "no more runs (the worker starts a fresh one)",
                file=sys.stderr,
                flush=True,
            )
            self.reply(conn, "stale")
            conn.close()
            self.stop_accepting()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self.in_child(conn, fds, request)
        for fd in fds:
            os.close(fd)
        self.children[pid] = conn
        self.reply(conn, f"pid {pid}")
        run = request.get("env", {}).get("PREFECT__FLOW_RUN_ID", "?")
        print(f"warm start: flow run {run} forked as pid {pid}", file=sys.stderr, flush=True)

    def in_child(self, conn: socket.socket, fds: list[int], request: dict) -> None:
        if self.listener is not None:
            self.listener.close()
        for other in self.children.values():
            other.close()
        self.children.clear()
        self.accepting = False
        become_run(conn, fds, request)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is not None:
                self.reply(conn, f"exit {os.waitstatus_to_exitcode(status)}")
                conn.close()

    @staticmethod
    def reply(conn: socket.socket, line: str) -> None:
        with contextlib.suppress(OSError):  # the launcher is gone; its run went with it
            conn.sendall(f"{line}\n".encode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clubflow.warmstart.server")
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--watch-pid", type=int, default=None, help="exit when it is gone")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    preloaded = preload()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:
        raise SystemExit(f"warm start: importing started threads {threads}; cannot fork safely")
    server = Server(args.socket, preloaded, args.watch_pid)

    def stop(_signum, _frame) -> None:
        server.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.listen()
    print(
        f"warm start: {len(preloaded.modules)} flow modules imported in "
        f"{time.perf_counter() - started:.1f} s; runs start by fork at {args.socket}",
        file=sys.stderr,
        flush=True,
    )
    server.serve()


if __name__ == "__main__":
    main()
