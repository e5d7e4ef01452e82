"""Every deployment of prefect.yaml can be served: its entrypoint imports and is a flow."""

from __future__ import annotations

import re

import pytest
import yaml
from prefect import Flow

from deployments.catalog import PREFECT_YAML, load_catalog

SPECS = load_catalog()


def test_the_outbox_delivery_has_no_schedule_the_loop_delivers():
    # The delivery loop of `clubflow up` / `clubflow deliver --loop` delivers every few
    # seconds; the deployment stays for one-off runs and as the loop's pause switch.
    by_name = {s.name: s for s in SPECS}
    assert by_name["deliver-notifications"].schedules == ()
    assert by_name["prune-housekeeping-runs"].schedules == (
        {"cron": "10 4 * * *", "timezone": "Asia/Shanghai"},
    )


AREAS = {
    "notifications", "housekeeping", "leads", "activity", "campaign", "gates", "planning",
    "report", "members", "points", "retention", "disputes", "outlets", "clubs", "complaints",
}  # fmt: skip


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_deployment_is_tagged_by_area_and_audience(spec):
    from domain.models import Role

    areas = [t for t in spec.tags if t in AREAS]
    audiences = [t.removeprefix("for:") for t in spec.tags if t.startswith("for:")]
    assert areas, f"{spec.name}: no area tag in {spec.tags}"
    assert audiences, f"{spec.name}: no for:<role> tag in {spec.tags}"
    assert set(audiences) <= set(Role.__members__), f"{spec.name}: unknown role in {spec.tags}"
    assert set(spec.tags) <= AREAS | {f"for:{a}" for a in audiences}, spec.tags


def test_the_housekeeping_deployments_are_it_s_and_nothing_else_is_housekeeping():
    housekeeping = sorted(s.name for s in SPECS if "housekeeping" in s.tags)
    assert housekeeping == ["deliver-notifications", "prune-housekeeping-runs", "recover-runs"]
    assert all("for:it" in s.tags for s in SPECS if s.name in housekeeping)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_entrypoint_imports_and_is_a_flow_with_valid_schedules(spec):
    flow = spec.load_flow()
    assert isinstance(flow, Flow)
    assert flow.name, spec.entrypoint
    schedules = spec.prefect_schedules()
    assert len(schedules) == len(spec.schedules)
    for raw, schedule in zip(spec.schedules, schedules, strict=True):
        if "cron" in raw:
            assert schedule.timezone == "Asia/Shanghai", f"{spec.name}: crons run on business time"


def test_cron_schedules_name_their_timezone_explicitly():
    data = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    for entry in data["deployments"]:
        for schedule in entry.get("schedules") or []:
            if "cron" in schedule:
                assert schedule.get("timezone") == "Asia/Shanghai", entry["name"]


@pytest.mark.parametrize(
    ("entrypoint", "reason"),
    [
        ("flows/nope.py:missing", "No module named 'flows.nope'"),
        ("flows/notifications.py:missing", "'missing' not found"),
        ("deployments/catalog.py:load_catalog", "'load_catalog' is not a flow"),
    ],
)
def test_a_bad_entrypoint_is_named(tmp_path, entrypoint, reason):
    bad = tmp_path / "prefect.yaml"
    bad.write_text(f"deployments:\n  - name: x\n    entrypoint: {entrypoint}\n")
    [spec] = load_catalog(bad)
    named = re.escape(f"deployment x: cannot load {entrypoint}: ")
    with pytest.raises(ImportError, match=named) as err:
        spec.load_flow()
    assert reason in str(err.value)


def test_the_flow_is_the_one_its_module_defines():
    # A test that patches a task of the module patches the flow the catalog serves.
    import flows.leads.intake

    [spec] = [s for s in SPECS if s.name == "leads-intake"]
    assert spec.load_flow() is flows.leads.intake.leads_intake
