"""Every deployment of prefect.yaml can be served: its entrypoint imports and is a flow."""

from __future__ import annotations

import re

import pytest
import yaml
from prefect import Flow

from deployments.catalog import PREFECT_YAML, load_catalog

SPECS = load_catalog()


def test_prefect_yaml_declares_the_outbox_delivery_every_minute():
    by_name = {s.name: s for s in SPECS}
    assert by_name["deliver-notifications"].schedules == ({"interval": 60},)


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
