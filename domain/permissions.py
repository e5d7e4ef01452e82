"""Who may change what, outside the gates (a gate's owner is checked by domain.gates).

Pure rules: the actor and the object's owners come in as values; each rule returns why the
actor may not act, or None. The caller records every refusal (tasks/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person named with `--as USER` (or in a form), or a dealer named `dealer:<code>`."""

    username: str
    role: str  # a domain.models.Role value, or "dealer"
    region_code: str | None = None
    club_id: int | None = None
    active: bool = True
    dealer_id: int | None = None


def _who(actor: Actor | None, username: str) -> str | None:
    if actor is None:
        return f"unknown user {username!r}"
    if not actor.active:
        return f"user {actor.username!r} is not active"
    return None


def role_refusal(
    actor: Actor | None, *, username: str, roles: tuple[str, ...], action: str
) -> str | None:
    """`actor` must be an active person of one of `roles`."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role not in roles:
        return f"user {actor.username!r} is {actor.role}; {action} is for {' or '.join(roles)}"
    return None


# The campaign's plan is the agency's and the campaign manager's; its dates the manager's.
CAMPAIGN_ROLES = {
    "campaign.start": ("campaign_manager",),
    "campaign.amend": ("agency", "campaign_manager"),
    "campaign.reschedule": ("campaign_manager",),
    # Training attendance is HQ's record; live KPI figures come from the agency.
    "campaign.attendance": ("campaign_manager",),
    "campaign.kpis": ("agency", "campaign_manager"),
}


def campaign_refusal(actor: Actor | None, *, username: str, action: str) -> str | None:
    return role_refusal(
        actor, username=username, roles=CAMPAIGN_ROLES[action], action=action.split(".")[1]
    )


def club_refusal(
    actor: Actor | None,
    *,
    username: str,
    club_id: int | None,
    dealer_id: int | None,
    club: str,
    action: str,
) -> str | None:
    """Check-in and registration are the club's own: its admins, or its dealer."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "dealer":
        if dealer_id is not None and actor.dealer_id == dealer_id:
            return None
        return f"dealer {actor.username!r} is not the dealer of club {club}; {action} is the club's"
    if actor.role == "club_admin" and club_id is not None and actor.club_id == club_id:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is not an admin of club {club}; "
        f"{action} is the club's"
    )


def dealer_return_refusal(
    actor: Actor | None,
    *,
    username: str,
    dealer_id: int,
    dealer: str,
    club_id: int | None,
) -> str | None:
    """A dealer's monthly return is answered by that dealer's staff or by the admin of that
    dealer's club; nobody else (the operator sends it, HQ reads it)."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "dealer" and actor.dealer_id == dealer_id:
        return None
    if actor.role == "club_admin" and club_id is not None and actor.club_id == club_id:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is neither staff of dealer {dealer} nor the "
        f"admin of its club; the monthly return is the dealer's"
    )
