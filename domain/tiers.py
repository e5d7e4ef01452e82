"""Tier privileges and tier-only activities: pure rules.

Privileges are data (table `tier_privilege`), seeded from `DEFAULT_PRIVILEGES` and edited by
HQ; the points multiplier is not stored there: it is the `tier_points_multiplier` setting,
shown read-only beside the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.members import TIER_ZH
from domain.models import MemberTier, Role
from domain.permissions import Actor, role_refusal
from domain.points import GrantLeft

TIERS: tuple[str, ...] = tuple(t.value for t in MemberTier)
MULTIPLIER_CODE = "points_multiplier"
# HQ edits the privileges (the campaign manager is HQ's role in the system).
PRIVILEGE_ROLES: tuple[str, ...] = (Role.campaign_manager.value,)

# (tier, code, name, value): our defaults (ours), edited by HQ afterwards.
DEFAULT_PRIVILEGES: tuple[tuple[str, str, str, str], ...] = (
    ("ordinary", "priority_booking", "优先预约", "否"),
    ("ordinary", "extra_maintenance", "额外免费保养次数", "0"),
    ("ordinary", "exclusive_events", "专属活动", "否"),
    ("ordinary", "birthday_points", "生日月积分", "0"),
    ("silver", "priority_booking", "优先预约", "是"),
    ("silver", "extra_maintenance", "额外免费保养次数", "1"),
    ("silver", "exclusive_events", "专属活动", "银卡活动"),
    ("silver", "birthday_points", "生日月积分", "200"),
    ("gold", "priority_booking", "优先预约", "是（专属顾问）"),
    ("gold", "extra_maintenance", "额外免费保养次数", "2"),
    ("gold", "exclusive_events", "专属活动", "金卡及银卡活动"),
    ("gold", "birthday_points", "生日月积分", "500"),
)


class TierError(ValueError):
    pass


def parse_tiers(value: str | Iterable[str] | None) -> list[str]:
    """A comma list (or list) of tiers, in tier order, without repeats; raises TierError."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    names = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(names - set(TIERS))
    if unknown:
        raise TierError(f"unknown tier(s) {', '.join(unknown)}; tiers are {', '.join(TIERS)}")
    return [tier for tier in TIERS if tier in names]


def tier_refusal(member_tier: MemberTier | str, allowed: Iterable[str]) -> str | None:
    """Why a member of `member_tier` may not register for an activity limited to `allowed`
    (None when the activity is open to every tier or the member's tier is allowed)."""
    allowed = list(allowed)
    tier = MemberTier(member_tier).value
    if not allowed or tier in allowed:
        return None
    names = "、".join(f"{TIER_ZH[MemberTier(t)]}({t})" for t in allowed)
    return (
        f"this activity is for {names} members only; the member is "
        f"{TIER_ZH[MemberTier(tier)]}({tier})"
    )


def privilege_refusal(actor: Actor | None, *, username: str) -> str | None:
    return role_refusal(
        actor, username=username, roles=PRIVILEGE_ROLES, action="editing tier privileges"
    )


# ---------------------------------------------------------------- points renewal

RENEWAL_REASON = "points renewal of #"


@dataclass(frozen=True)
class Renewal:
    """What is left of grant `entry_id` moves to a new grant expiring `new_expires_on`."""

    entry_id: int
    amount: int
    expires_on: date
    new_expires_on: date


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def renewal_refusal(
    tier: MemberTier | str, allowed_tiers: Iterable[str], *, actor_is_hq: bool, is_member: bool
) -> str | None:
    """The member themselves or HQ may renew, and only for a tier the policy allows."""
    if not (actor_is_hq or is_member):
        return "renewing points is for the member or HQ (campaign_manager)"
    tier = MemberTier(tier)
    allowed = list(allowed_tiers)
    if tier.value not in allowed:
        names = "、".join(TIER_ZH[MemberTier(t)] for t in allowed) or "no tier"
        return f"the member is {TIER_ZH[tier]}({tier.value}); points renewal is for {names}"
    return None


def renewals(
    left: Iterable[GrantLeft],
    *,
    today: date,
    window_days: int,
    months: int,
    renewable: set[int],
) -> list[Renewal]:
    """Grants expiring after today and within `window_days` that are still renewable (a grant
    renews once: a renewal's own grant is not in `renewable`)."""
    last = today + timedelta(days=window_days)
    return [
        Renewal(g.entry_id, g.left, g.expires_on, add_months(g.expires_on, months))
        for g in left
        if g.left > 0 and today < g.expires_on <= last and g.entry_id in renewable
    ]
