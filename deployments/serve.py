"""The one place that wires clubflow: settings, database, blocks, and every deployment.

`clubflow up` runs this after the server is up; it serves every deployment of prefect.yaml
from this single process (no work pool needed on one machine).
"""

from __future__ import annotations

import logging

from prefect import serve
from prefect.settings import get_current_settings

from deployments.catalog import load_catalog
from deployments.steps import prepare_process

log = logging.getLogger("clubflow.serve")


def prepare() -> None:
    """Everything a deployment run needs before it starts: masking, schema, block types.
    Workers run the same preparation in each flow run (the pull step in deployments/steps.py)."""
    prepare_process(register_blocks=True)


def runner_deployments():
    return [
        spec.load_flow().to_deployment(
            name=spec.name,
            description=spec.description or None,
            tags=list(spec.tags),
            parameters=spec.parameters or None,
            schedules=spec.prefect_schedules() or None,
        )
        for spec in load_catalog()
    ]


def main() -> None:
    prepare()
    deployments = runner_deployments()
    log.info("serving %s deployments", len(deployments))
    # Schedules stay active when this process stops: a restart picks up where it left off.
    # `serve(limit=None)` means no limit at all, so the setting is passed explicitly: without it
    # every due run started its own process at once (20+ on 2 cores, minutes in "Submitting").
    serve(
        *deployments,
        pause_on_shutdown=False,
        limit=get_current_settings().runner.process_limit,
    )


if __name__ == "__main__":
    main()
