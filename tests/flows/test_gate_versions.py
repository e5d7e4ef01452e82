"""A suspended run resumes by replaying its flow from the top: when the flow's code changed
while it waited, the replay follows the gates it recorded, or fails saying why, opening
nothing new. The flow is loaded from a file through Prefect's loader, as the serve process
loads a deployment's entrypoint; "new code" is a second file with the same flow name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gate_runner import GateRunner
from prefect.client.orchestration import get_client
from prefect.flows import load_flow_from_entrypoint
from prefect.states import Scheduled
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Gate
from tasks.gates.decisions import decide

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NAME = "gate-versions"

SOURCE = """
from datetime import date, datetime

from prefect import flow

from domain.gates import GateSpec
from domain.models import Role
from flows.gates import wait_for_decision

GATES = {gates!r}


@flow(name="{name}", version="{version}", flow_run_name="versions {{code}}")
def gated(code: str, now: datetime | None = None) -> str:
    answers = []
    for key in GATES:
        outcome = wait_for_decision(
            GateSpec(
                subject_type="probe",
                subject_id=2,
                subject_code=code,
                key=key,
                title=f"Probe {{key}}",
                owner_role=Role.regional_specialist,
                owner_region="chengdu",
                due_on=date(2026, 12, 1),
            ),
            description=f"Probe {{code}}: {{key}}",
            now=now,
        )
        answers.append(f"{{key}}={{outcome.outcome}}")
    return ",".join(answers)
"""


def code_version(tmp_path: Path, version: str, gates: list[str]):
    """The flow as deployed at `version`, asking for `gates` in that order."""
    path = tmp_path / f"gated_v{version}.py"
    path.write_text(SOURCE.format(name=NAME, version=version, gates=gates), encoding="utf-8")
    return load_flow_from_entrypoint(f"{path}:gated")


@pytest.fixture
def deployed(tmp_path, prefect_server, channels):
    """A runner serving version 1 (review, then signoff); `deploy(flow)` swaps the code."""
    runner = GateRunner([], flows={NAME: code_version(tmp_path, "1", ["review", "signoff"])})
    runner.reset()

    def deploy(flow) -> None:
        runner.flows[runner.deployment_ids[NAME]] = flow

    runner.deploy = deploy
    return runner


def approve(code: str, key: str) -> None:
    decide(f"probe:{code}", key, decider="specialist.chengdu", outcome="approve", now=NOW)


def gates(db_url) -> list[tuple[str, str, str | None]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Gate).order_by(Gate.id)).scalars()
        return [(g.key, g.status, g.process_version) for g in rows]


def suspended_at_signoff_answered(runner, code: str):
    """Version 1 ran to its second gate, and the sign-off answer is waiting to be replayed."""
    run_id = runner.start(NAME, {"code": code, "now": NOW.isoformat()})
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    approve(code, "review")
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    approve(code, "signoff")  # resumed: the next execution replays from the top
    return run_id


def test_a_compatible_change_follows_the_recorded_path_and_goes_on(deployed, tmp_path, db_url):
    run_id = suspended_at_signoff_answered(deployed, "V1")
    # Version 2 keeps review and signoff in that order and adds a gate after them.
    deployed.deploy(code_version(tmp_path, "2", ["review", "signoff", "final"]))

    [run] = deployed.run_pending()
    assert run.id == run_id
    assert run.state.name == "Suspended", run.state
    assert gates(db_url) == [
        ("review", "decided", f"{NAME}@1"),
        ("signoff", "decided", f"{NAME}@1"),
        ("final", "open", f"{NAME}@2"),
    ]

    approve("V1", "final")
    [run] = deployed.run_pending()
    assert run.state.is_completed(), run.state
    assert [g[:2] for g in gates(db_url)] == [
        ("review", "decided"),
        ("signoff", "decided"),
        ("final", "decided"),
    ]


def test_an_incompatible_change_is_refused_by_name_and_opens_no_gate(deployed, tmp_path, db_url):
    run_id = suspended_at_signoff_answered(deployed, "V2")
    before = gates(db_url)
    # Version 2 asks for a budget gate between review and signoff: the run never opened it.
    deployed.deploy(code_version(tmp_path, "2", ["review", "budget", "signoff"]))

    [run] = deployed.run_pending()
    assert run.state.is_failed(), run.state
    message = run.state.message
    for part in (
        "'versions V2'",
        str(run_id),
        f"waited under {NAME}@1",
        f"the code is now {NAME}@2",
        "asks for probe:V2 budget r1",
        "it opened probe:V2 signoff r1 there",
        f"Finish this run with {NAME}@1",
        "void its open gates and start the flow again",
    ):
        assert part in message, message
    assert (
        gates(db_url)
        == before
        == [
            ("review", "decided", f"{NAME}@1"),
            ("signoff", "open", f"{NAME}@1"),
        ]
    )

    # What the message says works: the old code again, and a retry finishes the run.
    deployed.deploy(code_version(tmp_path, "1", ["review", "signoff"]))
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Scheduled(), force=True)
    [run] = deployed.run_pending()
    assert run.state.is_completed(), run.state
    assert [g[:2] for g in gates(db_url)] == [("review", "decided"), ("signoff", "decided")]
