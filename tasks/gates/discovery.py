"""Every area's `tasks/<area>/hooks.py` registers its dated steps and inbox sources when it is
imported; this imports them all."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from tasks.common import run_logger

_HOOK_ERRORS: dict[str, str] = {}


def discover_hooks() -> dict[str, str]:
    """Import every `tasks/<area>/hooks.py` so its dated steps and inbox sources register.

    An area whose hooks fail to import does not stop the others; the errors are returned
    (and the sweep fails after running the rest, naming them)."""
    import tasks

    for module in pkgutil.iter_modules(tasks.__path__):
        if not module.ispkg:
            continue
        name = f"tasks.{module.name}.hooks"
        try:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
                _HOOK_ERRORS.pop(name, None)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            _HOOK_ERRORS[name] = f"{type(exc).__name__}: {exc}"
            run_logger("gates").error("cannot import %s: %s", name, exc)
    return dict(_HOOK_ERRORS)
