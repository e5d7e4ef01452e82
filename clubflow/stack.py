"""`clubflow up`: a Prefect server, the project database, blocks, the demo world, every deployment.

Everything started here is stopped by Ctrl-C. Server and project data live under ./.clubflow/.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console

from clubflow.db import migrate, safe_url, session_scope
from clubflow.settings import get_settings

HOME = Path(".clubflow")
INBOX_PORT_OFFSET = 100


def prefect_env(port: int) -> dict[str, str]:
    """The Prefect settings of the local stack (applied to this process and its children)."""
    return {
        "PREFECT_HOME": str((HOME / "prefect").resolve()),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }


def wait_healthy(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Prefect server did not answer on 127.0.0.1:{port} within {timeout:.0f}s")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stop(processes: list[subprocess.Popen]) -> None:
    for proc in reversed(processes):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in reversed(processes):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_stack(*, port: int, seed: bool, console: Console) -> int:
    from blocks import register_block_types
    from clubflow.inbox import start_sink
    from clubflow.world import inbox_channels, seed_demo_world
    from domain.privacy import mask_text

    HOME.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the stack like Ctrl-C does
    os.environ.update(prefect_env(port))
    settings = get_settings()
    prefect_bin = shutil.which("prefect") or str(Path(sys.executable).with_name("prefect"))
    processes: list[subprocess.Popen] = []
    try:
        console.print(f"starting Prefect server on 127.0.0.1:{port} (data in {HOME}/prefect)")
        log = (HOME / "server.log").open("a")
        processes.append(
            subprocess.Popen(
                [prefect_bin, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_healthy(port)

        migrate(settings.database_url)
        register_block_types()
        console.print(f"project database {safe_url(settings.database_url)} migrated")

        inbox_port = port + INBOX_PORT_OFFSET
        _sink, inbox = start_sink(
            port=inbox_port,
            journal=HOME / "inbox.jsonl",
            on_message=lambda m: console.print(
                f"[dim]inbox[/dim] {m.path}: {mask_text(m.title)}", highlight=False
            ),
        )
        with session_scope(settings.database_url) as session:
            if seed:
                counts = seed_demo_world(session=session)
                console.print(f"demo world seeded: {counts}")
            channels = inbox_channels(session=session, inbox_url=f"json://127.0.0.1:{inbox_port}")
        channels.save("default", overwrite=True)
        console.print(
            f"notifications go to the demo inbox on 127.0.0.1:{inbox_port} ({HOME}/inbox.jsonl)"
        )

        processes.append(subprocess.Popen([sys.executable, "-m", "deployments.serve"]))
        console.print(
            f"\n[bold green]clubflow is up:[/bold green] http://127.0.0.1:{port}  "
            "(Ctrl-C stops everything)\n"
        )
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        console.print("[red]a component stopped; shutting down[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("stopping...")
        return 0
    finally:
        _stop(processes)
        if "inbox" in locals():
            inbox.shutdown()
