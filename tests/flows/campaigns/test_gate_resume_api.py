"""`decide` resumes the waiting run over the Prefect API's HTTP when the environment names
the API (the CLI and the stack's processes), and through Prefect's client when only Prefect's
settings do: the same run read, the same answers, the same errors. A `clubflow decide` process
never imports Prefect."""

from __future__ import annotations

import base64
import contextvars
import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client

from clubflow.core.db import session_scope
from tasks.gates.decisions import GateRunError, decide, resume_at_gate
from tasks.gates.run_api import PrefectRunApi, RestRunApi, RunView, run_api
from tasks.gates.store import find_open_gate

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["http", "prefect-client"])
def api_path(request, monkeypatch, prefect_server) -> str:
    """Each test once over HTTP, once with the API named by Prefect's settings only."""
    if request.param == "prefect-client":
        monkeypatch.delenv("PREFECT_API_URL")
    with run_api() as api:
        assert isinstance(api, RestRunApi if request.param == "http" else PrefectRunApi)
    return request.param


def _suspended(gate_runner, code: str):
    run_id = gate_runner.start(
        "gate-probe", {"code": code, "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    return run_id


def _gate(db_url, code: str):
    with session_scope(db_url) as session:
        return find_open_gate(session=session, subject=f"probe:{code}", key="review")


def test_the_http_api_reads_the_run_prefects_client_reads(gate_runner):
    run_id = _suspended(gate_runner, "A1")
    with get_client(sync_client=True) as client:
        expected = RunView.of_prefect(client.read_flow_run(run_id))
    assert expected.state_type == "PAUSED" and expected.pause_key.startswith("gate-")
    assert expected.form_key == f"suspended-{expected.pause_key}-schema"
    with RestRunApi(os.environ["PREFECT_API_URL"]) as api:
        assert api.read_run(str(run_id)) == expected
        assert api.read_run(str(uuid4())) is None
        refused = api.resume(str(run_id), {"outcome": "approve"})  # no decider: off the form
    assert refused.status == "REJECT" and "'decider' is a required property" in refused.reason


def test_decide_resumes_the_waiting_run(gate_runner, db_url, api_path):
    run_id = _suspended(gate_runner, "A2")
    decide("probe:A2", "review", decider="specialist.chengdu", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.id == run_id and run.state.is_completed(), run.state


def test_decide_waits_for_the_run_to_suspend_at_the_gate(gate_runner, db_url, api_path):
    from prefect.states import Scheduled

    run_id = _suspended(gate_runner, "A3")
    with get_client(sync_client=True) as client:  # replaying from the top: not there yet
        client.set_flow_run_state(run_id, Scheduled(name="Resuming"), force=True)
    answer: dict = {}

    def decide_now() -> None:
        try:
            answer["done"] = decide(
                "probe:A3",
                "review",
                decider="specialist.chengdu",
                outcome="approve",
                now=NOW,
                wait_seconds=90,
            ).run_input["outcome"]
        except Exception as exc:  # noqa: BLE001 - asserted below
            answer["error"] = exc

    # The wait polls, as a user's command does, while this test (the serve process) runs it.
    user = threading.Thread(target=contextvars.copy_context().run, args=(decide_now,))
    user.start()
    gate_runner.run_pending()  # it suspends at the gate again (completes if resumed by then)
    user.join(timeout=120)
    assert answer == {"done": "approve"}, answer
    gate_runner.run_pending()
    assert gate_runner.read(run_id).state.is_completed()


def test_a_refused_input_and_a_finished_run_are_named(gate_runner, db_url, api_path):
    run_id = _suspended(gate_runner, "A4")
    gate = _gate(db_url, "A4")
    with pytest.raises(GateRunError, match=rf"gate #{gate.id}: resume refused: .*'outcome'"):
        resume_at_gate(gate, {"decider": "specialist.chengdu"}, wait_seconds=5)
    decide("probe:A4", "review", decider="specialist.chengdu", outcome="approve", now=NOW)
    gate_runner.run_pending()
    with pytest.raises(
        GateRunError,
        match=rf"gate #{gate.id}: run 'probe A4 · review' is Completed; start the flow again",
    ):
        resume_at_gate(gate, {"decider": "specialist.chengdu"}, wait_seconds=5)
    gone = gate.model_copy(update={"flow_run_id": str(uuid4())})
    with pytest.raises(GateRunError, match=rf"run {gone.flow_run_id} does not exist"):
        resume_at_gate(gone, {}, wait_seconds=5)
    assert run_id


def test_a_clubflow_decide_process_imports_no_prefect(gate_runner, db_url):
    _suspended(gate_runner, "A5")
    # `clubflow decide` as a shell runs it (the API and the database from the environment),
    # then whether Prefect (or alembic) was ever imported.
    code = (
        "import sys\n"
        "from clubflow.cli import app\n"
        "try:\n"
        "    app(['decide', 'probe:A5', 'review', 'approve', '--as', 'specialist.chengdu',"
        f" '--now', '{NOW.isoformat()}'])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('prefect' in sys.modules, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-2:] == ["exit 0", "False False"], (
        done.stdout + done.stderr
    )
    assert "approve by specialist.chengdu; the run resumes" in " ".join(done.stdout.split())
    [run] = gate_runner.run_pending()
    assert run.state.is_completed(), run.state


def test_the_http_api_sends_the_credentials_prefects_client_sends():
    url = "http://127.0.0.1:9/api"
    both = {"PREFECT_API_AUTH_STRING": "admin:s3cret", "PREFECT_API_KEY": "key-1"}
    with RestRunApi(url, env=both) as api:  # the auth string wins, as in Prefect's client
        assert api.headers["Authorization"] == "Basic " + base64.b64encode(b"admin:s3cret").decode()
    with RestRunApi(url, env={"PREFECT_API_KEY": "key-1"}) as api:
        assert api.headers["Authorization"] == "Bearer key-1"
    with RestRunApi(url, env={}) as api:
        assert "Authorization" not in api.headers
