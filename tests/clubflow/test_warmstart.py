"""The warm start: `clubflow-run` hands a flow run to the warm-start server, which forks it.

A real server process (it imports every flow module, as on a worker), a real Prefect server,
and real flow runs executed by `prefect.engine` in the forked child. What a worker would see is
checked: the run's state, the run's output on the launcher's own stdout, the launcher's exit
status, signals reaching the run, and a cold start whenever no server can take the run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from clubflow.warmstart import SOCKET_ENV
from clubflow.warmstart.server import Preloaded

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(sys.executable).with_name("clubflow-run")
HERE = Path(__file__).resolve()


@flow(name="warm-probe")
def probe(seconds: float = 0.0) -> str:
    time.sleep(seconds)
    line = f"probe ran in pid {os.getpid()} with PROBE={os.environ.get('PROBE')}"
    print(line, flush=True)
    return line


def start_server(tmp_path: Path, extra: str = "") -> tuple[subprocess.Popen, Path, Path]:
    """The server as `clubflow worker` starts it; `extra` runs after its imports (tests only)."""
    path = tmp_path / "runs.sock"
    log = tmp_path / "server.log"
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from clubflow.warmstart import server
        preloaded = server.preload()
        {extra}
        srv = server.Server(Path({str(path)!r}), preloaded, None)
        srv.listen()
        print("ready", file=sys.stderr, flush=True)
        srv.serve()
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__")}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 180
    while not path.exists():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the warm-start server did not listen"
        time.sleep(0.2)
    return proc, path, log


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warm")
    proc, path, log = start_server(tmp)
    yield path, log
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def new_run(seconds: float = 0.0):
    with get_client(sync_client=True) as client:
        return client.create_flow_run(probe, parameters={"seconds": seconds})


def launcher_env(run_id, socket_path: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    env.update(
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT__FLOW_RUN_ID=str(run_id),
        PREFECT__FLOW_ENTRYPOINT=f"{HERE}:probe",
        PROBE="from-the-launcher",  # only the launcher has it: the child must take its env
    )
    if socket_path is not None:
        env[SOCKET_ENV] = str(socket_path)
    return env


def state_of(run_id) -> str:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state.name


def test_a_run_is_forked_with_the_launchers_environment(prefect_server, warm, tmp_path):
    socket_path, log = warm
    run = new_run()
    done = subprocess.run(
        [str(LAUNCHER)],
        cwd=tmp_path,
        env=launcher_env(run.id, socket_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "with PROBE=from-the-launcher" in done.stdout  # its output is the launcher's
    assert state_of(run.id) == "Completed"
    assert f"flow run {run.id} forked as pid" in log.read_text()


def test_without_a_server_the_launcher_starts_the_run_cold(prefect_server, tmp_path):
    run = new_run()
    done = subprocess.run(
        [str(LAUNCHER)],
        cwd=tmp_path,
        env=launcher_env(run.id, tmp_path / "nobody.sock"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no warm-start server at" in done.stderr
    assert "with PROBE=from-the-launcher" in done.stdout
    assert state_of(run.id) == "Completed"


def test_exit_status_is_the_runs(prefect_server, warm, tmp_path):
    socket_path, _ = warm
    env = launcher_env("not-a-run-id", socket_path)
    warm_run = subprocess.run([str(LAUNCHER)], env=env, capture_output=True, text=True, timeout=60)
    env.pop(SOCKET_ENV)
    cold_run = subprocess.run([str(LAUNCHER)], env=env, capture_output=True, text=True, timeout=60)
    # The engine refuses a bad id with exit 1, forked or not.
    assert (warm_run.returncode, cold_run.returncode) == (1, 1)
    assert "Invalid flow run id" in warm_run.stderr
    assert "Invalid flow run id" in cold_run.stderr


def test_sigterm_to_the_launcher_reaches_the_run(prefect_server, warm, tmp_path):
    socket_path, log = warm
    run = new_run(seconds=120)
    launcher = subprocess.Popen(
        [str(LAUNCHER)],
        env=launcher_env(run.id, socket_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while state_of(run.id) != "Running":
        assert launcher.poll() is None, launcher.stdout.read()
        assert time.monotonic() < deadline, "the probe did not start"
        time.sleep(0.3)
    forked = [ln for ln in log.read_text().splitlines() if f"flow run {run.id} forked" in ln]
    child = int(forked[-1].rsplit(" ", 1)[1])
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=60)
    # The launcher exits as its run did; the run's process is gone.
    assert launcher.returncode != 0
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_a_killed_launcher_takes_its_run_with_it(prefect_server, warm, tmp_path):
    socket_path, log = warm
    run = new_run(seconds=120)
    launcher = subprocess.Popen(
        [str(LAUNCHER)],
        env=launcher_env(run.id, socket_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while f"flow run {run.id} forked" not in log.read_text():
        assert time.monotonic() < deadline, "the run was not forked"
        time.sleep(0.2)
    forked = [ln for ln in log.read_text().splitlines() if f"flow run {run.id} forked" in ln]
    child = int(forked[-1].rsplit(" ", 1)[1])
    launcher.kill()
    launcher.wait(timeout=10)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the run outlived its launcher"
        time.sleep(0.2)


def test_changed_code_is_never_run_warm(prefect_server, tmp_path):
    watched = tmp_path / "module.py"
    watched.write_text("x = 1\n")
    extra = f"preloaded.stamps[{str(watched)!r}] = Path({str(watched)!r}).stat().st_mtime_ns"
    proc, socket_path, log = start_server(tmp_path, extra)
    try:
        os.utime(watched, ns=(0, 0))  # the code on disk changed after the import
        run = new_run()
        done = subprocess.run(
            [str(LAUNCHER)],
            env=launcher_env(run.id, socket_path),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "the code changed since the warm-start server imported it" in done.stderr
        assert state_of(run.id) == "Completed"
        assert f"{watched} changed since it was imported" in log.read_text()
        # It takes no more runs, and exits (its worker then starts a fresh one).
        assert proc.wait(timeout=30) == 0
        assert not socket_path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_file_changed_since_import_is_found(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("")
    preloaded = Preloaded(root=tmp_path, modules=[], stamps={str(path): path.stat().st_mtime_ns})
    assert preloaded.changed() == []
    os.utime(path, ns=(1, 1))
    assert preloaded.changed() == [str(path)]
    path.unlink()
    assert preloaded.changed() == [str(path)]


def test_a_request_without_its_streams_is_refused(warm):
    socket_path, log = warm
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(socket_path))
        conn.sendall(b"\x00\x00\x00\x02{}")
        conn.settimeout(10)
        assert conn.recv(100) == b""  # closed without forking anything
    deadline = time.monotonic() + 10
    while "bad request" not in log.read_text():
        assert time.monotonic() < deadline
        threading.Event().wait(0.1)
