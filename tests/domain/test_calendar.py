"""Tests for domain.calendar: mainland-China working days, windows and data-file overrides.

Expected dates were checked against chinese_calendar 1.11 (get_holiday_detail / is_workday).
"""

import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import chinese_calendar
import pytest

from domain import calendar as cal_mod
from domain.calendar import (
    BUSINESS_TZ,
    CalendarDataError,
    DateWindow,
    WorkingCalendar,
    YearSchedule,
    business_date,
    default_calendar,
    load_overrides,
)

D = date
PACKAGE_ONLY = WorkingCalendar({})  # package + fallback, independent of shipped data files


def _reference_is_working(d: date) -> bool:
    # Independent oracle: the package where it knows the year, else Monday–Friday.
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def _reference_add(d: date, n: int) -> date:
    step = 1 if n > 0 else -1
    while n:
        d += timedelta(step)
        if _reference_is_working(d):
            n -= step
    return d


def _write(directory: Path, name: str, content: object) -> Path:
    path = directory / name
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


# --- business_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 31, 16, 30, tzinfo=UTC), D(2026, 2, 1)),
        (datetime(2026, 1, 31, 16, 0, tzinfo=UTC), D(2026, 2, 1)),
        (datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC), D(2026, 1, 31)),
        (datetime(2026, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=9))), D(2026, 1, 31)),
        (datetime(2026, 2, 1, 0, 0, tzinfo=BUSINESS_TZ), D(2026, 2, 1)),
        (datetime(2025, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-8))), D(2026, 1, 1)),
    ],
)
def test_business_date_is_the_shanghai_date(moment: datetime, expected: date) -> None:
    assert business_date(moment) == expected


def test_business_date_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        business_date(datetime(2026, 1, 31, 16, 30))


# --- is_working_day ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025 Spring Festival: off Jan 28 – Feb 4, make-up Sun Jan 26 and Sat Feb 8
        (D(2025, 1, 26), True),
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 3), False),
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),
        (D(2025, 2, 9), False),
        # 2025 National Day + Mid-autumn: off Oct 1–8, make-up Sun Sep 28 and Sat Oct 11
        (D(2025, 9, 27), False),
        (D(2025, 9, 28), True),
        (D(2025, 10, 6), False),
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),
        # 2026 New Year: off Jan 1–3, make-up Sun Jan 4
        (D(2026, 1, 1), False),
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),
        # 2026 Spring Festival: off Feb 15–23, make-up Sat Feb 14 and Sat Feb 28
        (D(2026, 2, 13), True),
        (D(2026, 2, 14), True),
        (D(2026, 2, 16), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        (D(2026, 3, 1), False),
        # 2026 Mid-autumn Sep 25–27 (Friday off), National Day Oct 1–7, make-up Sep 20, Oct 10
        (D(2026, 9, 20), True),
        (D(2026, 9, 25), False),
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),
        (D(2026, 10, 11), False),
        # ordinary weekend and weekdays
        (D(2026, 6, 13), False),
        (D(2026, 6, 14), False),
        (D(2026, 6, 15), True),
        (D(2026, 11, 23), True),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert PACKAGE_ONLY.is_working_day(day) is working
    assert cal_mod.is_working_day(day) is working


def test_matches_the_package_for_every_day_it_knows() -> None:
    shipped = set(load_overrides())
    for year in sorted(default_calendar().known_years() - shipped):
        day = D(year, 1, 1)
        while day.year == year:
            assert default_calendar().is_working_day(day) == chinese_calendar.is_workday(day), day
            day += timedelta(1)


def test_datetime_is_refused_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match="business_date"):
        PACKAGE_ONLY.is_working_day(datetime(2026, 2, 14, 12, tzinfo=UTC))


# --- add_working_days / next / previous -----------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday -> make-up Saturday
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # across the Spring Festival
        (D(2026, 2, 13), 3, D(2026, 2, 25)),
        (D(2026, 2, 24), -1, D(2026, 2, 14)),
        (D(2026, 2, 24), -2, D(2026, 2, 13)),  # L-2 before a launch just after the holiday
        (D(2026, 2, 18), 1, D(2026, 2, 24)),  # from inside the holiday
        (D(2026, 2, 18), -1, D(2026, 2, 14)),
        (D(2025, 2, 5), -2, D(2025, 1, 26)),  # reaches the make-up Sunday
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # across National Day 2025
        (D(2025, 10, 9), -3, D(2025, 9, 28)),
        (D(2025, 10, 11), -1, D(2025, 10, 10)),
        (D(2026, 9, 24), 1, D(2026, 9, 28)),  # Mid-autumn 2026
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # National Day 2026
        (D(2026, 10, 8), -2, D(2026, 9, 29)),
        (D(2026, 10, 12), -3, D(2026, 10, 8)),  # via make-up Saturday Oct 10
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # across the year end onto a make-up Sunday
        (D(2026, 1, 4), -1, D(2025, 12, 31)),
        (D(2026, 2, 14), 0, D(2026, 2, 14)),
        (D(2026, 2, 15), 0, D(2026, 2, 15)),  # n == 0 returns d even on a holiday
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert PACKAGE_ONLY.add_working_days(start, n) == expected
    assert cal_mod.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n"),
    [(D(2025, 1, 10), 30), (D(2025, 12, 20), 25), (D(2026, 10, 20), -40), (D(2024, 1, 5), -60)],
)
def test_add_working_days_matches_a_day_by_day_walk(start: date, n: int) -> None:
    for offset in range(0, 60, 3):
        day = start + timedelta(offset)
        assert PACKAGE_ONLY.add_working_days(day, n) == _reference_add(day, n), day


@pytest.mark.parametrize(
    ("day", "include_self", "next_day", "previous_day"),
    [
        (D(2026, 2, 13), True, D(2026, 2, 13), D(2026, 2, 13)),
        (D(2026, 2, 13), False, D(2026, 2, 14), D(2026, 2, 12)),
        (D(2026, 2, 15), True, D(2026, 2, 24), D(2026, 2, 14)),
        (D(2026, 10, 5), True, D(2026, 10, 8), D(2026, 9, 30)),
        (D(2026, 10, 8), False, D(2026, 10, 9), D(2026, 9, 30)),
        (D(2026, 6, 13), True, D(2026, 6, 15), D(2026, 6, 12)),
    ],
)
def test_next_and_previous_working_day(
    day: date, include_self: bool, next_day: date, previous_day: date
) -> None:
    assert PACKAGE_ONLY.next_working_day(day, include_self=include_self) == next_day
    assert PACKAGE_ONLY.previous_working_day(day, include_self=include_self) == previous_day
    assert cal_mod.next_working_day(day, include_self=include_self) == next_day
    assert cal_mod.previous_working_day(day, include_self=include_self) == previous_day


# --- working_days_between ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 2, 13), D(2026, 2, 24), 2),  # Feb 14 (make-up) and Feb 24
        (D(2026, 2, 24), D(2026, 2, 13), -2),
        (D(2026, 2, 13), D(2026, 2, 15), 1),  # end on a holiday: only Feb 14 counts
        (D(2026, 2, 15), D(2026, 2, 13), -2),  # start on a holiday: Feb 13 and Feb 14
        (D(2025, 9, 30), D(2025, 10, 9), 1),
        (D(2025, 9, 26), D(2025, 10, 13), 7),  # Sep 28-30, Oct 9-11, Oct 13
        (D(2025, 1, 24), D(2025, 2, 10), 7),  # Jan 26-27, Feb 5-8, Feb 10
        (D(2026, 6, 15), D(2026, 6, 15), 0),
        (D(2025, 12, 31), D(2026, 12, 31), 248),  # all of 2026
        (D(2024, 12, 31), D(2025, 12, 31), 248),  # all of 2025
        (D(2024, 12, 31), D(2026, 12, 31), 496),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert PACKAGE_ONLY.working_days_between(start, end) == expected
    assert cal_mod.working_days_between(start, end) == expected


@pytest.mark.parametrize("anchor", [D(2025, 1, 15), D(2025, 9, 20), D(2026, 2, 5), D(2026, 9, 15)])
def test_round_trip_between_and_add(anchor: date) -> None:
    days = [anchor + timedelta(i) for i in range(40)]
    for a in days:
        for n in range(-12, 13):
            assert PACKAGE_ONLY.working_days_between(a, PACKAGE_ONLY.add_working_days(a, n)) == n
        for b in days:
            if PACKAGE_ONLY.is_working_day(b):
                steps = PACKAGE_ONLY.working_days_between(a, b)
                assert PACKAGE_ONLY.add_working_days(a, steps) == b, (a, b)
                if PACKAGE_ONLY.is_working_day(a):
                    assert PACKAGE_ONLY.working_days_between(b, a) == -steps, (a, b)


# --- window --------------------------------------------------------------------------------

WARM_UP = {"opens_before": 7, "closes_before": 3}


@pytest.mark.parametrize(
    ("anchor", "working", "day", "position"),
    [
        # calendar days: start-7 .. start-3
        (D(2026, 6, 15), False, D(2026, 6, 7), "before"),  # start-8
        (D(2026, 6, 15), False, D(2026, 6, 8), "inside"),  # start-7
        (D(2026, 6, 15), False, D(2026, 6, 12), "inside"),  # start-3
        (D(2026, 6, 13), False, D(2026, 6, 13), "after"),  # start itself
        (D(2026, 6, 15), False, D(2026, 6, 13), "after"),  # start-2
        # working days, launch Mon 2026-03-02 after the Spring Festival: Feb 13 .. Feb 26
        (D(2026, 3, 2), True, D(2026, 2, 12), "before"),  # 8 working days before
        (D(2026, 3, 2), True, D(2026, 2, 13), "inside"),  # 7 working days before
        (D(2026, 3, 2), True, D(2026, 2, 20), "inside"),  # holiday inside the range
        (D(2026, 3, 2), True, D(2026, 2, 26), "inside"),  # 3 working days before
        (D(2026, 3, 2), True, D(2026, 2, 27), "after"),  # 2 working days before
        # working days, launch Mon 2026-10-12 after National Day: Sep 24 .. Oct 8
        (D(2026, 10, 12), True, D(2026, 9, 23), "before"),
        (D(2026, 10, 12), True, D(2026, 9, 24), "inside"),
        (D(2026, 10, 12), True, D(2026, 10, 8), "inside"),
        (D(2026, 10, 12), True, D(2026, 10, 9), "after"),
    ],
)
def test_window_edges(anchor: date, working: bool, day: date, position: str) -> None:
    win = PACKAGE_ONLY.window(anchor, **WARM_UP, working=working)
    assert win.position(day) == position
    assert win.contains(day) is (position == "inside")
    assert cal_mod.window(anchor, **WARM_UP, working=working) == win


@pytest.mark.parametrize(
    ("anchor", "working", "opens", "closes"),
    [
        (D(2026, 6, 15), False, D(2026, 6, 8), D(2026, 6, 12)),
        (D(2026, 3, 2), True, D(2026, 2, 13), D(2026, 2, 26)),
        (D(2026, 10, 12), True, D(2026, 9, 24), D(2026, 10, 8)),
    ],
)
def test_window_bounds(anchor: date, working: bool, opens: date, closes: date) -> None:
    assert PACKAGE_ONLY.window(anchor, **WARM_UP, working=working) == DateWindow(opens, closes)


def test_window_refuses_opening_after_closing() -> None:
    with pytest.raises(ValueError, match=r"opens_before \(3\).*closes_before \(7\)"):
        PACKAGE_ONLY.window(D(2026, 6, 15), opens_before=3, closes_before=7)
    with pytest.raises(ValueError, match="opens"):
        DateWindow(D(2026, 6, 12), D(2026, 6, 8))


# --- fallback for years nobody knows -------------------------------------------------------


def test_unknown_year_falls_back_to_monday_friday_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkingCalendar({})
    caplog.set_level(logging.WARNING, logger="clubflow.calendar")
    week = [D(2031, 1, 1) + timedelta(i) for i in range(7)]  # Wed .. Tue
    for _ in range(50):
        assert [cal.is_working_day(d) for d in week] == [d.weekday() < 5 for d in week]
        assert cal.add_working_days(D(2031, 1, 3), 1) == D(2031, 1, 6)
        assert cal.working_days_between(D(2031, 1, 1), D(2031, 1, 31)) == 22
    records = [r for r in caplog.records if r.name == "clubflow.calendar"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "2031" in records[0].getMessage()
    assert "2031.json" in records[0].getMessage()
    assert 2031 not in cal.known_years()


def test_each_unknown_year_warns_separately(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkingCalendar({})
    caplog.set_level(logging.WARNING, logger="clubflow.calendar")
    cal.working_days_between(D(2030, 12, 1), D(2032, 1, 31))
    cal.is_working_day(D(2031, 6, 1))
    messages = [r.getMessage() for r in caplog.records if r.name == "clubflow.calendar"]
    assert len(messages) == 3
    for year in ("2030", "2031", "2032"):
        assert sum(f"for {year}:" in m for m in messages) == 1, year


def test_known_years_cover_the_package() -> None:
    assert set(range(2004, 2027)) <= PACKAGE_ONLY.known_years()
    assert set(range(2004, 2027)) <= default_calendar().known_years()


# --- override data files -------------------------------------------------------------------


def _schedule_2031() -> dict:
    return {
        "year": 2031,
        "source": "synthetic test schedule",
        "holidays": ["2031-01-01", "2031-01-02", "2031-01-03"],
        "workdays": ["2031-01-04"],
    }


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2031, 1, 1), False),  # Wednesday holiday
        (D(2031, 1, 3), False),  # Friday holiday
        (D(2031, 1, 4), True),  # make-up Saturday
        (D(2031, 1, 5), False),  # ordinary Sunday
        (D(2031, 1, 6), True),  # ordinary Monday
    ],
)
def test_override_file_is_obeyed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, day: date, working: bool
) -> None:
    _write(tmp_path, "2031.json", _schedule_2031())
    caplog.set_level(logging.WARNING, logger="clubflow.calendar")
    cal = WorkingCalendar(load_overrides(tmp_path))
    assert cal.is_working_day(day) is working
    assert 2031 in cal.known_years()
    assert not [r for r in caplog.records if r.name == "clubflow.calendar"]


def test_override_file_drives_arithmetic(tmp_path: Path) -> None:
    _write(tmp_path, "2031.json", _schedule_2031())
    cal = WorkingCalendar(load_overrides(tmp_path))
    assert cal.add_working_days(D(2030, 12, 31), 1) == D(2031, 1, 4)
    assert cal.add_working_days(D(2031, 1, 6), -1) == D(2031, 1, 4)
    assert cal.working_days_between(D(2030, 12, 31), D(2031, 1, 6)) == 2


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 3, 2), False),  # Monday, a holiday only in the file
        (D(2026, 3, 7), True),  # Saturday, a make-up day only in the file
        (D(2026, 2, 16), True),  # package holiday; the file replaces the whole year
        (D(2026, 2, 14), False),  # package make-up Saturday, not in the file
    ],
)
def test_override_takes_precedence_over_the_package(
    tmp_path: Path, day: date, working: bool
) -> None:
    assert PACKAGE_ONLY.is_working_day(day) is not working  # the package says otherwise
    content = {
        "year": 2026,
        "source": "test",
        "holidays": ["2026-03-02"],
        "workdays": ["2026-03-07"],
    }
    _write(tmp_path, "2026.json", content)
    cal = WorkingCalendar(load_overrides(tmp_path))
    assert cal.is_working_day(day) is working


def test_repository_data_files_are_valid() -> None:
    overrides = load_overrides()
    for year, schedule in overrides.items():
        assert schedule.year == year
    assert set(overrides) <= default_calendar().known_years()


def test_load_overrides_ignores_non_json_and_reads_several_years(tmp_path: Path) -> None:
    _write(tmp_path, "README.md", "# notes")
    _write(tmp_path, "2031.json", _schedule_2031())
    other = {"year": 2032, "source": "s", "holidays": ["2032-01-01"], "workdays": []}
    _write(tmp_path, "2032.json", other)
    assert sorted(load_overrides(tmp_path)) == [2031, 2032]


def _bad(**changes: object) -> dict:
    return {**_schedule_2031(), **changes}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("2031.json", _bad(year=2030), "'year' is 2030"),
        ("2031.json", _bad(holidays=["2031-01-01", "2031-02-30"]), "holidays[1] = '2031-02-30'"),
        ("2031.json", _bad(holidays=["2031-1-1"]), "holidays[0] = '2031-1-1'"),
        ("2031.json", _bad(holidays=[20310101]), "holidays[0] = 20310101"),
        ("2031.json", _bad(workdays=["2030-12-28"]), "workdays[0] = '2030-12-28' is not in 2031"),
        ("2031.json", _bad(workdays=["2031-01-04", "2031-01-04"]), "workdays[1] = '2031-01-04'"),
        ("2031.json", _bad(workdays=["2031-01-06"]), "workday 2031-01-06 is a Monday"),
        (
            "2031.json",
            _bad(holidays=["2031-01-04"], workdays=["2031-01-04"]),
            "2031-01-04 is listed as both holiday and workday",
        ),
        ("2031.json", _bad(holidays=[]), "'holidays' is empty"),
        ("2031.json", _bad(holidays="2031-01-01"), "'holidays' must be a list"),
        ("2031.json", _bad(source=""), "'source'"),
        ("2031.json", {"year": 2031, "holidays": [], "workdays": []}, "missing key(s) ['source']"),
        ("2031.json", _bad(workday=[]), "unknown key(s) ['workday']"),
        ("2031.json", "{not json", "cannot read JSON"),
        ("2031.json", "[]", "top level must be a JSON object"),
        ("next-year.json", _schedule_2031(), "file name must be <year>.json"),
    ],
)
def test_load_overrides_errors_name_file_and_entry(
    tmp_path: Path, name: str, content: object, expected: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(CalendarDataError) as info:
        load_overrides(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_load_overrides_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CalendarDataError, match="does not exist"):
        load_overrides(tmp_path / "nope")


@pytest.mark.parametrize(
    ("holidays", "workdays", "expected"),
    [
        ({D(2030, 12, 31)}, set(), "holiday 2030-12-31 is not in 2031"),
        (set(), {D(2031, 1, 7)}, "is a Tuesday"),
        ({D(2031, 1, 5)}, {D(2031, 1, 5)}, "both"),
    ],
)
def test_year_schedule_validates(holidays: set, workdays: set, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        YearSchedule(2031, frozenset(holidays), frozenset(workdays))


def test_calendar_refuses_mismatched_override_key() -> None:
    schedule = YearSchedule(2031, frozenset({D(2031, 1, 1)}), frozenset())
    with pytest.raises(ValueError, match="2032"):
        WorkingCalendar({2032: schedule})


def test_default_calendar_is_cached() -> None:
    assert default_calendar() is default_calendar()
