"""`clubflow up` as a user runs it: a private stack in a temporary project folder, found by a
command from "another shell", a killed serve process restarted; and a command with no stack
saying so in one line instead of starting a temporary server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.system

CLUBFLOW = str(Path(sys.executable).with_name("clubflow"))
PROPOSAL = """\
title: 雨林穿越 秋季站
activity_class: C
theme: 穿越季
region: chengdu
club: C-CH001
starts_on: "2026-10-11"
ends_on: "2026-10-11"
place: 四川雅安
expected_participants: 30
budget: [{item: 场地费, amount: 1500}]
subsidy_requested: 4500
proposed_by: admin.ch001
safety_plan: https://docs.example/safety/CH001-20261011（火灾、地震、暴雨、断电）
support_vehicle: 川A·救援01
"""
PROPOSED = "2026-09-21T10:00:00+08:00"


def free_port_pair() -> int:
    """A port whose +1 and +100 neighbours (the portal, the demo inbox) are free too."""
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b, socket.socket() as c:
            a.bind(("0.0.0.0", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("0.0.0.0", port + 1))
                c.bind(("127.0.0.1", port + 100))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair")


def shell_env(**extra: str) -> dict[str, str]:
    """A fresh shell: no Prefect or clubflow settings of this test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLUBFLOW_"))}
    return {**env, **extra}


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLUBFLOW, *args], cwd=cwd, env=shell_env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def wait_for(what: str, check, timeout: float, output: list[str] | None = None):
    # A bound, not a speed check: a loaded 2-core machine starts a server slowly.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    tail = "".join(output or [])[-3000:]
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_restarts_a_killed_serve_process_and_another_shell_finds_it(tmp_path):
    """The stack is started --public: its API refuses a request without the auth string, and
    the serve process, the portal and a command in another shell use it unasked."""
    port = free_port_pair()
    (tmp_path / "proposal.yaml").write_text(PROPOSAL, encoding="utf-8")
    up = subprocess.Popen(
        [CLUBFLOW, "up", "--port", str(port), "--no-seed", "--public"],
        cwd=tmp_path, env=shell_env(PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(up.stdout.readline, "")))
    reader.start()
    stack_file = tmp_path / ".clubflow" / "stack.json"
    try:
        wait_for("clubflow is up", lambda: "clubflow is up" in "".join(output), 480, output)
        info = json.loads(stack_file.read_text())
        assert info["api_url"] == f"http://127.0.0.1:{port}/api"
        assert set(info["parts"]) == {"server", "inbox", "serve", "deliver", "portal"}
        auth_file = tmp_path / ".clubflow" / "api-auth"
        assert auth_file.stat().st_mode & 0o777 == 0o600
        auth = tuple(auth_file.read_text().strip().split(":", 1))
        assert auth[1] not in stack_file.read_text()
        flows = f"{info['api_url']}/flows/filter"
        assert httpx.post(flows, json={}, timeout=10).status_code == 401
        assert httpx.post(flows, json={}, auth=auth, timeout=10).status_code == 200
        portal = wait_for(
            "the portal",
            lambda: _get(f"http://127.0.0.1:{port + 1}/login"),
            120,
            output,
        )
        assert "获取验证码" in portal.text

        # Another shell in the project folder: the stack's database and its deployments.
        seeded = cli("demo", "--clubs-per-region", "1", "--members", "0", "--leads", "0",
                     cwd=tmp_path)  # fmt: skip
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        assert str(tmp_path / ".clubflow" / "clubflow.db") in seeded.stdout.replace("\n", "")

        old_serve = info["parts"]["serve"]
        os.kill(old_serve, signal.SIGKILL)
        wait_for("serve restarted", lambda: "serve restarted" in "".join(output), 120, output)
        assert "serve stopped (exit -9); restarting in 1s" in "".join(output)
        new_serve = json.loads(stack_file.read_text())["parts"]["serve"]
        assert new_serve != old_serve and alive(new_serve)

        # "up" is printed when serve starts; it registers the deployments a little later.
        def served() -> bool:
            url = f"{info['api_url']}/deployments/name/activity-lifecycle/activity-lifecycle"
            try:
                return httpx.get(url, auth=auth, timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the deployments to be served", served, 240, output)
        proposed = cli("activity", "propose", "proposal.yaml", "--now", PROPOSED, cwd=tmp_path)
        assert proposed.returncode == 0, proposed.stdout + proposed.stderr
        assert "lifecycle run" in proposed.stdout and "started" in proposed.stdout
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            code = up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
        finally:
            reader.join(timeout=10)
    assert code == 0
    assert "stopping..." in "".join(output)
    assert not stack_file.exists()
    assert not any(alive(pid) for pid in json.loads(json.dumps(info["parts"])).values())


def _get(url: str):
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None


def test_a_command_with_no_stack_says_so_in_one_line(tmp_path):
    # A stack file left behind by a stack that is gone (its port answers nothing).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / ".clubflow"
    home.mkdir()
    db = f"sqlite:///{home / 'clubflow.db'}"
    (home / "stack.json").write_text(
        json.dumps(
            {"api_url": f"http://127.0.0.1:{port}/api", "home": str(home), "database_url": db,
             "pid": 999999, "parts": {}}
        )
    )  # fmt: skip
    (tmp_path / "proposal.yaml").write_text(PROPOSAL, encoding="utf-8")
    seeded = cli("demo", "--clubs-per-region", "1", "--members", "0", "--leads", "0", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    result = cli("activity", "propose", "proposal.yaml", "--now", PROPOSED, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.replace("\n", "") == (
        f"error: no clubflow stack answers at http://127.0.0.1:{port} — start it with make up"
    )
    assert "Traceback" not in result.stderr
    assert "temporary server" not in (result.stdout + result.stderr).lower()
