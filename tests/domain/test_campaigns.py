from __future__ import annotations

from datetime import date

import pytest

from domain.campaigns import (
    CampaignPlan,
    PlanError,
    TimelinePolicy,
    check_plan,
    kpi_rows,
    plan_hash,
    plan_problems,
    timeline,
    timeline_kept,
)

TODAY = date(2026, 8, 3)
REGIONS = {"chengdu", "beijing"}


def make_plan(**overrides) -> CampaignPlan:
    data = {
        "code": "2026-mid-autumn",
        "name": "2026 中秋国庆",
        "launch_date": date(2026, 9, 21),
        "end_date": date(2026, 9, 27),
        "regions": ["chengdu"],
        "budget": [{"item": "平台资源位", "amount": 300000}],
        "kpis": [{"name": "线索量", "target": 2000}],
        "started_by": "hq.manager",
    }
    data.update(overrides)
    return CampaignPlan.model_validate(data)


def problems(**overrides) -> list[str]:
    found = plan_problems(
        make_plan(**overrides), today=TODAY, lead_days_required=45, known_regions=REGIONS
    )
    return [str(p) for p in found]


def test_a_good_plan_has_no_problems():
    assert problems() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"launch_date": date(2026, 8, 2)}, "launch_date: 2026-08-02 is in the past"),
        ({"launch_date": date(2026, 9, 16), "end_date": date(2026, 9, 20)},
         "launch_date: 2026-09-16 is 44 days away; campaigns need 45 days"),
        ({"end_date": date(2026, 9, 20)}, "end_date: 2026-09-20 is before launch_date"),
        ({"budget": []}, "budget: is empty"),
        ({"budget": [{"item": "x", "amount": -1}]}, "budget[0].amount: -1.0 must be positive"),
        ({"budget": [{"item": "x", "amount": 0}]}, "budget[0].amount: 0.0 must be positive"),
        ({"kpis": [{"name": "线索量"}]}, "kpis[0].target: KPI '线索量' has no target"),
        ({"kpis": []}, "kpis: is empty"),
        ({"regions": ["mars"]}, "regions[0]: unknown region 'mars'"),
        ({"code": "Has Space"}, "code: 'Has Space' must be lower case"),
    ],
)  # fmt: skip
def test_each_problem_names_its_field(overrides, expected):
    assert any(p.startswith(expected) for p in problems(**overrides)), problems(**overrides)


def test_45_days_is_enough_and_44_needs_a_rush_reason():
    assert problems(launch_date=date(2026, 9, 17)) == []  # 45 days
    short = {"launch_date": date(2026, 9, 16), "end_date": date(2026, 9, 20)}
    assert len(problems(**short)) == 1
    assert problems(**short, rush_reason="竞品提前发布") == []
    assert len(problems(**short, rush_reason="   ")) == 1


def test_check_plan_raises_with_every_problem():
    with pytest.raises(PlanError) as exc:
        check_plan(
            make_plan(budget=[], kpis=[{"name": "GMV"}]),
            today=TODAY,
            lead_days_required=45,
            known_regions=REGIONS,
        )
    assert [p.field for p in exc.value.problems] == ["budget", "kpis[0].target"]


def test_the_timeline_is_computed_backwards_from_l_on_working_days():
    ms = {m.key: m for m in timeline(date(2026, 9, 21), date(2026, 9, 27), TimelinePolicy())}
    assert ms["assessment"].due_on == date(2026, 8, 7)  # L-45
    assert ms["signoff"].due_on == date(2026, 8, 21)  # L-30 is Saturday Aug 22 → Friday
    assert ms["feasibility"].due_on == date(2026, 8, 25)  # 2 working days after sign-off
    # Slots 5 working days and the build 15 days after IT's check (a "by" date).
    assert (ms["slots"].starts_on, ms["slots"].due_on) == (date(2026, 8, 25), date(2026, 9, 1))
    assert ms["build_test"].due_on == date(2026, 9, 9)
    # Go-live L-3 … L-2 working days (Sunday 20 is worked).
    assert (ms["golive"].starts_on, ms["golive"].due_on) == (date(2026, 9, 17), date(2026, 9, 18))
    assert (ms["training"].starts_on, ms["training"].due_on) == (
        date(2026, 9, 18),
        date(2026, 9, 20),
    )
    assert (ms["launch"].starts_on, ms["launch"].due_on) == (date(2026, 9, 21), date(2026, 9, 27))
    assert ms["kpi_request"].due_on == date(2026, 9, 28)  # end + 1
    assert ms["report"].due_on == date(2026, 10, 4)  # end + 7
    dates = [m.due_on for m in ms.values()]
    assert dates == sorted(dates)


def test_a_step_starts_the_day_the_step_before_it_was_done():
    early = timeline(
        date(2026, 9, 21),
        date(2026, 9, 27),
        TimelinePolicy(),
        started_on=date(2026, 8, 3),
        done={"signoff": date(2026, 8, 10), "feasibility": date(2026, 8, 11)},
    )
    ms = {m.key: m for m in early}
    # Round 1 of the review opens at the start: 3 working days, at the latest the sign-off.
    assert (ms["plan_review"].starts_on, ms["plan_review"].due_on) == (
        date(2026, 8, 3),
        date(2026, 8, 6),
    )
    assert (ms["feasibility"].starts_on, ms["feasibility"].due_on) == (
        date(2026, 8, 10),
        date(2026, 8, 12),
    )
    assert ms["build_test"].due_on == date(2026, 8, 26)  # 11 + 15
    assert ms["slots"].due_on == date(2026, 8, 18)
    assert ms["golive"].due_on == date(2026, 9, 18)  # fixed by L


def test_the_build_never_ends_after_the_go_live_window_opens():
    late = timeline(
        date(2026, 9, 21),
        date(2026, 9, 27),
        TimelinePolicy(),
        done={"feasibility": date(2026, 9, 10)},
    )
    ms = {m.key: m for m in late}
    assert ms["build_test"].due_on == ms["golive"].starts_on == date(2026, 9, 17)


def test_moving_l_moves_every_milestone():
    before = timeline(date(2026, 9, 21), date(2026, 9, 27), TimelinePolicy())
    after = timeline(date(2026, 10, 12), date(2026, 10, 18), TimelinePolicy())
    assert all(a.due_on > b.due_on for a, b in zip(after, before, strict=True))


def test_the_plan_hash_changes_with_budget_or_kpis_only():
    base = {
        "summary": "双平台",
        "policy": "送积分",
        "budget": [{"item": "资源位", "amount": 100}],
        "kpis": [{"name": "线索量", "target": 10, "unit": "条"}],
    }
    h = plan_hash(**base)
    assert plan_hash(**{**base, "budget": [{"item": "资源位", "amount": 100.0}]}) == h
    assert plan_hash(**{**base, "summary": " 双平台 "}) == h
    assert plan_hash(**{**base, "budget": [{"item": "资源位", "amount": 101}]}) != h
    assert plan_hash(**{**base, "kpis": [{"name": "线索量", "target": 11, "unit": "条"}]}) != h


def test_kpi_rows_and_timeline_results_for_the_report():
    rows = kpi_rows([{"name": "线索量", "target": 2000}, {"name": "订单", "target": 150}],
                    {"线索量": 2300})  # fmt: skip
    assert [(r.attainment, r.met) for r in rows] == [(115.0, True), (None, None)]
    assert timeline_kept(date(2026, 9, 20), date(2026, 9, 18)) == "kept"
    assert timeline_kept(date(2026, 9, 20), date(2026, 9, 21)) == "missed"
    assert timeline_kept(date(2026, 9, 20), None) == "open"
