"""A campaign's live page: each KPI's figure to date against the share of its target due by
today, behind pace flagged, with the daily trend. For HQ, the agency and the specialists of
the campaign's regions; refused for dealers, club admins and members."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, portal, render, require, signed_in
from domain.calendar import BUSINESS_TZ
from domain.models import Role
from tasks.campaigns.live import live_report
from tasks.campaigns.store import load_campaign

router = APIRouter()
SEES_CAMPAIGNS = frozenset({Role.campaign_manager, Role.it, Role.agency, Role.regional_specialist})


@router.get("/campaigns/{code}/live")
def campaign_live(
    code: str,
    request: Request,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    subject = f"campaign:{code}"
    require(
        request,
        session,
        viewer,
        viewer.role in SEES_CAMPAIGNS,
        action="campaign.live",
        subject=subject,
        reason=f"{viewer.actor} 不能查看活动实时数据 (campaigns are for HQ, agency, specialists)",
    )
    try:
        view = load_campaign(session=session, code=code)
    except LookupError:
        raise HTTPException(status_code=404) from None
    require(
        request,
        session,
        viewer,
        viewer.role != Role.regional_specialist or viewer.region_code in view.regions,
        action="campaign.live",
        subject=subject,
        reason=f"{viewer.actor} 不负责活动 {code} 的区域 (not a region of the campaign)",
    )
    p = portal(request)
    today = p.now().astimezone(BUSINESS_TZ).date()
    live = live_report(session=session, campaign_id=view.id, today=today, settings=p.settings)
    audit(request, session, viewer, "campaign.live", subject)
    return render(request, "campaign_live.html", live=live, campaign=view)
