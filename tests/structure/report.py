"""Print the structure figures: lines per area and layer, the largest functions, and upward
imports. `make structure` runs it; the duplicated-block count comes from a separate tool."""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_layers import ROOT, module_name, source_files, upward_imports  # noqa: E402

AREAS = ("activities", "campaigns", "leads", "members", "planning", "gates", "outbox")


def area_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    text = "/".join(rel.parts)
    for area in AREAS:
        if f"/{area}/" in f"/{text}" or rel.stem.startswith(area) or f"_{area}" in rel.stem:
            return area
    return "shared"


def code_lines(path: Path) -> int:
    return sum(
        1
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    )


def functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.end_lineno - node.lineno + 1, f"{module_name(path)}.{node.name}"


def main() -> None:
    files = source_files()
    by_area: Counter[str] = Counter()
    by_layer: Counter[str] = Counter()
    for path in files:
        by_area[area_of(path)] += code_lines(path)
        by_layer[path.relative_to(ROOT).parts[0]] += code_lines(path)
    print("lines of code per area (no blanks, no comments; migrations left out):")
    for area, n in sorted(by_area.items()):
        print(f"  {area:<12} {n:>6}")
    print("per top-level folder:")
    for layer, n in sorted(by_layer.items()):
        print(f"  {layer:<12} {n:>6}")
    largest = sorted((f for p in files for f in functions(p)), reverse=True)[:5]
    print("largest functions (lines):")
    for size, name in largest:
        print(f"  {size:>4}  {name}")
    ups = upward_imports()
    print(f"upward imports: {len(ups)}")
    for line in ups:
        print(f"  {line}")


if __name__ == "__main__":
    main()
