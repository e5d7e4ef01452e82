"""Points renewal: a member of a tier the policy allows (or HQ for them) renews the grants
expiring soon. The ledger stays the truth: each renewed grant gets a negative row (what is
left of it leaves, consumed first-in first-out like any spending) and a new grant of the
same amount expiring later, both keyed by the old grant's id, so renewing twice changes
nothing and a grant renews once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.models import Member, PointsEntry, Role
from domain.points import grants_left
from domain.tiers import RENEWAL_REASON, Renewal, TierError, renewal_refusal, renewals
from tasks.audit import actor_of
from tasks.members.expiry import ledgers
from tasks.members.ledger import grant_points, recompute_members


@dataclass
class RenewalReport:
    member_no: str
    renewed: list[Renewal] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(r.amount for r in self.renewed)


def renew_points(
    *, session: Session, member_no: str, by: str, now: datetime, settings: Settings
) -> RenewalReport:
    """Renew the member's grants expiring within the window; TierError when refused (the
    caller records it)."""
    member = session.execute(
        select(Member).where(Member.member_no == member_no)
    ).scalar_one_or_none()
    if member is None:
        raise TierError(f"member_no {member_no!r} is not a member")
    actor = actor_of(session=session, username=by)
    is_hq = actor is not None and actor.active and actor.role == Role.campaign_manager.value
    reason = renewal_refusal(
        member.tier,
        settings.points_renewal_tiers,
        actor_is_hq=is_hq,
        is_member=by == f"member:{member_no}",
    )
    if reason is not None:
        raise TierError(f"member {member_no}: {reason}")
    today = business_date(now)
    lines = ledgers(session=session, member_ids=[member.id], years=settings.points_expire_years)
    left = grants_left(lines.get(member.id, []))
    if any(g.left > 0 and g.expires_on <= today for g in left):
        raise TierError(
            f"member {member_no}: expired points are not written off yet; renew after expiry"
        )
    renewable = set(
        session.execute(
            select(PointsEntry.id)
            .where(PointsEntry.member_id == member.id)
            .where(PointsEntry.amount > 0)
            .where(PointsEntry.reason.not_like(f"{RENEWAL_REASON}%"))
        ).scalars()
    )
    report = RenewalReport(member_no=member_no)
    report.renewed = renewals(
        left,
        today=today,
        window_days=settings.points_renewal_window_days,
        months=settings.points_renewal_months,
        renewable=renewable,
    )
    rows = []
    for r in report.renewed:
        base = {"member_id": member.id, "occurred_at": now}
        rows.append(
            {**base, "amount": -r.amount, "reason": f"{RENEWAL_REASON}{r.entry_id} (out)",
             "idem_key": f"renewal-out:{r.entry_id}"}
        )  # fmt: skip
        rows.append(
            {**base, "amount": r.amount, "reason": f"{RENEWAL_REASON}{r.entry_id}",
             "idem_key": f"renewal-in:{r.entry_id}", "expires_on": r.new_expires_on}
        )  # fmt: skip
    if rows:
        grant_points(session=session, rows=rows, settings=settings)
        recompute_members(session=session, member_ids=[member.id], now=now, settings=settings)
    return report
