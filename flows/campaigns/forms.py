"""The typed forms of the campaign's own gates (review, sign-off and feasibility use the
shared ApprovalInput / FeasibilityInput of flows/gates.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.campaigns import BudgetLine, Kpi, SlotLine
from flows.gates import GateInput


class PlanRevisionInput(GateInput):
    """The agency hands in the revised plan; it becomes the next plan version."""

    outcome: Literal["submit"] = "submit"
    summary: str = Field(description="The revised plan")
    policy: str = ""
    budget: list[BudgetLine]
    kpis: list[Kpi]
    note: str = Field("", description="What changed, answering the review comments")


class KpiActual(BaseModel):
    name: str = Field(description="The KPI's name as in the plan")
    actual: float


class KpiActualsInput(GateInput):
    """Actual figures after the campaign ended, for the post-campaign report."""

    outcome: Literal["submit"] = "submit"
    actuals: list[KpiActual]
    spend_total: float = Field(ge=0, description="What the campaign actually spent (CNY)")
    competitors: str = Field("", description="Competitors' moves seen during the campaign")
    next_steps: str = ""


class SlotsInput(GateInput):
    """The platform resource slots (paid and free) applied for at the platform's key dates,
    and what was granted."""

    outcome: Literal["recorded"] = "recorded"
    slots: list[SlotLine]
