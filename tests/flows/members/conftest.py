"""Fixtures of the members flow tests: the world with its members kept out of the way."""

from __future__ import annotations

import pytest

from clubflow.core.db import session_scope
from domain.models import Member


@pytest.fixture
def members_world(channels, db_url):
    """The world with its 60 members parked (no birthday, expired status), so each test's own
    members are the only ones its flows act on."""
    with session_scope(db_url) as session:
        session.execute(Member.__table__.update().values(birthday=None, status="expired"))
    return db_url
