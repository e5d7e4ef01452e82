"""The deployments of prefect.yaml as data: one list that `serve` and the tests both read."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
from prefect.exceptions import MissingFlowError, ScriptError
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron, Interval, Schedule

ROOT = Path(__file__).resolve().parent.parent
PREFECT_YAML = ROOT / "prefect.yaml"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[dict[str, Any], ...] = ()

    def load_flow(self) -> Flow:
        """The deployment's flow, loaded by Prefect's loader (`load_flow_from_entrypoint`).

        The entrypoint's file is loaded by its module path (`flows/leads/intake.py:leads_intake`
        as `flows.leads.intake:leads_intake`): the flow is then the object `import
        flows.leads.intake` gives (a test that patches a task of that module patches this flow),
        and a long-lived process such as serve keeps its `sys.path`. A deployment run loads the
        file path instead, with the file's folder first on `sys.path`;
        tests/deployments/test_loading.py loads every entrypoint that way, in fresh processes.
        """
        path, _, attr = self.entrypoint.partition(":")
        module_name = path.removesuffix(".py").replace("/", ".")
        if str(ROOT) not in sys.path:  # Prefect's loader adds the working directory, not ROOT
            sys.path.insert(0, str(ROOT))
        try:
            return load_flow_from_entrypoint(f"{module_name}:{attr}", use_placeholder_flow=False)
        except (ImportError, MissingFlowError, ScriptError) as exc:
            reason = f"deployment {self.name}: cannot load {self.entrypoint}: {exc}"
            raise ImportError(reason) from exc

    def prefect_schedules(self) -> list[Schedule]:
        out: list[Schedule] = []
        for item in self.schedules:
            if "cron" in item:
                out.append(Cron(item["cron"], timezone=item.get("timezone", "Asia/Shanghai")))
            elif "interval" in item:
                out.append(Interval(timedelta(seconds=float(item["interval"]))))
            else:
                raise ValueError(f"deployment {self.name}: schedule {item} has no cron/interval")
        return out


def load_catalog(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = []
    for entry in data.get("deployments") or []:
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry.get("description", ""),
                tags=tuple(entry.get("tags") or ()),
                parameters=dict(entry.get("parameters") or {}),
                schedules=tuple(entry.get("schedules") or ()),
            )
        )
    names = [s.name for s in specs]
    if len(names) != len(set(names)):
        raise ValueError(f"{path}: duplicate deployment names in {names}")
    return specs
