"""Load deployment entrypoints the way a deployment run does (a script, not a test module).

    python -I tests/deployments/load_entrypoints.py ENTRYPOINT...    (cwd = repository root)

A run process (`python -m prefect.engine`, started per run by the serve process or a worker)
has the working directory first on `sys.path`, imports Prefect, then calls
`prefect.flows.load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)`, which puts
the flow file's folder first on `sys.path`: a file there named like another module shadows it.
Here Prefect's engine is imported once, then every entrypoint is loaded in a forked child, so
each load starts from the state of a fresh run process (nothing of the project imported) and
no load can hide, or cause, another's clash. Prints one JSON line per entrypoint:
{"entrypoint", "ok", "flow"} or {"entrypoint", "ok": false, "error"}; exits 1 if any failed.
"""

from __future__ import annotations

import json
import os
import sys

# `python -I` puts neither the script's folder nor the working directory on sys.path;
# `python -m prefect.engine` starts with the working directory first.
sys.path.insert(0, os.getcwd())

import prefect.engine  # noqa: E402,F401 - what a run process has imported before it loads
from prefect.flows import load_flow_from_entrypoint  # noqa: E402

PARALLEL = 2  # children at a time: the machines have two cores


def _load(entrypoint: str) -> dict:
    try:
        flow = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
    except BaseException as exc:  # noqa: BLE001 - reported, as a crashed run would be
        cause = exc.__cause__ or exc
        return {"entrypoint": entrypoint, "ok": False, "error": f"{type(cause).__name__}: {cause}"}
    return {"entrypoint": entrypoint, "ok": True, "flow": flow.name}


def _fork(entrypoint: str) -> tuple[int, int]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one load, as one run process does it
        os.close(read)
        try:
            with os.fdopen(write, "w") as out:
                out.write(json.dumps(_load(entrypoint), ensure_ascii=False))
        finally:
            os._exit(0)
    os.close(write)
    return pid, read


def main(entrypoints: list[str]) -> int:
    results: dict[str, dict] = {}
    pending = list(entrypoints)
    running: dict[int, tuple[str, int]] = {}
    while pending or running:
        while pending and len(running) < PARALLEL:
            entrypoint = pending.pop(0)
            pid, read = _fork(entrypoint)
            running[pid] = (entrypoint, read)
        pid, status = os.wait()
        entrypoint, read = running.pop(pid)
        with os.fdopen(read) as inp:  # a result is far below the pipe's buffer
            line = inp.read()
        results[entrypoint] = (
            json.loads(line)
            if line
            else {"entrypoint": entrypoint, "ok": False, "error": f"child ended: {status}"}
        )
    for entrypoint in entrypoints:
        print(json.dumps(results[entrypoint], ensure_ascii=False))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
