"""Fixtures of the planning flow tests: the shared world without its random members (the club
report counts members by join date, so each test adds its own), and helpers."""

from __future__ import annotations

import pytest
from gate_runner import GateRunner
from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.world import WorldSize, seed_demo_world


@pytest.fixture
def world(db_url) -> dict:
    """7 regions × 2 clubs, their dealers and admins, specialists; no members, no leads."""
    with session_scope(db_url) as session:
        return seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0)
        )


@pytest.fixture
def count(db_url):
    def rows(model) -> int:
        with session_scope(db_url) as session:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

    return rows


@pytest.fixture(scope="session")
def _quarter_runner(prefect_server) -> GateRunner:
    return GateRunner(["plan-quarter"])


@pytest.fixture
def quarter_runner(_quarter_runner, channels) -> GateRunner:
    """plan-quarter served under the harness, with no runs left from another test."""
    _quarter_runner.reset()
    return _quarter_runner
