"""Tier privileges and tier-only activities: pure rules.

Privileges are data (table `tier_privilege`), seeded from `DEFAULT_PRIVILEGES` and edited by
HQ; the points multiplier is not stored there: it is the `tier_points_multiplier` setting,
shown read-only beside the others.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.members import TIER_ZH
from domain.models import MemberTier, Role
from domain.permissions import Actor, role_refusal

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
