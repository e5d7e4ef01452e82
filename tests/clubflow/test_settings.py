from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ


def test_defaults_carry_the_policy_of_the_domain(monkeypatch):
    monkeypatch.delenv("CLUBFLOW_DATABASE_URL", raising=False)
    s = Settings(_env_file=None)
    assert s.database_url == "sqlite:///./.clubflow/clubflow.db"
    assert (s.campaign_lead_days, s.warmup_opens_before_days, s.warmup_closes_before_days) == (
        45,
        7,
        3,
    )
    assert (s.recap_due_days, s.points_after_working_days, s.escalate_after_working_days) == (
        7,
        10,
        2,
    )
    assert (s.quiet_hours_start, s.quiet_hours_end) == (time(21), time(8))


def test_settings_come_from_clubflow_environment_variables(monkeypatch):
    monkeypatch.setenv("CLUBFLOW_CAMPAIGN_LEAD_DAYS", "60")
    monkeypatch.setenv("CLUBFLOW_QUIET_HOURS_START", "22:30")
    s = Settings(_env_file=None)
    assert (s.campaign_lead_days, s.quiet_hours_start) == (60, time(22, 30))


@pytest.mark.parametrize("key", ["", "changethis", "  CHANGEME "])
def test_a_placeholder_signing_key_is_refused_outside_development(key):
    with pytest.raises(ValidationError, match="CLUBFLOW_SIGNING_KEY is empty or a placeholder"):
        Settings(_env_file=None, environment="production", signing_key=key)
    assert Settings(_env_file=None, environment="development", signing_key=key)


def test_a_placeholder_database_password_is_refused_in_production():
    with pytest.raises(ValidationError, match="placeholder password"):
        Settings(
            _env_file=None,
            environment="production",
            signing_key="k-9f2c81",
            database_url="postgresql://app:changethis@db/clubflow",
        )
    ok = Settings(
        _env_file=None,
        environment="production",
        signing_key="k-9f2c81",
        database_url="postgresql://app:Xk2v9q@db/clubflow",
    )
    assert ok.environment == "production"


def test_the_business_timezone_is_not_a_setting_and_points_without_every_class_are_refused():
    # Business days are Asia/Shanghai days by the brand's rule: nothing configures them.
    assert not hasattr(
        Settings(_env_file=None, business_timezone="Asia/Urumqi"), "business_timezone"
    )
    assert ZoneInfo("Asia/Shanghai") == BUSINESS_TZ
    with pytest.raises(ValidationError, match="lacks classes"):
        Settings(_env_file=None, points_by_class={"A": 1})
    with pytest.raises(ValidationError, match="points_after_working_days"):
        Settings(_env_file=None, points_after_working_days=20)
