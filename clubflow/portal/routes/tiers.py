"""/tiers: a member sees their tier, its privileges and what is missing to the next tier;
HQ sees every tier's privileges and edits them (as `clubflow members privileges set`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.members import TIER_ZH
from domain.models import Member, MemberTier, Role
from domain.points import next_tier_missing
from domain.tiers import TIERS, TierError
from tasks.audit import record_refusal
from tasks.members.ledger import tier_policy
from tasks.members.privileges import list_privileges, set_privilege
from tasks.members.purchases import purchases_within_year

router = APIRouter()
HQ_ROLES = (Role.campaign_manager, Role.it)


@router.get("/tiers")
def tiers_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    p = portal(request)
    settings = p.settings
    if viewer.is_member:
        member = session.get(Member, viewer.member_id)
        spent = purchases_within_year(session=session, member_ids=[member.id], as_of=p.now())
        purchases = spent.get(member.id, 0.0)
        upcoming = next_tier_missing(
            member.points, member.service_visits, purchases, member.tier, tier_policy(settings)
        )
        audit(request, session, viewer, "tiers.view", f"member:{member.member_no}")
        return render(
            request,
            "tiers.html",
            member=member,
            tier_zh=TIER_ZH[MemberTier(member.tier)],
            purchases=purchases,
            upcoming=upcoming,
            next_zh=TIER_ZH[upcoming[0]] if upcoming else None,
            lines=list_privileges(session=session, settings=settings, tier=member.tier),
            editable=False,
            tiers_zh={t: TIER_ZH[MemberTier(t)] for t in TIERS},
        )
    require(
        request,
        session,
        viewer,
        viewer.role in HQ_ROLES,
        action="tiers.view",
        subject="tiers",
        reason=f"{viewer.actor} 不能查看会员等级权益 (tier privileges are for members and HQ)",
    )
    audit(request, session, viewer, "tiers.view", "tiers")
    return render(
        request,
        "tiers.html",
        member=None,
        lines=list_privileges(session=session, settings=settings),
        editable=viewer.role == Role.campaign_manager,
        tiers_zh={t: TIER_ZH[MemberTier(t)] for t in TIERS},
        notice=request.query_params.get("saved"),
    )


@router.post("/tiers/privileges")
def set_privilege_form(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    p = portal(request)
    tier, code = str(form.get("tier", "")), str(form.get("code", ""))
    value = str(form.get("value", "")).strip()
    subject = f"privilege:{tier}:{code}"
    try:
        set_privilege(session=session, tier=tier, code=code, value=value, by=viewer.actor,
                      now=p.now())  # fmt: skip
    except TierError as exc:
        record_refusal(session=session, action="members.privileges.set", subject=subject,
                       actor=viewer.actor, reason=str(exc), now=p.now())  # fmt: skip
        audit(request, session, viewer, "members.privileges.set", subject, outcome="refused")
        return render(
            request, "error.html", status_code=403, title="不能修改权益", message=str(exc)
        )
    audit(request, session, viewer, "members.privileges.set", subject)
    return RedirectResponse(f"/tiers?saved={tier}+{code}", status_code=303)
