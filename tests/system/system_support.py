"""Inputs shared by the system tests (a unique module name: tests/ dirs share one sys.path)."""

from __future__ import annotations

BEIJING_CODE = "C-BE001-20260621"
BATCH_TIMEOUT = 600.0  # ~25 runs, ~10 s each on 2 cores (a process per run imports Prefect)


def at(day: str, hour: int = 10) -> str:
    """A business moment in Beijing time, as a flow parameter."""
    return f"{day}T{hour:02d}:00:00+08:00"


def beijing_proposal(**overrides) -> dict:
    """A class C crossing of the Beijing club C-BE001 on Sunday 2026-06-21."""
    values = {
        "title": "系统测试 坝上穿越",
        "activity_class": "C",
        "theme": "穿越季",
        "region": "beijing",
        "club": "C-BE001",
        "starts_on": "2026-06-21",
        "ends_on": "2026-06-21",
        "place": "河北坝上",
        "expected_participants": 20,
        "budget": [{"item": "场地费", "amount": 1000}],
        "subsidy_requested": 900,
        "proposed_by": "admin.be001",
    }
    return {**values, **overrides}


def catalog_names() -> list[str]:
    from deployments.catalog import load_catalog

    return [spec.name for spec in load_catalog()]
