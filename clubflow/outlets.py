"""Starting an outlet's `outlet-qualification` run: the one code path the CLI
(`clubflow outlets register/renew`) and the portal (/outlets/new, renewals) share."""

from __future__ import annotations

DEPLOYMENT = "outlet-qualification"


class RunNotStarted(RuntimeError):
    """The deployment is not served (the system is not up)."""


def start_qualification(outlet: str, renewal: int = 0, *, now: str | None = None) -> str:
    """Start the outlet's review run on the work pool (not waiting for it); its run id.
    `now` (ISO) makes the run act at that time; None: it reads the clock."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(
            f"{DEPLOYMENT}/{DEPLOYMENT}",
            parameters={"request": {"outlet": outlet, "renewal": renewal}, "now": now},
            timeout=0,
        )
    except ObjectNotFound as exc:
        raise RunNotStarted(
            f"deployment {DEPLOYMENT!r} is not served: start the system with `clubflow up`"
        ) from exc
    return str(run.id)
