"""Fixtures of the activity flow tests: the activity deployments served on the test server."""

from __future__ import annotations

import pytest
from gate_runner import GateRunner

DEPLOYMENTS = ["activity-lifecycle", "activity-claim"]


@pytest.fixture(scope="session")
def _activity_runner(prefect_server) -> GateRunner:
    return GateRunner(DEPLOYMENTS)


@pytest.fixture
def runner(_activity_runner, channels) -> GateRunner:
    """The runner with no runs left from another test (their database is gone)."""
    _activity_runner.reset()
    return _activity_runner


@pytest.fixture
def reports_dir(tmp_path, settings_env):
    settings_env(reports_dir=tmp_path / "reports")
    return tmp_path / "reports"
