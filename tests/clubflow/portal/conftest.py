"""The portal under test: the real app over the test world's store, a fixed clock, and the
outbox delivered to the loopback sink on demand (as the running portal does after a code)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from portal_client import Clock, Portal

from clubflow.core.settings import get_settings
from clubflow.portal.app import create_app


@pytest.fixture
def portal(channels, db_url, sink) -> Iterator[Portal]:
    from tasks.outbox import deliver_due

    settings = get_settings()
    clock = Clock()

    def deliver() -> None:
        deliver_due(url=db_url, channels=channels, now=clock(), settings=settings)

    app = create_app(settings=settings, now=clock, deliver=deliver)
    yield Portal(app=app, clock=clock, sink=sink)
