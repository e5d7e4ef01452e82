"""Imports point down only. The layers, bottom to top:

    domain  <  clubflow.core  <  blocks  <  tasks  <  flows  <  deployments  <  clubflow (the app)

domain/ holds pure rules and tables; clubflow/core/ the settings, database and logging;
clubflow/ itself (CLI, stack, demo world) sits on top and may import anything. An import that
points up makes a loop sooner or later, and a newcomer can no longer read the tree bottom-up.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["domain", "clubflow.core", "blocks", "tasks", "flows", "deployments", "clubflow"]
# What each lower layer must never reach for, whatever the layering says.
FORBIDDEN = {"domain": ("prefect", "httpx", "apprise", "typer")}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to; the most specific prefix wins."""
    for name in sorted(LAYERS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import statement of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from clubflow import core` names a submodule: its own layer is the one that counts.
            subs = {f"{node.module}.{a.name}" for a in node.names}
            deeper = {s for s in subs if layer_of(s) != layer_of(node.module)}
            found += [(node.lineno, s) for s in sorted(deeper)] or [(node.lineno, node.module)]
    return found


def source_files() -> list[Path]:
    files: list[Path] = []
    for top in ("domain", "blocks", "tasks", "flows", "deployments", "clubflow"):
        files += [p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def upward_imports() -> list[str]:
    problems = []
    for path in source_files():
        here = layer_of(module_name(path))
        for lineno, target in imports_of(path):
            there = layer_of(target)
            if here and there and LAYERS.index(there) > LAYERS.index(here):
                problems.append(
                    f"{path.relative_to(ROOT)}:{lineno} ({here}) imports {target} ({there})"
                )
    return sorted(set(problems))


def test_every_import_points_down():
    assert upward_imports() == []


def test_domain_imports_no_prefect_and_no_network():
    problems = []
    for path in source_files():
        here = layer_of(module_name(path))
        for lineno, target in imports_of(path):
            for banned in FORBIDDEN.get(here or "", ()):
                if target == banned or target.startswith(banned + "."):
                    problems.append(f"{path.relative_to(ROOT)}:{lineno} imports {target}")
    assert problems == []


def test_the_checker_sees_an_upward_import(tmp_path):
    # The checker must be able to fail: a task importing the CLI is reported.
    assert layer_of("tasks.outbox") == "tasks"
    assert layer_of("clubflow.core.db") == "clubflow.core"
    assert layer_of("clubflow.cli") == "clubflow"
    assert LAYERS.index(layer_of("clubflow.cli")) > LAYERS.index(layer_of("tasks.gates.store"))
