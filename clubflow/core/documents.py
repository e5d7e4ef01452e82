"""Plans, proposals, recaps and claims as people write them: JSON or YAML files read into a
mapping, with errors that name the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class DocumentError(ValueError):
    """A file that cannot be read as a document; the message names the file, line and field."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose dates refuse impossible days (2026-13-40) as a YAML error with its
    line, instead of a bare ValueError from datetime."""


def _timestamp(loader: _Loader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _where(text: str, mark: Any) -> str:
    """`line N (field)` of a YAML mark: the key on that line, when there is one."""
    if mark is None:
        return ""
    line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
    key = line.split(":", 1)[0].strip(" -\t") if ":" in line else ""
    return f"line {mark.line + 1}" + (f", {key}" if key else "")


def parse_document(text: str, *, name: str, yaml_ok: bool = True) -> Any:
    if not yaml_ok:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{name}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        where = _where(text, exc.problem_mark)
        problem = exc.problem or str(exc)
        raise DocumentError(
            f"{name}: {where}: {problem}" if where else f"{name}: {problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{name}: not valid YAML: {' '.join(str(exc).split())}") from None


def read_document(path: Path, *, mapping: bool = True) -> Any:
    """A JSON (by extension) or YAML file; a mapping unless `mapping=False`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not UTF-8 text") from None
    data = parse_document(text, name=str(path), yaml_ok=path.suffix.lower() != ".json")
    if mapping and not isinstance(data, dict):
        raise DocumentError(f"{path}: expected a mapping of fields")
    return data
