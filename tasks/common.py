"""What every area's tasks share: the one decorator that makes a data function a task, the
run logger, and batching.

The shape of a task module (docs in CONTRIBUTING.md):

    def register_proposal(*, session, proposal, now, settings) -> ActivityView: ...
    register_proposal_task = data_task(register_proposal)

The data function is plain: tests and the CLI call it with a session. The task opens one
transaction around it, so a step commits whole or not at all, and a retry starts clean.

Prefect is imported where a task is made, not here: a module of data functions alone
(what `clubflow decide` reads gates with) loads without it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings, get_settings

T = TypeVar("T")
R = TypeVar("R")
IN_BATCH = 5000  # values per IN (...) list: well under SQLite's and PostgreSQL's limits


def run_logger(area: str) -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a run (its lines show in the UI), else `clubflow.<area>`
    (the CLI, tests). Both mask phone and ID numbers."""
    if "prefect" in sys.modules:  # a process that never imported Prefect runs no flow
        from prefect import get_run_logger
        from prefect.exceptions import MissingContextError

        try:
            return get_run_logger()
        except MissingContextError:
            pass
    return logging.getLogger(f"clubflow.{area}")


def chunks(items: Iterable[T], size: int = IN_BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def data_task(fn: Callable[..., R] | None = None, /, *, name: str | None = None, **options: Any):
    """Make the data function `fn(*, session, ...)` a Prefect task that opens its session.

    The task takes `fn`'s keyword arguments without `session`. If `fn` takes `settings`, the
    task passes the run's settings through; either way `settings` may be given to the task
    (the flow read them once), and are read from the environment when left out. The task is
    named after the function (`register_proposal` → `register-proposal`) unless `name` says
    otherwise; `options` go to `prefect.task` (retries, tags…). Results are not cached: a
    data step must run each time it is called.
    """
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    if fn is None:
        return functools.partial(data_task, name=name, **options)

    signature = inspect.signature(fn)
    if "session" not in signature.parameters:
        raise TypeError(f"{fn.__qualname__} takes no `session`: it is not a data function")
    takes_settings = "settings" in signature.parameters
    # The task's own signature: no session, and settings optional (read when left out).
    params = [p for p in signature.parameters.values() if p.name not in ("session", "settings")]
    params.append(inspect.Parameter("settings", inspect.Parameter.KEYWORD_ONLY, default=None))

    @functools.wraps(fn)
    def run(*args: Any, settings: Settings | None = None, **kwargs: Any) -> R:
        settings = settings or get_settings()
        if takes_settings:
            kwargs["settings"] = settings
        with session_scope(settings.database_url) as session:
            return fn(*args, session=session, **kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    options.setdefault("cache_policy", NO_CACHE)
    return task(run, name=name or fn.__name__.replace("_", "-"), **options)
