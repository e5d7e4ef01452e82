"""The deployments of prefect.yaml as data: one list that `serve` and the tests both read."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
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
        """Import the flow object named by `path/to/file.py:function`."""
        path, _, attr = self.entrypoint.partition(":")
        module_name = path.removesuffix(".py").replace("/", ".")
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        if importlib.util.find_spec(module_name) is None:
            raise ImportError(f"deployment {self.name}: no module {module_name!r} ({path})")
        module = importlib.import_module(module_name)
        candidate = getattr(module, attr, None)
        if not isinstance(candidate, Flow):
            raise ImportError(f"deployment {self.name}: {self.entrypoint} is not a flow")
        return candidate

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
