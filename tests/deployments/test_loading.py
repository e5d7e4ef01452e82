"""Every deployment loads the way a deployment run loads it, and no flow file shadows a module.

Prefect loads a deployment's flow by its entrypoint's file path and puts that file's folder
first on `sys.path`, so `flows/leads/statistics.py` once replaced the standard library's
`statistics` in every run of the leads deployments: they crashed before their first task, while
tests that import `flows.leads...` normally passed.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pkgutil
import site
import subprocess
import sys
from pathlib import Path

from deployments.catalog import ROOT, load_catalog

SPECS = load_catalog()
LOADER = Path(__file__).with_name("load_entrypoints.py")


def test_every_deployment_loads_through_prefects_loader_in_a_fresh_run_process():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        # -I: no PYTHONPATH, no user site, not the tests' sys.path: only what a run has
        [sys.executable, "-I", str(LOADER), *(s.entrypoint for s in SPECS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = {r["entrypoint"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert len(results) == len({s.entrypoint for s in SPECS}), done.stderr[-2000:]
    failures = [
        f"{s.name} ({s.entrypoint}): {results[s.entrypoint]['error']}"
        for s in SPECS
        if not results[s.entrypoint]["ok"]
    ]
    assert not failures, "\n".join(failures)
    assert done.returncode == 0, done.stderr[-2000:]


def importable_top_level_names(root: Path = ROOT) -> set[str]:
    """Every top-level module a run process can import: the standard library, the project's
    packages and every installed distribution's top-level modules."""
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names |= {m.name for m in pkgutil.iter_modules([*site.getsitepackages(), str(root)])}
    names |= set(importlib.metadata.packages_distributions())  # namespace packages too
    return names


def shadowing_files(flows_dir: Path, taken: set[str]) -> list[str]:
    """Files and packages under `flows_dir` that, with their folder first on `sys.path`, would
    be imported in place of the module of the same name."""
    found = []
    for path in sorted(flows_dir.rglob("*")):
        if path.is_file() and path.suffix == ".py" and path.stem != "__init__":
            name = path.stem
        elif path.is_dir() and (path / "__init__.py").exists():
            name = path.name  # a package shadows too, when its parent folder is first
        else:
            continue
        if name in taken:
            kind = "standard-library" if name in sys.stdlib_module_names else "importable"
            found.append(f"{path.relative_to(flows_dir.parent)} shadows the {kind} module {name!r}")
    return found


def test_no_flow_file_is_named_like_a_module():
    assert shadowing_files(ROOT / "flows", importable_top_level_names()) == []


def test_the_naming_rule_names_the_offending_file(tmp_path):
    flows = tmp_path / "flows"
    (flows / "leads").mkdir(parents=True)
    for name in ("__init__.py", "leads/__init__.py", "leads/statistics.py", "leads/intake.py"):
        (flows / name).write_text("")
    (flows / "leads" / "jinja2.py").write_text("")
    (flows / "tasks").mkdir()
    (flows / "tasks" / "__init__.py").write_text("")

    assert shadowing_files(flows, importable_top_level_names()) == [
        "flows/leads/jinja2.py shadows the importable module 'jinja2'",
        "flows/leads/statistics.py shadows the standard-library module 'statistics'",
        "flows/tasks shadows the importable module 'tasks'",
    ]
