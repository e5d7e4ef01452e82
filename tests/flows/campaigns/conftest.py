"""Fixtures of the campaign flow tests: the deployments served for the test server.

`gate_runner` is importable machinery (tests/gate_runner.py); the activity tests can build
their own fixture the same way with their deployment names.
"""

from __future__ import annotations

import pytest
from gate_runner import GateRunner


@pytest.fixture(scope="session")
def _campaign_runner(prefect_server) -> GateRunner:
    from gate_probe import gate_probe

    return GateRunner(["campaign-pipeline"], flows={"gate-probe": gate_probe})


@pytest.fixture
def gate_runner(_campaign_runner, channels) -> GateRunner:
    """The runner with no runs left from another test (their database is gone)."""
    _campaign_runner.reset()
    return _campaign_runner


@pytest.fixture
def reports_dir(tmp_path, settings_env, db_url):
    path = tmp_path / "reports"
    settings_env(campaign_reports_dir=str(path))
    return path
