"""Registration (online, file import, at a dealer) and activation (code or store confirmation)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from domain.members import RegistrationInput
from flows.naming import clock, daily_run_name
from tasks.members.referrals import reward_referrals_task
from tasks.members.registration import (
    activate_member_task,
    publish_registrations,
    register_members_task,
)
from tasks.outbox import deliver_notifications_task


@flow(
    name="register-members", flow_run_name=daily_run_name("members", "register"), log_prints=False
)
def register_members_flow(
    registrations: list[RegistrationInput],
    source: str = "online",
    now: datetime | None = None,
) -> dict[str, int]:
    """Register members (a known phone merges into its member) and send activation codes."""
    now = clock(now)
    result = register_members_task(registrations=registrations, now=now, source=source)
    deliver_notifications_task(now)
    publish_registrations(result)
    return {
        "created": len(result.created),
        "merged": len(result.merged),
        "reopened": len(result.reopened),
        "rejected": len(result.rejected),
    }


@flow(name="activate-member", flow_run_name="members · activate {member_no}", log_prints=False)
def activate_member_flow(
    member_no: str,
    code: str | None = None,
    dealer_code: str | None = None,
    now: datetime | None = None,
) -> str:
    """Activate a member with their code or a dealer's confirmation; a referral pays out."""
    now = clock(now)
    outcome = activate_member_task(member_no=member_no, now=now, code=code, dealer_code=dealer_code)
    reward_referrals_task(now=now)
    deliver_notifications_task(now)
    return outcome
