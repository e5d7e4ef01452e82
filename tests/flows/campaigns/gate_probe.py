"""A minimal flow with one gate: the gate machinery's own tests drive it."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow

from domain.gates import GateKind, GateSpec
from domain.models import Role
from flows.gates import wait_for_decision


@flow(name="gate-probe", flow_run_name="probe {code} · start")
def gate_probe(
    code: str,
    due_on: date,
    owner_role: Role = Role.regional_specialist,
    owner_region: str | None = "chengdu",
    kind: GateKind = GateKind.approval,
    now: datetime | None = None,
) -> str:
    outcome = wait_for_decision(
        GateSpec(
            subject_type="probe",
            subject_id=1,
            subject_code=code,
            subject_title=f"probe {code}",
            key="review",
            title="Probe review",
            kind=kind,
            owner_role=owner_role,
            owner_region=owner_region,
            due_on=due_on,
        ),
        description=f"### Probe {code}\n\nApprove or not.",
        run_label=f"probe {code}",
        tags=["probe"],
        now=now,
    )
    return outcome.outcome or "void"
