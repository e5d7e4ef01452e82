from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.quiet_hours import in_quiet_hours, release_time

SH = ZoneInfo("Asia/Shanghai")
QUIET = {"start": time(21), "end": time(8), "tz": SH}


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((20, 59), False),
        ((21, 0), True),
        ((23, 30), True),
        ((0, 0), True),
        ((7, 59), True),
        ((8, 0), False),
        ((12, 0), False),
    ],
)
def test_quiet_hours_span_midnight(local, quiet):
    moment = datetime(2026, 3, 2, *local, tzinfo=SH)
    assert in_quiet_hours(moment, **QUIET) is quiet


def test_a_message_queued_in_the_evening_is_released_next_morning_at_eight():
    queued = datetime(2026, 3, 2, 22, 15, tzinfo=SH)
    assert release_time(queued, urgent=False, **QUIET) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def test_a_message_queued_after_midnight_is_released_the_same_morning():
    queued = datetime(2026, 3, 3, 2, 0, tzinfo=SH)
    assert release_time(queued, urgent=False, **QUIET) == datetime(2026, 3, 3, 8, 0, tzinfo=SH)


def test_urgent_messages_and_daytime_messages_go_at_once():
    night = datetime(2026, 3, 2, 23, 0, tzinfo=SH)
    day = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    assert release_time(night, urgent=True, **QUIET) == night
    assert release_time(day, urgent=False, **QUIET) == day


def test_naive_moments_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        release_time(datetime(2026, 3, 2, 22, 0), urgent=False, **QUIET)
