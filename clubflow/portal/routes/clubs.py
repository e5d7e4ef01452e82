"""Club onboarding (收编登记) and the monthly club ranking in the portal.

/clubs lists the clubs a viewer may see (HQ all, a specialist their region, a dealer's staff
their own) with their status and checklist progress; /clubs/new is where a dealer's staff
register their club; /clubs/{code} is the checklist: the dealer submits evidence per item,
the club's regional specialist approves or returns each item with a reason. The rules live in
the store (`tasks.clubs.onboarding`); refusals are recorded there. /clubs/ranking shows the
latest month's stored scores, nationally and per region, to every staff member.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import (
    DB,
    audit,
    checked_form,
    portal,
    render,
    require,
    signed_in,
    store_step,
)
from domain.club_onboarding import GRADES, OFFICER_TITLES, ClubInputError
from domain.models import Club, Role
from domain.models_clubs import ClubScore
from tasks.clubs.onboarding import (
    ClubLine,
    list_clubs,
    register_club,
    review_item,
    submit_evidence,
)
from tasks.clubs.rating import ranking

router = APIRouter()
# Who reads the club list: HQ, the specialists, a dealer's staff and a club's admin.
LIST_ROLES = (
    Role.campaign_manager,
    Role.it,
    Role.regional_specialist,
    Role.dealer,
    Role.club_admin,
)


def _staff(request: Request, session: Session, viewer: Viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        not viewer.is_member,
        action=action,
        subject="clubs",
        reason=f"{viewer.actor} 不是员工，不能查看俱乐部 (clubs are for staff)",
    )


def _visible(session: Session, viewer: Viewer) -> list[ClubLine]:
    if viewer.is_hq:
        return list_clubs(session=session)
    if viewer.role == Role.regional_specialist:
        return list_clubs(session=session, region_code=viewer.region_code)
    own = _own_codes(session, viewer)
    return [line for line in list_clubs(session=session) if line.code in own]


def _own_codes(session: Session, viewer: Viewer) -> set[str]:
    if viewer.role == Role.dealer and viewer.dealer_id:
        return set(
            session.execute(select(Club.code).where(Club.dealer_id == viewer.dealer_id)).scalars()
        )
    if viewer.role == Role.club_admin and viewer.club_code:
        return {viewer.club_code}
    return set()


def _progress(line: ClubLine) -> tuple[int, int]:
    required = [i for i in line.items if i[3]]
    return sum(1 for i in required if i[2] == "approved"), len(required)


@router.get("/clubs")
def clubs_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    require(
        request,
        session,
        viewer,
        viewer.role in LIST_ROLES,
        action="clubs.list",
        subject="clubs",
        reason=f"{viewer.actor} 不能查看俱乐部收编 (for HQ, specialists, dealers and club admins)",
    )
    lines = _visible(session, viewer)
    audit(request, session, viewer, "clubs.list", f"clubs:{len(lines)}")
    return render(
        request,
        "clubs.html",
        lines=[(line, *_progress(line)) for line in lines],
        may_register=viewer.role == Role.dealer and not _own_codes(session, viewer),
    )


def _dealer_staff(request: Request, session: Session, viewer: Viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role == Role.dealer and viewer.dealer_code is not None,
        action="clubs.register",
        subject="clubs",
        reason=f"{viewer.actor} 不是经销商员工，不能登记俱乐部 (registering is the dealer's)",
    )


def _new_page(request: Request, values: dict, error: str = "", status: int = 200):
    return render(
        request,
        "club_new.html",
        status_code=status,
        titles=OFFICER_TITLES,
        grades=GRADES,
        values=values,
        error=error,
        separator=portal(request).settings.club_name_separator,
    )


@router.get("/clubs/new")
def new_club_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _dealer_staff(request, session, viewer)
    return _new_page(request, {})


@router.post("/clubs/new")
def register_club_page(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _dealer_staff(request, session, viewer)
    code = f"C-{viewer.dealer_code}"  # one club per dealer, named after it
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf"}
    officers = {t: values.get(f"officer_{t}", "") for t in OFFICER_TITLES}
    return store_step(
        request,
        session,
        viewer,
        lambda: register_club(
            session=session,
            username=viewer.actor,
            dealer_code=viewer.dealer_code,
            code=code,
            name=values.get("name", ""),
            grade=values.get("grade", ""),
            officers=officers,
            settings=portal(request).settings,
            now=portal(request).now(),
        ),
        action="clubs.register",
        subject=f"club:{code}",
        invalid=ClubInputError,
        page=lambda error: _new_page(request, values, error=error, status=400),
        done=lambda club: RedirectResponse(f"/clubs/{club.code}", status_code=303),
    )


# ---------------------------------------------------------------- ranking


@router.get("/clubs/ranking")
def ranking_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _staff(request, session, viewer, "clubs.ranking")
    month = session.execute(select(func.max(ClubScore.month))).scalar()
    rows = ranking(session=session, month=month) if month else []
    regions: dict[str, list] = {}
    for score, club in sorted(rows, key=lambda r: (r[0].region_place, r[1].code)):
        regions.setdefault(score.region_code, []).append((score, club))
    audit(request, session, viewer, "clubs.ranking", f"month:{month or '-'}")
    return render(
        request, "club_ranking.html", month=month, rows=rows, regions=sorted(regions.items())
    )


# ---------------------------------------------------------------- one club's checklist


def _club_page(request, session, viewer: Viewer, code: str, *, error="", notice="", status=200):
    club = session.execute(select(Club).where(Club.code == code)).scalar_one_or_none()
    line = next(
        x for x in list_clubs(session=session, region_code=club.region_code) if x.code == code
    )
    return render(
        request,
        "club.html",
        status_code=status,
        club=club,
        line=line,
        progress=_progress(line),
        may_submit=viewer.role == Role.dealer and club.dealer_id == viewer.dealer_id,
        may_review=viewer.role == Role.regional_specialist
        and viewer.region_code == club.region_code,
        error=error,
        notice=notice,
    )


def _seen_club(request, session, viewer: Viewer, code: str, action: str) -> Club:
    _staff(request, session, viewer, action)
    club = session.execute(select(Club).where(Club.code == code)).scalar_one_or_none()
    if club is None:
        raise HTTPException(status_code=404)
    require(
        request,
        session,
        viewer,
        viewer.sees_club(club_id=club.id, region_code=club.region_code, dealer_id=club.dealer_id),
        action=action,
        subject=f"club:{code}",
        reason=f"{viewer.actor} 不能查看俱乐部 {code} (not their region or dealer)",
    )
    return club


@router.get("/clubs/{code}")
def club_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    _seen_club(request, session, viewer, code, "clubs.view")
    audit(request, session, viewer, "clubs.view", f"club:{code}")
    done = request.query_params.get("done", "")
    notice = {"submitted": "已提交材料，等待区域专员审核。", "reviewed": "已记录审核结果。"}.get(
        done, ""
    )
    return _club_page(request, session, viewer, code, notice=notice)


@router.post("/clubs/{code}/evidence")
def submit_evidence_page(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _seen_club(request, session, viewer, code, "clubs.submit")
    evidence = {
        k.removeprefix("evidence_"): str(v).strip()
        for k, v in form.items()
        if k.startswith("evidence_") and str(v).strip()
    }
    return store_step(
        request,
        session,
        viewer,
        lambda: submit_evidence(
            session=session,
            username=viewer.actor,
            club_code=code,
            evidence=evidence,
            now=portal(request).now(),
        ),
        action="clubs.submit",
        subject=f"club:{code}",
        invalid=ClubInputError,
        page=lambda error: _club_page(request, session, viewer, code, error=error, status=400),
        detail=lambda items: " ".join(items) or "unchanged",
        done=lambda _items: RedirectResponse(f"/clubs/{code}?done=submitted", status_code=303),
    )


@router.post("/clubs/{code}/review")
def review_item_page(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _seen_club(request, session, viewer, code, "clubs.review")
    item = str(form.get("item", "")).strip()
    decision = str(form.get("decision", ""))
    return store_step(
        request,
        session,
        viewer,
        lambda: review_item(
            session=session,
            username=viewer.actor,
            club_code=code,
            item=item,
            approve=decision == "approve",
            reason=str(form.get("reason", "")),
            now=portal(request).now(),
        ),
        action="clubs.review",
        subject=f"club:{code}",
        invalid=ClubInputError,
        page=lambda error: _club_page(request, session, viewer, code, error=error, status=400),
        detail=lambda status: f"{item} {decision} -> {status}",
        done=lambda _status: RedirectResponse(f"/clubs/{code}?done=reviewed", status_code=303),
    )
