"""Mainland-China working-day calendar (holidays and make-up working days, 调休).

Business dates live in Asia/Shanghai (the brand's rule). For each year the schedule comes from,
in order: a data file ``domain/data/cn_calendar/<year>.json`` (so next year's State Council
notice can be added before the ``chinese_calendar`` package knows it), the package, and
finally a Monday–Friday fallback that logs a warning once per year.
"""

from __future__ import annotations

import json
import logging
import threading
from array import array
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc_constants

__all__ = [
    "BUSINESS_TZ",
    "DATA_DIR",
    "CalendarDataError",
    "DateWindow",
    "WorkingCalendar",
    "YearSchedule",
    "add_working_days",
    "business_date",
    "default_calendar",
    "is_working_day",
    "load_overrides",
    "next_working_day",
    "previous_working_day",
    "window",
    "working_days_between",
]

# The one business timezone: business dates are Asia/Shanghai dates by the brand's rule.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
DATA_DIR = Path(__file__).resolve().parent / "data" / "cn_calendar"

logger = logging.getLogger("clubflow.calendar")

# The package raises NotImplementedError outside the years of its own table.
_PACKAGE_YEARS = range(
    min(_cc_constants.holidays).year,
    max(_cc_constants.holidays).year + 1,
)
_FILE_KEYS = {"year", "source", "holidays", "workdays"}


def business_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware datetime.

    A naive datetime is refused: guessing its zone would silently shift dates around midnight.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(BUSINESS_TZ).date()


class CalendarDataError(ValueError):
    """A calendar data file is malformed; the message names the file and the bad entry."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: rest days (holidays) and weekend make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        # Checked here so a schedule built in code is as safe as one loaded from a file.
        for kind, days in (("holiday", self.holidays), ("workday", self.workdays)):
            for d in sorted(days):
                if d.year != self.year:
                    raise ValueError(f"{kind} {d.isoformat()} is not in {self.year}")
        for d in sorted(self.workdays):
            if d.weekday() < 5:
                raise ValueError(
                    f"workday {d.isoformat()} is a {d:%A}; make-up working days fall on weekends"
                )
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"{both[0].isoformat()} is listed as both holiday and workday")

    def is_working_day(self, d: date) -> bool:
        """Working if it is a make-up day, or a weekday that is not a holiday."""
        return d in self.workdays or (d.weekday() < 5 and d not in self.holidays)


def _parse_dates(path: Path, year: int, key: str, raw: Any) -> frozenset[date]:
    if not isinstance(raw, list):
        raise CalendarDataError(f"{path}: '{key}' must be a list of YYYY-MM-DD strings")
    seen: set[date] = set()
    for i, item in enumerate(raw):
        entry = f"{key}[{i}] = {item!r}"
        if not isinstance(item, str) or len(item) != 10:
            raise CalendarDataError(f"{path}: {entry} is not a YYYY-MM-DD date")
        try:
            d = date.fromisoformat(item)
        except ValueError:
            raise CalendarDataError(f"{path}: {entry} is not a valid date") from None
        if d.year != year:
            raise CalendarDataError(f"{path}: {entry} is not in {year}")
        if d in seen:
            raise CalendarDataError(f"{path}: {entry} is listed twice")
        seen.add(d)
    return frozenset(seen)


def _load_file(path: Path) -> YearSchedule:
    if not (path.stem.isdigit() and len(path.stem) == 4):
        raise CalendarDataError(f"{path}: file name must be <year>.json, e.g. 2027.json")
    file_year = int(path.stem)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalendarDataError(f"{path}: cannot read JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarDataError(f"{path}: top level must be a JSON object")
    missing, unknown = _FILE_KEYS - data.keys(), data.keys() - _FILE_KEYS
    if missing:
        raise CalendarDataError(f"{path}: missing key(s) {sorted(missing)}")
    if unknown:
        raise CalendarDataError(f"{path}: unknown key(s) {sorted(unknown)}")
    if data["year"] != file_year or isinstance(data["year"], bool):
        raise CalendarDataError(
            f"{path}: 'year' is {data['year']!r} but the file name says {file_year}"
        )
    if not isinstance(data["source"], str) or not data["source"].strip():
        raise CalendarDataError(f"{path}: 'source' must name the official notice")
    holidays = _parse_dates(path, file_year, "holidays", data["holidays"])
    workdays = _parse_dates(path, file_year, "workdays", data["workdays"])
    # An empty placeholder would silently replace the warning fallback with Mon–Fri.
    if not holidays:
        raise CalendarDataError(f"{path}: 'holidays' is empty; ship the file once published")
    try:
        return YearSchedule(year=file_year, holidays=holidays, workdays=workdays)
    except ValueError as exc:
        raise CalendarDataError(f"{path}: {exc}") from None


def load_overrides(directory: Path | None = None) -> dict[int, YearSchedule]:
    """Load and validate every ``<year>.json`` in the directory (default: the repository's)."""
    directory = DATA_DIR if directory is None else Path(directory)
    if not directory.is_dir():
        raise CalendarDataError(f"{directory}: calendar data directory does not exist")
    return {s.year: s for s in map(_load_file, sorted(directory.glob("*.json")))}


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of dates, e.g. the warm-up window between start-7 and start-3."""

    opens: date
    closes: date

    def __post_init__(self) -> None:
        if self.opens > self.closes:
            raise ValueError(f"window opens {self.opens} after it closes {self.closes}")

    def contains(self, d: date) -> bool:
        return self.opens <= d <= self.closes

    def position(self, d: date) -> Literal["before", "inside", "after"]:
        if d < self.opens:
            return "before"
        return "inside" if d <= self.closes else "after"


@dataclass(frozen=True, slots=True)
class _YearTable:
    # cum[i] = working days from Jan 1 through day i inclusive; enables O(1) counting.
    first_ordinal: int
    cum: array

    @property
    def total(self) -> int:
        return self.cum[-1]

    def working_at(self, i: int) -> bool:
        return self.cum[i] - (self.cum[i - 1] if i else 0) == 1


class WorkingCalendar:
    """Working-day arithmetic over the mainland-China calendar.

    Each year is resolved once into a cumulative table, so per-date questions are a lookup.
    """

    def __init__(self, overrides: Mapping[int, YearSchedule] | None = None) -> None:
        self._overrides = dict(overrides or {})
        for year, schedule in self._overrides.items():
            if schedule.year != year:
                raise ValueError(f"override keyed {year} holds the schedule of {schedule.year}")
        self._tables: dict[int, _YearTable] = {}
        self._lock = threading.Lock()

    def known_years(self) -> set[int]:
        """Years with a real schedule (package or data file); others fall back to Mon–Fri."""
        return set(_PACKAGE_YEARS) | set(self._overrides)

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            with self._lock:
                table = self._tables.get(year)
                if table is None:
                    table = self._tables[year] = self._build(year)
        return table

    def _build(self, year: int) -> _YearTable:
        first = date(year, 1, 1)
        days = [first + timedelta(i) for i in range((date(year + 1, 1, 1) - first).days)]
        if year in self._overrides:
            working = map(self._overrides[year].is_working_day, days)
        elif year in _PACKAGE_YEARS:
            working = map(chinese_calendar.is_workday, days)
        else:
            logger.warning(
                "No holiday schedule for %d: neither domain/data/cn_calendar/%d.json nor the "
                "chinese_calendar package (%d-%d) knows it, so Monday-Friday is assumed. "
                "Add domain/data/cn_calendar/%d.json from the State Council notice "
                "(国务院办公厅关于%d年部分节假日安排的通知); see the README there.",
                year,
                year,
                _PACKAGE_YEARS.start,
                _PACKAGE_YEARS.stop - 1,
                year,
                year,
            )
            working = (d.weekday() < 5 for d in days)
        cum, running = array("H"), 0
        for flag in working:
            running += flag
            cum.append(running)
        return _YearTable(first.toordinal(), cum)

    def _locate(self, d: date) -> tuple[_YearTable, int]:
        if isinstance(d, datetime):
            # A datetime's own date may differ from the Shanghai one; make callers choose.
            raise TypeError("pass a date, e.g. business_date(moment), not a datetime")
        table = self._table(d.year)
        return table, d.toordinal() - table.first_ordinal

    def is_working_day(self, d: date) -> bool:
        table, i = self._locate(d)
        return table.working_at(i)

    def add_working_days(self, d: date, n: int) -> date:
        """Move n working days forward (backward if n < 0); d itself is not counted."""
        table, i = self._locate(d)
        year = d.year
        if n > 0:
            target = table.cum[i] + n  # the cumulative count the answer reaches
            while target > table.total:
                target -= table.total
                year += 1
                table = self._table(year)
            # The first day whose cumulative count reaches target is a working day.
            return date.fromordinal(table.first_ordinal + bisect_left(table.cum, target))
        if n < 0:
            before = table.cum[i] - table.working_at(i)  # working days before d this year
            m = -n
            while before < m:
                m -= before
                year -= 1
                table = self._table(year)
                before = table.total
            return date.fromordinal(table.first_ordinal + bisect_left(table.cum, before - m + 1))
        return d

    def next_working_day(self, d: date, *, include_self: bool = True) -> date:
        """d if it is a working day (and include_self), else the next one."""
        if include_self and self.is_working_day(d):
            return d
        return self.add_working_days(d, 1)

    def previous_working_day(self, d: date, *, include_self: bool = True) -> date:
        """d if it is a working day (and include_self), else the previous one."""
        if include_self and self.is_working_day(d):
            return d
        return self.add_working_days(d, -1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days stepped over from start to end: start excluded, end included.

        Forward: count of start < d <= end. Backward (end < start): minus the count of
        end <= d < start. Hence add_working_days(a, working_days_between(a, b)) == b for any
        working day b, and working_days_between(a, add_working_days(a, n)) == n always.
        """
        t_start, i_start = self._locate(start)
        t_end, i_end = self._locate(end)
        if end < start:
            # Mirror image of the forward count, with the roles of the endpoints swapped.
            inside = self._count(end.year, i_end, start.year, i_start)
            return -(inside + t_end.working_at(i_end) - t_start.working_at(i_start))
        return self._count(start.year, i_start, end.year, i_end)

    def _count(self, y0: int, i0: int, y1: int, i1: int) -> int:
        # Working days strictly after (y0, i0) up to and including (y1, i1); (y0,i0) <= (y1,i1).
        if y0 == y1:
            cum = self._table(y0).cum
            return cum[i1] - cum[i0]
        first = self._table(y0)
        total = first.total - first.cum[i0]
        for year in range(y0 + 1, y1):
            total += self._table(year).total
        return total + self._table(y1).cum[i1]

    def window(
        self, anchor: date, *, opens_before: int, closes_before: int, working: bool = False
    ) -> DateWindow:
        """The window from anchor - opens_before to anchor - closes_before (both inclusive).

        Offsets are calendar days, or working days when working=True.
        """
        if opens_before < closes_before:
            raise ValueError(
                f"opens_before ({opens_before}) must be >= closes_before ({closes_before}): "
                "the window must open before it closes"
            )
        if working:
            return DateWindow(
                self.add_working_days(anchor, -opens_before),
                self.add_working_days(anchor, -closes_before),
            )
        return DateWindow(anchor - timedelta(opens_before), anchor - timedelta(closes_before))


@cache
def default_calendar() -> WorkingCalendar:
    """The calendar with the repository's data files, loaded once per process."""
    return WorkingCalendar(load_overrides())


def is_working_day(d: date) -> bool:
    """See WorkingCalendar.is_working_day (default calendar)."""
    return default_calendar().is_working_day(d)


def add_working_days(d: date, n: int) -> date:
    """See WorkingCalendar.add_working_days (default calendar)."""
    return default_calendar().add_working_days(d, n)


def working_days_between(start: date, end: date) -> int:
    """See WorkingCalendar.working_days_between (default calendar)."""
    return default_calendar().working_days_between(start, end)


def next_working_day(d: date, *, include_self: bool = True) -> date:
    """See WorkingCalendar.next_working_day (default calendar)."""
    return default_calendar().next_working_day(d, include_self=include_self)


def previous_working_day(d: date, *, include_self: bool = True) -> date:
    """See WorkingCalendar.previous_working_day (default calendar)."""
    return default_calendar().previous_working_day(d, include_self=include_self)


def window(
    anchor: date, *, opens_before: int, closes_before: int, working: bool = False
) -> DateWindow:
    """See WorkingCalendar.window (default calendar)."""
    return default_calendar().window(
        anchor, opens_before=opens_before, closes_before=closes_before, working=working
    )
