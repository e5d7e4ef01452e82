"""Shared fixtures: one Prefect test server per session, databases on SQLite and PostgreSQL,
a loopback sink for real Apprise deliveries, and a small world to act in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from clock import WORLD_NOW
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness

from blocks import register_block_types
from blocks.channels import NotificationChannels
from clubflow.core.db import get_engine, migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.inbox import Sink, start_sink
from clubflow.world import WorldSize, inbox_channels, seed_demo_world

PG_ADMIN = os.environ.get("CLUBFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _cli_stack_env_is_per_test():
    """A CLI command run in-process points os.environ at a stack (`use_running_stack`): keep
    that from leaking into later tests and the processes they start."""
    keys = ("PREFECT_API_URL", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "CLUBFLOW_DATABASE_URL")
    before = {key: os.environ.get(key) for key in keys}
    yield
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    # Flow heartbeats cost ~1 s per flow run; tests do not need them.
    with temporary_settings(
        {
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW: "ignore",
            # Offline machine: telemetry would only log errors.
            PREFECT_SERVER_ANALYTICS_ENABLED: False,
        }
    ):
        with prefect_test_harness(server_startup_timeout=120):
            register_block_types()
            # The environment names the API, as it does for the CLI and the stack's processes:
            # `decide` resumes runs over HTTP here too (test_gate_resume_api.py takes the
            # Prefect-client path).
            os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
            try:
                yield
            finally:
                os.environ.pop("PREFECT_API_URL", None)


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'clubflow.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN} is required under CI=true")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"clubflow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request) -> str:
    """A fresh, empty database of each kind the project supports."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def settings_env(monkeypatch):
    """Set CLUBFLOW_* settings for one test; the cache is cleared around it."""

    def apply(**values) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"CLUBFLOW_{key.upper()}", str(value))
        get_settings.cache_clear()

    get_settings.cache_clear()
    yield apply
    get_settings.cache_clear()


@pytest.fixture
def db_url(sqlite_url, settings_env) -> str:
    """A migrated SQLite database that the flows under test use."""
    settings_env(database_url=sqlite_url, outbox_retry_backoff_seconds=60)
    migrate(sqlite_url)
    return sqlite_url


@pytest.fixture
def world(db_url) -> dict:
    with session_scope(db_url) as session:
        return seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=60, leads=0), now=WORLD_NOW
        )


@pytest.fixture
def sink() -> Iterator[Sink]:
    sink, server = start_sink()
    yield sink
    server.shutdown()


@pytest.fixture
def channels(prefect_server, world, db_url, sink) -> NotificationChannels:
    """Every person, dealer and role of the world reaches the sink at its own path."""
    with session_scope(db_url) as session:
        block = inbox_channels(session=session, inbox_url=sink.base)
    block.save("default", overwrite=True)
    return block
