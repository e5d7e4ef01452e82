"""When a non-urgent message may go out: never inside the quiet hours of the business day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(moment: datetime, *, start: time, end: time, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).timetz().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window spans midnight (21:00–08:00)


def release_time(
    moment: datetime, *, urgent: bool, start: time, end: time, tz: ZoneInfo
) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (as UTC)."""
    if moment.tzinfo is None:
        raise ValueError("release_time needs a timezone-aware datetime")
    if urgent or not in_quiet_hours(moment, start=start, end=end, tz=tz):
        return moment.astimezone(UTC)
    local = moment.astimezone(tz)
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(UTC)
