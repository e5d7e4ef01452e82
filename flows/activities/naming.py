"""Run names `activity <region> <title> · <step>`: an activity's runs are named by the activity,
not by a day (day-based names are `flows.naming`'s)."""

from __future__ import annotations

from collections.abc import Callable

from domain.regions import UnknownRegionError, region_info
from flows.naming import parameter


def proposal_run_name(step: str) -> Callable[[], str]:
    """A flow_run_name for flows whose parameters carry the proposal (region and title)."""

    def name() -> str:
        proposal = parameter("proposal") or {}
        if not isinstance(proposal, dict):
            proposal = proposal.model_dump()
        try:
            region = region_info(proposal.get("region", "")).name_zh
        except UnknownRegionError:
            region = proposal.get("region", "?")
        return f"activity {region} {proposal.get('title', '?')} · {step}"

    return name


def code_run_name(step: str) -> str:
    """A flow_run_name template for flows started with an activity code; the first step
    renames the run to the region and title (label_run_task)."""
    return "activity {code} · " + step
