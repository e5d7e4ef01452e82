"""The safety plan before approval (domain/safety.py)."""

from __future__ import annotations

from domain.safety import approval_refusal, is_crossing, safety_problems


def _problems(**overrides):
    values = {
        "klass": "C",
        "theme": "穿越季",
        "title": "雨林穿越 秋季站",
        "safety_plan": "",
        "support_vehicle": "",
    }
    return safety_problems(**{**values, **overrides})


def test_class_c_crossing_needs_plan_and_vehicle():
    assert [field for field, _ in _problems()] == ["safety_plan", "support_vehicle"]


def test_plan_and_vehicle_given_nothing_missing():
    assert _problems(safety_plan="https://docs/plan", support_vehicle="川A 保障车") == []


def test_not_a_crossing_needs_no_vehicle():
    assert _problems(theme="亲子季", title="露营", safety_plan="plan") == []


def test_class_d_needs_nothing():
    assert _problems(klass="D") == []


def test_crossing_by_title_or_theme():
    assert is_crossing(theme="", title="Autumn crossing")
    assert not is_crossing(theme="亲子季", title="露营")


def test_approval_refused_with_reason_other_outcomes_pass():
    values = {"klass": "B", "theme": "", "title": "露营", "safety_plan": "", "support_vehicle": ""}
    reason = approval_refusal(outcome="approve", **values)
    assert reason == (
        "safety_plan: a class B activity needs a safety plan covering fire, earthquake, "
        "storm, power_loss before approval"
    )
    assert approval_refusal(outcome="reject", **values) is None
