"""Members area: the store steps of registration, points, birthdays, referrals and
segments. `recompute_members` is the one place that turns the ledger into balance, rank and
tier; the activities area calls it after issuing activity points."""

from tasks.members.ledger import MemberChange, grant_points, recompute_members, tier_policy

__all__ = ["MemberChange", "grant_points", "recompute_members", "tier_policy"]
