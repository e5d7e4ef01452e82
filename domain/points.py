"""Points, ranks and tiers: pure rules over the ledger.

The ledger (`PointsEntry`) is the truth: a balance is the sum of a member's rows, and points
leave the ledger only as new negative rows (spending, adjustments, expiry), never by editing.
Expiry is first-in first-out: every negative row consumes the oldest unexpired grants first,
so what expires on a date is whatever is left of the grants due that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.members import same_day_in_year
from domain.models import MemberTier

# The alliance's twelve club ranks by points (name, lowest balance of the rank). A bound
# belongs to the higher rank: 100 points is 仁勇校尉, 99 is 陪戎校尉.
RANKS: tuple[tuple[str, int], ...] = (
    ("陪戎校尉", 0),
    ("仁勇校尉", 100),
    ("宣节校尉", 200),
    ("昭武校尉", 400),
    ("定远将军", 800),
    ("宣威将军", 1_200),
    ("忠武将军", 3_000),
    ("云麾将军", 5_000),
    ("怀化大将军", 10_000),
    ("辅国大将军", 20_000),
    ("骠骑大将军", 50_000),
    ("兵马大元帅", 100_000),
)
RANK_NAMES: tuple[str, ...] = tuple(name for name, _ in RANKS)
_TIER_ORDER = {MemberTier.ordinary: 0, MemberTier.silver: 1, MemberTier.gold: 2}


class UnknownRankError(ValueError):
    pass


def rank_for(points: int) -> str:
    """The rank of a balance; a negative balance (an over-adjustment) is the lowest rank."""
    current = RANKS[0][0]
    for name, floor in RANKS:
        if points >= floor:
            current = name
    return current


def rank_index(rank: str) -> int:
    """0 for 陪戎校尉 … 11 for 兵马大元帅: ranks compare by this."""
    try:
        return RANK_NAMES.index(rank)
    except ValueError as exc:
        raise UnknownRankError(f"rank {rank!r} is not one of the 12 alliance ranks") from exc


def next_rank(points: int) -> tuple[str, int] | None:
    """The next rank and the points still missing to reach it (None at the top)."""
    index = rank_index(rank_for(points))
    if index + 1 == len(RANKS):
        return None
    name, floor = RANKS[index + 1]
    return name, floor - points


@dataclass(frozen=True)
class TierPolicy:
    """Thresholds of silver and gold (settings: silver_points, silver_services, gold_points)."""

    silver_points: int
    silver_services: int
    gold_points: int
    # Purchases within a year (yuan); 0 turns the purchase route off.
    silver_purchase_yuan: float = 0
    gold_purchase_yuan: float = 0


def _reached(value: float, threshold: float) -> bool:
    return threshold > 0 and value >= threshold


def earned_tier(
    points: int, services: int, policy: TierPolicy, purchases_yuan: float = 0
) -> MemberTier:
    """The tier the numbers earn today: gold by points or a year's purchases, silver by
    points, service visits or a year's purchases."""
    if points >= policy.gold_points or _reached(purchases_yuan, policy.gold_purchase_yuan):
        return MemberTier.gold
    if (
        points >= policy.silver_points
        or services >= policy.silver_services
        or _reached(purchases_yuan, policy.silver_purchase_yuan)
    ):
        return MemberTier.silver
    return MemberTier.ordinary


def tier_order(tier: MemberTier | str) -> int:
    return _TIER_ORDER[MemberTier(tier)]


def next_tier_missing(
    points: int,
    services: int,
    purchases_yuan: float,
    current: MemberTier | str,
    policy: TierPolicy,
) -> tuple[MemberTier, dict[str, float]] | None:
    """The next tier above `current` and what is missing on each route to it (None at gold)."""
    current = MemberTier(current)
    if current == MemberTier.gold:
        return None
    if current == MemberTier.ordinary:
        missing = {
            "points": max(policy.silver_points - points, 0),
            "services": max(policy.silver_services - services, 0),
            "purchases_yuan": max(policy.silver_purchase_yuan - purchases_yuan, 0),
        }
        return MemberTier.silver, missing
    missing = {
        "points": max(policy.gold_points - points, 0),
        "purchases_yuan": max(policy.gold_purchase_yuan - purchases_yuan, 0),
    }
    return MemberTier.gold, missing


def tier_for(
    points: int,
    services: int,
    current: MemberTier | str,
    policy: TierPolicy,
    *,
    review: bool = False,
    purchases_yuan: float = 0,
) -> MemberTier:
    """The member's tier after a ledger change: it only rises, except at the yearly review,
    where it is set to what the numbers earn (so it may fall)."""
    earned = earned_tier(points, services, policy, purchases_yuan)
    if review:
        return earned
    current = MemberTier(current)
    return earned if _TIER_ORDER[earned] > _TIER_ORDER[current] else current


def tier_rose(old: MemberTier | str, new: MemberTier | str) -> bool:
    return _TIER_ORDER[MemberTier(new)] > _TIER_ORDER[MemberTier(old)]


# ---------------------------------------------------------------- expiry


def expiry_date(earned_on: date, years: int) -> date:
    """The day points earned on `earned_on` stop counting (29 Feb → 28 Feb when not leap)."""
    return same_day_in_year(earned_on, earned_on.year + years)


@dataclass(frozen=True)
class LedgerLine:
    """One ledger row as the expiry rule sees it. `expires_on` is the day the grant stops
    counting (None only for negative rows)."""

    entry_id: int
    amount: int
    expires_on: date | None = None


@dataclass(frozen=True)
class GrantLeft:
    entry_id: int
    expires_on: date
    left: int


@dataclass(frozen=True)
class Expiry:
    """A new negative ledger row: what is left of grant `entry_id` expires."""

    entry_id: int
    amount: int  # negative
    expires_on: date


def grants_left(lines: Iterable[LedgerLine]) -> list[GrantLeft]:
    """What is left of each grant after every negative row consumed the oldest first.

    Grants are consumed in the order they expire (then by entry id), which is the order they
    were earned when every grant lives the same number of years.
    """
    lines = list(lines)
    grants = sorted(
        (line for line in lines if line.amount > 0),
        key=lambda line: (line.expires_on or date.max, line.entry_id),
    )
    missing = [g.entry_id for g in grants if g.expires_on is None]
    if missing:
        raise ValueError(f"ledger rows {missing[:5]} are grants without an expiry date")
    consumed = -sum(line.amount for line in lines if line.amount < 0)
    out = []
    for grant in grants:
        used = min(grant.amount, max(consumed, 0))
        consumed -= used
        out.append(GrantLeft(grant.entry_id, grant.expires_on, grant.amount - used))
    return out


def expiries_due(lines: Iterable[LedgerLine], as_of: date) -> list[Expiry]:
    """The expiry rows to write on `as_of`: the rest of every grant whose day has come."""
    return [
        Expiry(g.entry_id, -g.left, g.expires_on)
        for g in grants_left(lines)
        if g.expires_on <= as_of and g.left > 0
    ]


def expiring_within(lines: Iterable[LedgerLine], as_of: date, days: int) -> tuple[int, date | None]:
    """Points that will expire after `as_of` and no later than `as_of + days`, and the first
    such day (for the warning a month ahead)."""
    horizon = as_of + timedelta(days=days)
    soon = [g for g in grants_left(lines) if as_of < g.expires_on <= horizon and g.left > 0]
    if not soon:
        return 0, None
    return sum(g.left for g in soon), min(g.expires_on for g in soon)
