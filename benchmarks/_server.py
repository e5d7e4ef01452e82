"""The Prefect server a benchmark runs its flow on: the test harness, quiet and fast.

Heartbeats and telemetry off, clubflow's block types registered, and a channels block whose
URLs lead nowhere (port 9): a benchmark measures queueing, not delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bench_server(database_url: str) -> Iterator[None]:
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    from blocks import register_block_types
    from clubflow.core.db import session_scope
    from clubflow.world import inbox_channels

    quiet = {
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW: "ignore",
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
    }
    with temporary_settings(quiet), prefect_test_harness(server_startup_timeout=120):
        register_block_types()
        with session_scope(database_url) as session:
            inbox_channels(session=session, inbox_url="json://127.0.0.1:9").save(
                "default", overwrite=True
            )
        yield
