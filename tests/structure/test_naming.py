"""One name per thing: a deployment, its flow and the runs a specialist sees in the UI share a
name, and no two tasks (nor a task and a flow) share one."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

import yaml
from prefect import Flow, Task

from tests.structure.test_layers import ROOT


def deployments() -> dict[str, Flow]:
    found = {}
    for entry in yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]:
        path, name = entry["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        found[entry["name"]] = getattr(module, name)
    return found


def objects_of(kind: type, *packages: str) -> dict[str, set[str]]:
    """Name → the dotted places defining a `kind` (Task or Flow) with that name."""
    names: dict[str, set[str]] = defaultdict(set)
    seen: set[int] = set()  # one place per object, however many modules import it
    for package in packages:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            module = importlib.import_module(info.name)
            for attr, value in vars(module).items():
                if isinstance(value, kind) and id(value) not in seen:
                    seen.add(id(value))
                    names[value.name].add(f"{info.name}.{attr}")
    return names


def test_every_deployment_runs_the_flow_of_its_name():
    assert {name: flow.name for name, flow in deployments().items() if flow.name != name} == {}


def test_no_two_tasks_share_a_name():
    shared = {
        n: places for n, places in objects_of(Task, "tasks", "flows").items() if len(places) > 1
    }
    assert shared == {}


def test_no_task_is_named_like_a_flow():
    flows = set(objects_of(Flow, "flows"))
    tasks = set(objects_of(Task, "tasks", "flows"))
    assert sorted(flows & tasks) == []
