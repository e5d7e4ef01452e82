"""`clubflow up`: a Prefect server, the project database, blocks, the demo world, every deployment.

The parts (server, demo inbox, serve process, delivery loop, portal) are supervised: a part that
dies is restarted with a backoff; everything stops only on Ctrl-C or SIGTERM. `up` writes
`<home>/stack.json` (API URL, data folder, database URL, pids) so a CLI command in another shell
finds the running stack.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from rich.console import Console

DEFAULT_HOME = Path(".clubflow")
STACK_FILE = "stack.json"
DEFAULT_PORT = 4200
INBOX_PORT_OFFSET = 100
# The portal answers beside the Prefect UI: http://127.0.0.1:<PORT+1>.
PORTAL_PORT_OFFSET = 1
# Flow-run heartbeats let a dead run be told apart from a long one (zombie-run recovery).
HEARTBEAT_ENV = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}

# Restart backoff: 1 s, 2 s, 4 s ... at most 30 s; a part that ran a minute starts over at 1 s.
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0


class NoStack(RuntimeError):
    """No clubflow stack answers at the API URL a command would use."""


def api_base(api_url: str) -> str:
    return api_url.rstrip("/").removesuffix("/api")


def no_stack_message(api_url: str) -> str:
    return f"no clubflow stack answers at {api_base(api_url)} — start it with make up"


def answers(api_url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def apply_env(values: dict[str, str]) -> None:
    """Set environment variables for this process and its children; Prefect reads its settings
    once at import, so its global settings are refreshed when it is already imported."""
    os.environ.update(values)
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()
    if "clubflow.core.settings" in sys.modules:
        sys.modules["clubflow.core.settings"].get_settings.cache_clear()


# -- what a client needs to find the stack ------------------------------------------------


@dataclass
class StackInfo:
    api_url: str
    home: str
    database_url: str
    pid: int
    parts: dict[str, int] = field(default_factory=dict)  # part name -> pid
    portal_url: str = ""


def write_stack_info(home: Path, info: StackInfo) -> None:
    tmp = home / f".{STACK_FILE}.tmp"
    tmp.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    tmp.replace(home / STACK_FILE)  # atomic: a reader never sees half a file


def read_stack_info(home: Path = DEFAULT_HOME) -> StackInfo | None:
    try:
        data = json.loads((home / STACK_FILE).read_text(encoding="utf-8"))
        return StackInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def use_running_stack(home: Path = DEFAULT_HOME) -> str:
    """Point this CLI process at the running stack (unless PREFECT_API_URL is set).

    Without a stack file the API URL is the default stack's, never unset: an unset URL would
    make Prefect start a temporary server of its own, which knows none of the deployments.
    Returns the API URL in use.
    """
    info = read_stack_info(home)
    if info and info.portal_url and not os.environ.get("CLUBFLOW_PORTAL_URL"):
        # Links in what this command queues point at the running stack's portal.
        apply_env({"CLUBFLOW_PORTAL_URL": info.portal_url})
    auth = home / AUTH_FILE
    if auth.exists() and not os.environ.get("PREFECT_API_AUTH_STRING"):
        # A --public stack: its API asks for the auth string `up` keeps beside stack.json.
        apply_env({"PREFECT_API_AUTH_STRING": auth.read_text(encoding="utf-8").strip()})
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url  # a Prefect profile, or a test harness
    if configured:
        return configured
    values = {
        "PREFECT_API_URL": info.api_url if info else f"http://127.0.0.1:{DEFAULT_PORT}/api",
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
    }
    if info and not os.environ.get("CLUBFLOW_DATABASE_URL"):
        values["CLUBFLOW_DATABASE_URL"] = info.database_url
    apply_env(values)
    return values["PREFECT_API_URL"]


def unreachable_api(exc: BaseException | None, api_url: str) -> bool:
    """Whether `exc` (or what caused it) is a failed connection to the Prefect API at `api_url`
    (not to some other HTTP peer a command talks to)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            try:
                url = str(exc.request.url)
            except RuntimeError:  # no request attached: cannot be told apart, assume Prefect
                return True
            return url.startswith(api_base(api_url))
        exc = exc.__cause__ or exc.__context__
    return False


# -- the stack ----------------------------------------------------------------------------


def prefect_env(port: int, home: Path, *, public: bool = False) -> dict[str, str]:
    """The Prefect settings of the local stack (applied to this process and its children).

    `public`: the server listens on every interface, so its API asks every client for the
    stack's auth string (basic auth; the UI asks for it once in the browser)."""
    env = {
        "PREFECT_HOME": str((home / "prefect").resolve()),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }
    if public:
        auth = api_auth_string(home)
        host = os.environ.get("CLUBFLOW_PUBLIC_HOST") or socket.gethostname()
        env.update(
            {
                "PREFECT_SERVER_API_HOST": "0.0.0.0",
                "PREFECT_UI_API_URL": f"http://{host}:{port}/api",
                "PREFECT_SERVER_API_AUTH_STRING": auth,
                "PREFECT_API_AUTH_STRING": auth,
            }
        )
    return env


AUTH_FILE = "api-auth"


def api_auth_string(home: Path) -> str:
    """The `user:password` a --public stack's API asks for: made once, kept in
    `<home>/api-auth` readable by its owner only (never in stack.json)."""
    path = home / AUTH_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    value = f"clubflow:{secrets.token_urlsafe(24)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def wait_healthy(port: int, timeout: float = 90.0, alive: Callable[[], bool] = lambda: True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(f"http://127.0.0.1:{port}/api"):
            return
        if not alive():
            raise RuntimeError(f"Prefect server on 127.0.0.1:{port} stopped while starting")
        time.sleep(0.5)
    raise RuntimeError(f"Prefect server did not answer on 127.0.0.1:{port} within {timeout:.0f}s")


@dataclass
class Part:
    """One supervised process of the stack."""

    name: str
    argv: list[str]
    log: Path | None = None  # None: inherit the console
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        out = self.log.open("a") if self.log else None
        self.proc = subprocess.Popen(
            self.argv, stdout=out, stderr=subprocess.STDOUT if out else None,
            env={**os.environ, **self.env},
        )  # fmt: skip
        if out:
            out.close()  # the child keeps its own handle
        self.started_at = time.monotonic()
        self.restart_at = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Restart a part that died, with a backoff, and say so; stop all in reverse order."""

    def __init__(self, console: Console, on_change: Callable[[], None] = lambda: None):
        self.console = console
        self.parts: list[Part] = []
        self.on_change = on_change

    def add(self, part: Part) -> Part:
        part.start()
        self.parts.append(part)
        self.on_change()
        return part

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for part in self.parts:
            if part.restart_at is None and not part.alive():
                code = part.proc.returncode if part.proc else None
                if now - part.started_at >= STABLE_AFTER:
                    part.failures = 0
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2**part.failures)
                part.failures += 1
                part.restart_at = now + delay
                self.console.print(
                    f"[yellow]{part.name} stopped (exit {code}); restarting in {delay:.0f}s"
                    f"[/yellow]"
                )
            elif part.restart_at is not None and now >= part.restart_at:
                part.start()
                self.console.print(f"[yellow]{part.name} restarted (pid {part.proc.pid})[/yellow]")
                self.on_change()

    def pids(self) -> dict[str, int]:
        return {p.name: p.proc.pid for p in self.parts if p.proc is not None}

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.alive():
                part.proc.send_signal(signal.SIGINT)
        for part in reversed(self.parts):
            if part.proc is None:
                continue
            try:
                part.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                part.proc.kill()
                part.proc.wait(timeout=5)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def stack_database_url(home: Path) -> str:
    """The project database: CLUBFLOW_DATABASE_URL (or .env) if given, else one in `home`."""
    from clubflow.core.settings import Settings, get_settings

    configured = get_settings().database_url
    if configured != Settings.model_fields["database_url"].default:
        return configured
    return f"sqlite:///{(home / 'clubflow.db').resolve()}"


def ensure_demo_channels(*, inbox_url: str, console: Console) -> bool:
    """Route notifications to the demo inbox, but never over real settings.

    The demo's block is written only in development, and only when no `default` channels block
    exists or the existing one is the demo's own (marked `demo_inbox`). Returns whether the demo
    inbox is in use.
    """
    from blocks.channels import NotificationChannels
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from clubflow.world import inbox_channels
    from tasks.outbox import CHANNELS_BLOCK

    settings = get_settings()
    existing = read_channels_document(CHANNELS_BLOCK)
    slug = NotificationChannels._block_type_slug
    if settings.environment != "development":
        if existing is None:
            console.print(
                f"[red]no channels block {slug}/{CHANNELS_BLOCK}[/red]: notifications fail "
                "until it exists (clubflow deploy creates it)"
            )
        else:
            console.print(f"notifications use the channels block {slug}/{CHANNELS_BLOCK}")
        return False
    if existing is not None and not existing.get("demo_inbox"):
        console.print(
            f"notifications use the real channels block {slug}/{CHANNELS_BLOCK} "
            "(kept; the demo inbox gets nothing)"
        )
        return False
    with session_scope(settings.database_url) as session:
        channels = inbox_channels(session=session, inbox_url=inbox_url)
    channels.save(CHANNELS_BLOCK, overwrite=True)
    return True


def read_channels_document(name: str) -> dict | None:
    """The stored fields of a channels block, or None when there is none (no validation: a
    real block is judged by its marker, not by whether its URLs parse here)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from blocks.channels import NotificationChannels

    with get_client(sync_client=True) as client:
        try:
            document = client.read_block_document_by_name(
                name, NotificationChannels._block_type_slug, include_secrets=False
            )
        except ObjectNotFound:
            return None
    return dict(document.data)


def run_stack(
    *, port: int, seed: bool, console: Console, home: Path = DEFAULT_HOME, public: bool = False
) -> int:
    home.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the stack like Ctrl-C does
    database_url = stack_database_url(home)
    portal_port = port + PORTAL_PORT_OFFSET
    # Links in notifications point here; a deployment behind a proxy sets its public address.
    portal_url = os.environ.get("CLUBFLOW_PORTAL_URL") or f"http://127.0.0.1:{portal_port}"
    apply_env(
        {
            **prefect_env(port, home, public=public),
            "CLUBFLOW_DATABASE_URL": database_url,
            "CLUBFLOW_PORTAL_URL": portal_url,
        }
    )

    from blocks import register_block_types
    from clubflow.core.db import migrate, safe_url, session_scope
    from clubflow.core.settings import get_settings
    from clubflow.world import seed_demo_world

    settings = get_settings()
    api_url = f"http://127.0.0.1:{port}/api"
    prefect_bin = shutil.which("prefect") or str(Path(sys.executable).with_name("prefect"))

    def record() -> None:
        info = StackInfo(
            api_url=api_url,
            home=str(home.resolve()),
            database_url=database_url,
            pid=os.getpid(),
            parts=supervisor.pids(),
            portal_url=portal_url,
        )
        write_stack_info(home, info)

    supervisor = Supervisor(console, on_change=record)
    try:
        where = "every interface" if public else "127.0.0.1"
        console.print(f"starting Prefect server on {where}:{port} (data in {home}/prefect)")
        if public:
            console.print(
                f"the Prefect API asks for its auth string, kept in {home / AUTH_FILE}: "
                "set PREFECT_API_AUTH_STRING to it on other machines"
            )
        server = supervisor.add(
            Part(
                "server",
                [prefect_bin, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                log=home / "server.log",
            )
        )
        wait_healthy(port, alive=server.alive)

        migrate(database_url)
        register_block_types()
        console.print(f"project database {safe_url(database_url)} migrated")

        if seed and settings.environment == "development":
            with session_scope(database_url) as session:
                counts = seed_demo_world(session=session)
            console.print(f"demo world seeded: {counts}")

        inbox_port = port + INBOX_PORT_OFFSET
        journal = home / "inbox.jsonl"
        supervisor.add(
            Part(
                "inbox",
                [
                    sys.executable,
                    "-m",
                    "clubflow.stack",
                    "inbox",
                    "--port",
                    str(inbox_port),
                    "--journal",
                    str(journal),
                ],
            )  # fmt: skip
        )
        if ensure_demo_channels(inbox_url=f"json://127.0.0.1:{inbox_port}", console=console):
            console.print(
                f"notifications go to the demo inbox on 127.0.0.1:{inbox_port} ({journal})"
            )

        supervisor.add(
            Part(
                "serve",
                [sys.executable, "-m", "deployments.serve"],
                env={
                    **HEARTBEAT_ENV,
                    "PREFECT_RUNNER_POLL_FREQUENCY": str(settings.run_poll_seconds),
                },
            )
        )
        # The outbox is delivered by this loop, not by a flow run a minute (docs/outbox.md).
        supervisor.add(
            Part("deliver", [sys.executable, "-m", "clubflow.delivery"], log=home / "deliver.log")
        )
        supervisor.add(
            Part(
                "portal",
                [sys.executable, "-m", "clubflow.portal", "--port", str(portal_port)]
                + (["--host", "0.0.0.0"] if public else []),
                log=home / "portal.log",
            )
        )
        console.print(
            f"\n[bold green]clubflow is up:[/bold green] Prefect UI http://127.0.0.1:{port}  "
            f"portal {portal_url}  (Ctrl-C stops everything)\n"
        )
        while True:
            supervisor.tick()
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping...")
        return 0
    except RuntimeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    finally:
        supervisor.stop()
        (home / STACK_FILE).unlink(missing_ok=True)


# -- the demo inbox as its own process (`python -m clubflow.stack inbox`) -----------------


def _shows_body(title: str) -> bool:
    """Sign-in and decision codes are echoed whole: in the demo, the console is the phone."""
    return "验证码" in title or "决定码" in title


def _serve_inbox(port: int, journal: Path) -> None:
    from clubflow.inbox import start_sink
    from domain.privacy import mask_text

    console = Console()
    _sink, server = start_sink(
        port=port,
        journal=journal,
        on_message=lambda m: console.print(
            f"[dim]inbox[/dim] {m.path}: {mask_text(m.title)}"
            + (f" — {mask_text(m.body)}" if _shows_body(m.title) else ""),
            highlight=False,
        ),
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clubflow.stack")
    sub = parser.add_subparsers(dest="part", required=True)
    inbox = sub.add_parser("inbox", help="the demo inbox (loopback HTTP sink)")
    inbox.add_argument("--port", type=int, required=True)
    inbox.add_argument("--journal", type=Path, required=True)
    args = parser.parse_args(argv)
    _serve_inbox(args.port, args.journal)


if __name__ == "__main__":
    main()
