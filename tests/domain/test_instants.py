"""The one reading of a `now` given as text: the CLI's --now and a flow's `now` parameter agree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.calendar import BUSINESS_TZ
from domain.instants import parse_instant
from flows.naming import clock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-11T18:00", datetime(2026, 10, 11, 10, 0, tzinfo=UTC)),
        ("2026-10-11T18:00+08:00", datetime(2026, 10, 11, 10, 0, tzinfo=UTC)),
        ("2026-10-11T10:00Z", datetime(2026, 10, 11, 10, 0, tzinfo=UTC)),
        ("2026-10-11", datetime(2026, 10, 10, 16, 0, tzinfo=UTC)),
    ],
)
def test_a_time_without_a_zone_is_business_time(text, expected):
    assert parse_instant(text) == expected
    assert clock(text) == expected
    assert parse_instant(text).tzinfo is not None


def test_an_aware_datetime_is_kept_and_a_naive_one_is_business_time():
    aware = datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert parse_instant(aware) is aware
    assert parse_instant(datetime(2026, 3, 1, 9)) == datetime(2026, 3, 1, 9, tzinfo=BUSINESS_TZ)


def test_text_that_is_no_time_is_refused():
    with pytest.raises(ValueError):
        parse_instant("next tuesday")
