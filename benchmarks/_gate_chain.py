"""A benchmark-only gated flow: 20 approval gates one after the other, nothing else.

Each resume replays the run from the top through every gate already decided, so the time of a
resume against the number of gates passed shows what the replay costs
(`python -m benchmarks gates`). Deployed from here by the benchmark, never in prefect.yaml.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow

from domain.gates import GateKind, GateSpec
from domain.models import Role
from flows.gates import ApprovalInput, wait_for_decision

CHAIN_GATES = 20


def chain_gate(subject_id: int, code: str, step: int, due_on: date) -> GateSpec:
    return GateSpec(
        subject_type="bench",
        subject_id=subject_id,
        subject_code=code,
        subject_title=f"gate chain {code}",
        key=f"step_{step:02d}",
        title=f"第{step}关",
        kind=GateKind.approval,
        owner_role=Role.regional_specialist,
        owner_region="chengdu",
        due_on=due_on,
    )


@flow(name="bench-gate-chain", flow_run_name="bench chain {code}", log_prints=False, version="1")
def gate_chain(
    subject_id: int, code: str, due_on: date, now: datetime, gates: int = CHAIN_GATES
) -> int:
    """Wait at `gates` gates in turn; returns how many were approved."""
    approved = 0
    for step in range(1, gates + 1):
        outcome = wait_for_decision(
            chain_gate(subject_id, code, step, due_on),
            description=f"step {step} of {gates}",
            input_model=ApprovalInput,
            now=now,
        )
        approved += outcome.outcome == "approve"
    return approved
