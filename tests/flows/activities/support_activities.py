"""Helpers of the activity tests (a unique module name: tests/ dirs share one sys.path)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE = "C-CH001-20261011"


def at(day: date, hour: int = 10) -> datetime:
    """A moment of a business day in Beijing time."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def proposal(**overrides) -> dict:
    """A class C crossing of the Chengdu club C-CH001, Sunday 2026-10-11 (after National Day)."""
    values = {
        "title": "雨林穿越 秋季站",
        "activity_class": "C",
        "theme": "穿越季",
        "region": "chengdu",
        "club": "C-CH001",
        "starts_on": "2026-10-11",
        "ends_on": "2026-10-11",
        "place": "四川雅安",
        "expected_participants": 30,
        "budget": [{"item": "场地费", "amount": 1500}],
        "subsidy_requested": 4500,
        "proposed_by": "admin.ch001",
        # Approval needs them (domain/safety.py); tests of the refusal override them empty.
        "safety_plan": "https://docs.example/safety/CH001-20261011 (火灾/地震/暴雨/断电)",
        "support_vehicle": "川A·救援01 保障车",
    }
    return {**values, **overrides}
