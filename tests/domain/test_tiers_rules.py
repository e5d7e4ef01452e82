"""Tier routes: points, service visits and a year's purchases; tiers only rise."""

from __future__ import annotations

from domain.models import MemberTier
from domain.points import TierPolicy, earned_tier, next_tier_missing, tier_for

POLICY = TierPolicy(
    silver_points=5000,
    silver_services=3,
    gold_points=15000,
    silver_purchase_yuan=50_000,
    gold_purchase_yuan=150_000,
)


def test_purchases_within_a_year_reach_silver_and_gold():
    assert earned_tier(0, 0, POLICY, 49_999.99) == MemberTier.ordinary
    assert earned_tier(0, 0, POLICY, 50_000) == MemberTier.silver
    assert earned_tier(0, 0, POLICY, 150_000) == MemberTier.gold


def test_service_visits_reach_silver_not_gold():
    assert earned_tier(0, 2, POLICY) == MemberTier.ordinary
    assert earned_tier(0, 3, POLICY) == MemberTier.silver
    assert earned_tier(0, 99, POLICY) == MemberTier.silver


def test_a_zero_threshold_turns_the_purchase_route_off():
    off = TierPolicy(5000, 3, 15000, silver_purchase_yuan=0, gold_purchase_yuan=0)
    assert earned_tier(0, 0, off, 1_000_000) == MemberTier.ordinary


def test_tiers_only_rise_except_at_the_review():
    assert tier_for(0, 0, "gold", POLICY, purchases_yuan=0) == MemberTier.gold
    assert tier_for(0, 0, "gold", POLICY, review=True, purchases_yuan=60_000) == MemberTier.silver
    assert tier_for(0, 0, "ordinary", POLICY, purchases_yuan=150_000) == MemberTier.gold


def test_what_is_missing_to_the_next_tier():
    tier, missing = next_tier_missing(4000, 1, 20_000, "ordinary", POLICY)
    assert tier == MemberTier.silver
    assert missing == {"points": 1000, "services": 2, "purchases_yuan": 30_000}
    tier, missing = next_tier_missing(6000, 5, 100_000, "silver", POLICY)
    assert tier == MemberTier.gold
    assert missing == {"points": 9000, "purchases_yuan": 50_000}
    assert next_tier_missing(0, 0, 0, "gold", POLICY) is None
