"""Members: the member's own page (/me), the same view for staff (/members/<no>), and a
club admin (or the club's dealer at the counter) registering a new member of their club."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, refuse, render, signed_in
from domain.calendar import business_date
from domain.members import TIER_ZH, RegistrationInput
from domain.models import Activity, Club, Member, PointsEntry, Registration, Role
from domain.phones import PhoneError, normalise_phone
from domain.points_earn import reason_label
from domain.privacy import mask_phone, mask_text
from tasks.members.registration import register_members

router = APIRouter()


def _member_page(request: Request, session: Session, member: Member, *, own: bool):
    club = session.get(Club, member.club_id) if member.club_id else None
    ledger = session.execute(
        select(PointsEntry, Activity)
        .outerjoin(Activity, Activity.id == PointsEntry.activity_id)
        .where(PointsEntry.member_id == member.id)
        .order_by(PointsEntry.occurred_at.desc(), PointsEntry.id.desc())
    ).all()
    activities = session.execute(
        select(Registration, Activity)
        .join(Activity, Activity.id == Registration.activity_id)
        .where(Registration.member_id == member.id)
        .order_by(Activity.starts_on.desc(), Activity.id.desc())
    ).all()
    return render(
        request,
        "member.html",
        member=member,
        club=club,
        own=own,
        tier=TIER_ZH.get(member.tier, str(member.tier)),
        ledger=ledger,
        reason_label=reason_label,
        activities=activities,
    )


@router.get("/me")
def my_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if not viewer.is_member:
        return RedirectResponse("/", status_code=303)
    member = session.get(Member, viewer.member_id)
    audit(request, session, viewer, "member.view", f"member:{member.member_no}")
    return _member_page(request, session, member, own=True)


@router.get("/members/new")
def new_member_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may_register(request, session, viewer)
    return _new_page(request, {})


@router.post("/members/new")
def new_member(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_register(request, session, viewer)
    p = portal(request)
    values = {k: str(form.get(k, "")).strip() for k in ("name", "phone", "birthday")}
    values["marketing_consent"] = str(form.get("marketing_consent", "")) == "yes"
    errors = _field_errors(values, today=business_date(p.now()))
    if errors:
        audit(
            request,
            session,
            viewer,
            "member.register",
            viewer.club_code or "",
            outcome="failed",
            detail=mask_text("; ".join(errors.values())),
        )
        return _new_page(request, values, errors=errors, status_code=400)
    registration = RegistrationInput(
        name=values["name"],
        phone=values["phone"],
        birthday=date.fromisoformat(values["birthday"]) if values["birthday"] else None,
        marketing_consent=values["marketing_consent"],
        # At the counter the dealer's code files the member under its club, as the import does.
        **(
            {"dealer_code": viewer.dealer_code}
            if viewer.role == Role.dealer
            else {"club_code": viewer.club_code}
        ),
    )
    result = register_members(
        session=session,
        registrations=[registration],
        now=p.now(),
        source="portal",
        settings=p.settings,
    )
    if result.rejected:
        reason = mask_text(result.rejected[0].split(": ", 1)[-1])
        audit(
            request,
            session,
            viewer,
            "member.register",
            viewer.club_code or "",
            outcome="failed",
            detail=reason,
        )
        return _new_page(request, values, errors={"form": reason}, status_code=400)
    number = (result.created or result.reopened or result.merged)[0]
    phone = mask_phone(normalise_phone(values["phone"]))
    if result.merged:
        notice = f"该手机号 {phone} 已是会员 {number}，已补全资料（激活码不重发）"
    else:
        notice = f"已登记会员 {number}（{values['name']}），激活码已发送到 {phone}"
    audit(
        request,
        session,
        viewer,
        "member.register",
        f"member:{number}",
        detail="merged" if result.merged else ("reopened" if result.reopened else "created"),
    )
    session.commit()
    if result.queued:
        p.deliver()  # the member at the counter waits for the code now
    return _new_page(request, {}, notice=notice, number=number)


@router.get("/members/{no}")
def member_page(
    no: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    if viewer.is_member and no == viewer.member_no:
        return RedirectResponse("/me", status_code=303)
    member = session.execute(select(Member).where(Member.member_no == no)).scalar_one_or_none()
    club = session.get(Club, member.club_id) if member and member.club_id else None
    allowed = (
        member is not None
        and not viewer.is_member
        and viewer.sees_club(
            club_id=member.club_id,
            region_code=club.region_code if club else None,
            dealer_id=club.dealer_id if club else None,
        )
    )
    if not allowed:
        raise refuse(
            request,
            session,
            viewer,
            action="member.view",
            subject=f"member:{no}",
            reason=f"{viewer.actor} 不能查看会员 {no} 的资料 (may not see member {no})",
        )
    audit(request, session, viewer, "member.view", f"member:{no}")
    return _member_page(request, session, member, own=False)


def _may_register(request: Request, session: Session, viewer: Viewer) -> None:
    if viewer.role in (Role.club_admin, Role.dealer) and viewer.club_code:
        return
    raise refuse(
        request,
        session,
        viewer,
        action="member.register",
        subject="member:new",
        reason=f"{viewer.actor} 不是俱乐部管理员，不能登记会员 (only a club's admin registers)",
    )


def _field_errors(values: dict[str, str], *, today: date) -> dict[str, str]:
    """One clear line per bad field (the phone shown masked)."""
    errors = {}
    if not values["name"]:
        errors["name"] = "请填写姓名"
    elif len(values["name"]) > 64:
        errors["name"] = "姓名不超过 64 个字"
    if not values["phone"]:
        errors["phone"] = "请填写手机号"
    else:
        try:
            normalise_phone(values["phone"])
        except PhoneError as exc:
            errors["phone"] = mask_text(f"手机号 {values['phone']} {exc.reason}")
    if values["birthday"]:
        try:
            born = date.fromisoformat(values["birthday"])
        except ValueError:
            errors["birthday"] = f"生日 {values['birthday']!r} 不是日期（如 1985-06-01）"
        else:
            if born > today:
                errors["birthday"] = f"生日 {born} 晚于今天"
    return errors


def _new_page(request: Request, values: dict, status_code: int = 200, **extra):
    return render(
        request,
        "member_new.html",
        status_code=status_code,
        values={"name": "", "phone": "", "birthday": ""} | values,
        **({"errors": {}, "notice": "", "number": ""} | extra),
    )
