"""The stack's own logic: restart with backoff, finding the stack, never overwriting real
channels. Processes are real (tiny Python children); time is passed to the supervisor."""

from __future__ import annotations

import json
import os
import sys

import httpx
import pytest
from rich.console import Console

from blocks.channels import NotificationChannels
from clubflow.stack import (
    Part,
    StackInfo,
    Supervisor,
    ensure_demo_channels,
    read_stack_info,
    unreachable_api,
    use_running_stack,
    write_stack_info,
)


def _console() -> Console:
    return Console(record=True, width=200)


@pytest.fixture
def clean_env(monkeypatch):
    """use_running_stack writes os.environ and Prefect's global settings: undo both."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    for key in (
        "PREFECT_API_URL",
        "PREFECT_API_AUTH_STRING",
        "CLUBFLOW_DATABASE_URL",
        "CLUBFLOW_PORTAL_URL",
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE",
    ):
        monkeypatch.delenv(key, raising=False)
    # As in a fresh shell: no API URL configured (the test server of other tests unset).
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield monkeypatch
    monkeypatch.undo()
    import prefect.context

    from clubflow.core.settings import get_settings

    prefect.context.refresh_global_settings_context()
    get_settings.cache_clear()  # settings read while the stack's values were set


def test_a_part_that_dies_is_restarted_with_a_growing_backoff():
    console = _console()
    changes = []
    sup = Supervisor(console, on_change=lambda: changes.append(1))
    part = sup.add(Part("serve", [sys.executable, "-c", "raise SystemExit(3)"]))
    part.proc.wait(timeout=60)
    t0 = part.started_at + 1.0

    sup.tick(now=t0)
    assert "serve stopped (exit 3); restarting in 1s" in console.export_text()
    first = part.proc
    sup.tick(now=t0 + 0.5)
    assert part.proc is first  # not before its backoff
    sup.tick(now=t0 + 1.0)
    assert part.proc is not first and "serve restarted" in console.export_text()

    part.proc.wait(timeout=60)
    sup.tick(now=t0 + 2.0)
    assert "restarting in 2s" in console.export_text()
    assert len(changes) == 2  # stack.json is rewritten on start and on each restart


def test_a_part_that_ran_a_minute_starts_its_backoff_over():
    console = _console()
    sup = Supervisor(console)
    part = sup.add(Part("inbox", [sys.executable, "-c", "raise SystemExit(1)"]))
    part.proc.wait(timeout=60)
    part.failures = 4  # it had failed before
    sup.tick(now=part.started_at + 61)
    assert "inbox stopped (exit 1); restarting in 1s" in console.export_text()


def test_stop_ends_every_part():
    sup = Supervisor(_console())
    parts = [
        sup.add(Part(name, [sys.executable, "-c", "import time; time.sleep(60)"]))
        for name in ("server", "serve")
    ]
    sup.stop()
    assert all(p.proc.poll() is not None for p in parts)


def test_a_command_finds_the_running_stack_from_its_file(tmp_path, clean_env):
    info = StackInfo(
        api_url="http://127.0.0.1:4999/api",
        home=str(tmp_path),
        database_url=f"sqlite:///{tmp_path}/clubflow.db",
        pid=os.getpid(),
        parts={"serve": 1},
    )
    write_stack_info(tmp_path, info)
    assert read_stack_info(tmp_path) == info
    assert json.loads((tmp_path / "stack.json").read_text())["api_url"] == info.api_url

    assert use_running_stack(tmp_path) == "http://127.0.0.1:4999/api"
    assert os.environ["CLUBFLOW_DATABASE_URL"] == info.database_url
    assert os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] == "false"


def test_links_a_command_queues_point_at_the_running_stacks_portal(tmp_path, clean_env):
    """Also when the shell names the API itself (PREFECT_API_URL set): a hand-off queued by
    `clubflow leads outcome` links the portal of the stack, not the default address."""
    from clubflow.core.settings import get_settings

    info = StackInfo(
        api_url="http://127.0.0.1:4350/api",
        home=str(tmp_path),
        database_url=f"sqlite:///{tmp_path}/clubflow.db",
        pid=os.getpid(),
        portal_url="http://127.0.0.1:4351",
    )
    write_stack_info(tmp_path, info)
    clean_env.setenv("PREFECT_API_URL", "http://127.0.0.1:4350/api")
    use_running_stack(tmp_path)
    assert get_settings().portal_url == "http://127.0.0.1:4351"


def test_without_a_stack_file_the_default_stack_is_used_never_a_temporary_server(
    tmp_path, clean_env
):
    assert use_running_stack(tmp_path) == "http://127.0.0.1:4200/api"


def test_a_configured_prefect_api_wins_and_the_environment_is_left_alone(tmp_path, clean_env):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    write_stack_info(tmp_path, StackInfo("http://127.0.0.1:4999/api", "h", "sqlite://", 1))
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4777/api"}):
        assert use_running_stack(tmp_path) == "http://127.0.0.1:4777/api"
    assert "PREFECT_API_URL" not in os.environ


def test_an_explicit_api_url_wins(tmp_path, clean_env):
    clean_env.setenv("PREFECT_API_URL", "http://10.0.0.5:4200/api")
    write_stack_info(tmp_path, StackInfo("http://127.0.0.1:4999/api", "h", "sqlite://", 1))
    assert use_running_stack(tmp_path) == "http://10.0.0.5:4200/api"


def test_only_a_failed_connection_to_the_prefect_api_counts_as_no_stack():
    def refused(url: str) -> Exception:
        try:
            httpx.get(url, timeout=2)
        except httpx.ConnectError as exc:
            return exc
        raise AssertionError("expected a refused connection")

    # Port 9 (discard) is closed on loopback here; the error names its URL.
    api = refused("http://127.0.0.1:9/api/health")
    other = refused("http://127.0.0.1:9/leads")
    assert not unreachable_api(RuntimeError("not a connection"), "http://127.0.0.1:9/api")
    assert unreachable_api(api, "http://127.0.0.1:9/api")
    assert not unreachable_api(other, "http://127.0.0.1:8/api")


@pytest.mark.slow
def test_the_demo_writes_its_inbox_channels_only_over_its_own_block(
    prefect_server, world, settings_env
):
    console = _console()
    # No block yet: the demo's own, marked.
    assert ensure_demo_channels(inbox_url="json://127.0.0.1:9001", console=console)
    demo = NotificationChannels.load("default")
    assert demo.demo_inbox and demo.urls_for("person:hq.manager") == [
        "json://127.0.0.1:9001/person/hq.manager"
    ]
    # The demo's block is replaced (a new inbox port).
    assert ensure_demo_channels(inbox_url="json://127.0.0.1:9002", console=console)
    assert NotificationChannels.load("default").urls_for("role:it") == [
        "json://127.0.0.1:9002/role/it"
    ]

    # A real block is never overwritten, and up says which one it uses.
    NotificationChannels(people={"hq.manager": "mailto://ops:pw@example.com"}).save(
        "default", overwrite=True
    )
    assert not ensure_demo_channels(inbox_url="json://127.0.0.1:9003", console=console)
    real = NotificationChannels.load("default")
    assert not real.demo_inbox
    assert real.urls_for("person:hq.manager") == ["mailto://ops:pw@example.com"]
    assert "use the real channels block clubflow-notification-channels/default (kept" in (
        console.export_text()
    )

    # Outside development the demo never writes, even with no block.
    NotificationChannels(demo_inbox=True).save("default", overwrite=True)
    settings_env(environment="production", signing_key="a-real-signing-key-7f3a")
    assert not ensure_demo_channels(inbox_url="json://127.0.0.1:9004", console=console)
    assert NotificationChannels.load("default").people.get_secret_value() == {}
