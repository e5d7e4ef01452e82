"""`clubflow deploy`: everything a multi-machine installation needs, in one safe-to-repeat step.

Given the project database and the Prefect API: migrate the schema, register the block types,
create the channels block (never overwriting one that exists), create the `clubflow` work pool
(process type, flow-run heartbeats on) and deploy every deployment of prefect.yaml with the
project's pull step. Workers then start with `clubflow worker` (or `prefect worker start --pool
clubflow`) on any machine with the project installed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from clubflow.stack import HEARTBEAT_ENV, answers, api_base, apply_env

WORK_POOL = "clubflow"


class DeployError(RuntimeError):
    """A reason `clubflow deploy` cannot go on, said in one line."""


def pull_steps(prefect_yaml: Path | None = None) -> list[dict[str, Any]]:
    """The `pull:` section of prefect.yaml: the same steps `prefect deploy` would store."""
    from deployments.catalog import PREFECT_YAML

    data = yaml.safe_load((prefect_yaml or PREFECT_YAML).read_text(encoding="utf-8"))
    steps = data.get("pull") or []
    for step in steps:
        for name in step:
            if "set_working_directory" in name:
                raise DeployError(
                    "prefect.yaml: the pull step must not name a folder of this machine "
                    "(use deployments.steps.prepare_run)"
                )
    return steps


def _check_api(api_url: str) -> None:
    if not answers(api_url):
        raise DeployError(
            f"no Prefect server answers at {api_base(api_url)} — start it first "
            "(prefect server start, see the README)"
        )


def ensure_channels(*, channels_file: Path | None, demo_inbox: str, console: Console) -> None:
    """Create the `default` channels block if there is none; an existing block is kept."""
    from pydantic import ValidationError

    from blocks.channels import InvalidChannelError, NotificationChannels
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from clubflow.stack import read_channels_document
    from clubflow.world import inbox_channels
    from tasks.outbox import CHANNELS_BLOCK

    label = f"{NotificationChannels._block_type_slug}/{CHANNELS_BLOCK}"
    if read_channels_document(CHANNELS_BLOCK) is not None:
        console.print(f"channels block {label} exists: kept")
        return
    if channels_file is not None:
        try:
            data = yaml.safe_load(channels_file.read_text(encoding="utf-8")) or {}
            channels = NotificationChannels(**data)
        except OSError as exc:
            raise DeployError(f"{channels_file}: {exc.strerror}") from None
        except (yaml.YAMLError, TypeError) as exc:
            raise DeployError(f"{channels_file}: not a YAML/JSON mapping: {exc}") from None
        except (ValidationError, InvalidChannelError) as exc:
            raise DeployError(f"{channels_file}: {_first_error(exc)}") from None
        how = f"from {channels_file}"
    elif demo_inbox:
        with session_scope(get_settings().database_url) as session:
            channels = inbox_channels(session=session, inbox_url=demo_inbox)
        how = f"routing everyone to the demo inbox {demo_inbox}"
    else:
        channels = NotificationChannels()
        how = "empty: add Apprise URLs in the UI (Blocks) before the first delivery"
    channels.save(CHANNELS_BLOCK, overwrite=False)
    console.print(f"channels block {label} created ({how})")


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(file)"
        return f"{where}: {first.get('msg')}"
    return str(exc)


# The pool's runs start with the project's launcher (clubflow/warmstart): a fork of a warm
# process on a `clubflow worker`, `python -m prefect.engine` anywhere else.
RUN_COMMAND = "clubflow-run"


def ensure_work_pool(console: Console) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    properties = template["variables"]["properties"]
    # Every flow run of the pool sends heartbeats, whatever the worker's own environment.
    properties["env"]["default"] = dict(HEARTBEAT_ENV)
    properties["command"]["default"] = RUN_COMMAND
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(
                WorkPoolCreate(name=WORK_POOL, type="process", base_job_template=template)
            )
        except ObjectAlreadyExists:
            pool = client.read_work_pool(WORK_POOL)
            if pool.type != "process":
                raise DeployError(
                    f"work pool {WORK_POOL!r} exists with type {pool.type!r}, not 'process'"
                ) from None
            existing = pool.base_job_template
            command = existing.get("variables", {}).get("properties", {}).get("command", {})
            if command.get("default") is None:
                # A pool made before the launcher existed: give it the launcher, keep the rest.
                command["default"] = RUN_COMMAND
                client.update_work_pool(WORK_POOL, WorkPoolUpdate(base_job_template=existing))
                console.print(f"work pool {WORK_POOL!r} exists: its runs now start {RUN_COMMAND}")
                return
            console.print(f"work pool {WORK_POOL!r} exists: kept")
            return
    console.print(f"work pool {WORK_POOL!r} created (process, runs start {RUN_COMMAND})")


def deploy_all(console: Console) -> list[str]:
    """Create or update every deployment of prefect.yaml in the pool, with the project's pull
    step and no path of this machine. Returns the deployment names."""
    from prefect.client.orchestration import get_client
    from prefect.deployments.schedules import create_deployment_schedule_create
    from prefect.utilities.callables import parameter_schema

    from deployments.catalog import load_catalog

    steps = pull_steps()
    names = []
    with get_client(sync_client=True) as client:
        for spec in load_catalog():
            flow = spec.load_flow()
            client.create_deployment(  # an upsert: deploying again updates in place
                flow_id=client.create_flow_from_name(flow.name),
                name=spec.name,
                description=spec.description or None,
                tags=list(spec.tags),
                parameters=spec.parameters or {},
                schedules=[create_deployment_schedule_create(s) for s in spec.prefect_schedules()],
                work_pool_name=WORK_POOL,
                entrypoint=spec.entrypoint,  # relative to the project folder
                path=None,
                pull_steps=steps,
                parameter_openapi_schema=parameter_schema(flow).model_dump(exclude_unset=True),
                enforce_parameter_schema=True,
            )
            names.append(spec.name)
    console.print(f"{len(names)} deployments in work pool {WORK_POOL!r}")
    return names


def run_deploy(
    *,
    api_url: str,
    database_url: str,
    channels_file: Path | None,
    demo: bool,
    demo_inbox: str,
    console: Console,
) -> list[str]:
    from clubflow.core.db import DatabaseError, migrate, safe_url, session_scope
    from clubflow.core.settings import get_settings

    apply_env({"PREFECT_API_URL": api_url, "CLUBFLOW_DATABASE_URL": database_url})
    if demo_inbox and not demo:
        raise DeployError("--demo-inbox needs --demo")
    settings = get_settings()
    if demo and settings.environment != "development":
        raise DeployError(
            f"--demo seeds a made-up world: development only (environment={settings.environment})"
        )
    _check_api(api_url)

    try:
        migrate(database_url)
    except DatabaseError as exc:
        raise DeployError(str(exc)) from None
    console.print(f"project database {safe_url(database_url)} migrated")

    from blocks import register_block_types

    register_block_types()
    console.print("block types registered")

    from clubflow.world import seed_demo_world, seed_regions

    with session_scope(database_url) as session:
        if demo:
            counts = seed_demo_world(session=session)
            console.print(f"demo world seeded: {json.dumps(counts)}")
        else:
            seed_regions(session=session)  # the seven regions every installation has

    ensure_channels(channels_file=channels_file, demo_inbox=demo_inbox, console=console)
    ensure_work_pool(console)
    names = deploy_all(console)
    console.print(
        "\nstart workers on each machine (project installed, same environment):\n"
        f"  PREFECT_API_URL={api_url} CLUBFLOW_DATABASE_URL=... clubflow worker"
    )
    return names


def worker_command(*, api_url: str, name: str, limit: int) -> tuple[list[str], dict[str, str]]:
    """The `prefect worker start` line of this machine, with heartbeats on; checks first that
    the API answers and the project database is configured."""
    import os

    from clubflow.core.settings import Settings, get_settings

    if get_settings().database_url == Settings.model_fields["database_url"].default:
        raise DeployError(
            "CLUBFLOW_DATABASE_URL is not set: a worker needs the shared project database"
        )
    _check_api(api_url)
    prefect_bin = shutil.which("prefect") or str(Path(sys.executable).with_name("prefect"))
    argv = [prefect_bin, "worker", "start", "--pool", WORK_POOL, "--type", "process"]
    if name:
        argv += ["--name", name]
    if limit:
        argv += ["--limit", str(limit)]
    env = {**os.environ, "PREFECT_API_URL": api_url, **HEARTBEAT_ENV}
    # A resumed run starts within a poll (Prefect's own default is 10 s); a value set on the
    # machine wins.
    env.setdefault("PREFECT_WORKER_QUERY_SECONDS", str(get_settings().run_poll_seconds))
    return argv, env
