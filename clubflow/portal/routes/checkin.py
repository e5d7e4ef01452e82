"""Check-in at the event (签到): the printable QR code, the member's scan page with one big
button, the club's manual list (search, tick, add on the spot), and registration (报名).

A member is no admin of the club: a QR check-in's authority is the signed token on the
poster, valid from the activity's first day to the day after its last (Beijing dates)."""

from __future__ import annotations

from datetime import date, timedelta

import segno
from fastapi import APIRouter, Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from clubflow.portal.viewer import Viewer
from clubflow.portal.web import (
    DB,
    audit,
    checked_form,
    portal,
    refuse,
    render,
    require,
    signed_in,
)
from domain.activities import CheckinRow
from domain.calendar import business_date
from domain.models import Activity, Club, Member, Registration
from domain.phones import phone_key
from tasks.activities.checkin import (
    OPEN_FOR_CHECKIN,
    CheckinError,
    check_in,
    checkin_refusal,
    club_actor_refusal,
    participant_count,
    register_members,
)
from tasks.activities.refusals import ActivityError
from tasks.activities.store import get_activity
from tasks.audit import record_refusal

router = APIRouter()

_SALT = "clubflow-checkin-qr"  # its own salt: a deep link's token is no check-in token


# ---------------------------------------------------------------- the signed token


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key.get_secret_value(), salt=_SALT)


def checkin_window(activity: Activity) -> tuple[date, date]:
    """First and last business day a QR check-in is accepted (a day's grace after the end)."""
    return activity.starts_on, activity.ends_on + timedelta(days=1)


def checkin_token(activity: Activity, *, settings: Settings) -> str:
    first, last = checkin_window(activity)
    return _serializer(settings).dumps(
        {"a": activity.code, "from": first.isoformat(), "to": last.isoformat()}
    )


def checkin_url(activity: Activity, *, settings: Settings) -> str:
    token = checkin_token(activity, settings=settings)
    return f"{settings.portal_url.rstrip('/')}/checkin/{activity.code}/{token}"


def token_refusal(token: str, *, code: str, settings: Settings, today: date) -> str | None:
    """Why this token does not check in to `code` today, or None."""
    try:
        data = _serializer(settings).loads(token)
        first = date.fromisoformat(data["from"])
        last = date.fromisoformat(data["to"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return f"签到码无效 (the check-in code of activity {code} is not valid)"
    if data.get("a") != code:
        return f"签到码不属于活动 {code} (the check-in code is for another activity)"
    if today < first:
        return f"签到从 {first} 开始 (check-in opens on {first})"
    if today > last:
        return f"签到码已于 {last} 过期 (the check-in code expired after {last})"
    return None


def qr_refusal(
    *, session: Session, activity: Activity, token: str, settings: Settings, today: date
) -> str | None:
    """Everything that refuses a QR check-in: the token, the activity's state and its days."""
    reason = token_refusal(token, code=activity.code, settings=settings, today=today)
    if reason is None and activity.status not in OPEN_FOR_CHECKIN:
        reason = f"活动 {activity.code} 当前为 {activity.status}，不能签到 (check-in is not open)"
    if reason is None:
        first, last = checkin_window(activity)
        if not first <= today <= last:
            reason = f"活动 {activity.code} 今天不在活动期内 ({first} – {activity.ends_on})"
    return reason


# ---------------------------------------------------------------- shared parts


def _activity_or_refuse(
    request: Request, session: Session, viewer: Viewer, code: str, action: str
) -> Activity:
    try:
        return get_activity(session=session, code=code)
    except LookupError:
        raise refuse(
            request,
            session,
            viewer,
            action=action,
            subject=f"activity:{code}",
            reason=f"活动 {code} 不存在 (no activity {code})",
        ) from None


def _club(session: Session, activity: Activity) -> Club | None:
    return session.get(Club, activity.club_id) if activity.club_id else None


def _club_staff_only(
    request: Request, session: Session, viewer: Viewer, activity: Activity, action: str, what: str
) -> None:
    """The activity's club admins and dealer only: the store's own rule, as the CLI's."""
    reason = (
        "会员不能操作签到名单 (members cannot)"
        if viewer.is_member
        else club_actor_refusal(session=session, activity=activity, by=viewer.actor, action=what)
    )
    if reason is not None:
        raise refuse(
            request,
            session,
            viewer,
            action=action,
            subject=f"activity:{activity.code}",
            reason=reason,
        )


def _registration(session: Session, activity: Activity, member_id: int | None):
    if member_id is None:
        return None
    return session.execute(
        select(Registration).where(
            Registration.activity_id == activity.id, Registration.member_id == member_id
        )
    ).scalar_one_or_none()


# ---------------------------------------------------------------- the QR poster


@router.get("/activities/{code}/qr")
def qr_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    activity = _activity_or_refuse(request, session, viewer, code, "checkin.qr")
    club = _club(session, activity)
    allowed = not viewer.is_member and viewer.sees_club(
        club_id=activity.club_id,
        region_code=activity.region_code,
        dealer_id=club.dealer_id if club else None,
    )
    if not allowed:
        raise refuse(
            request,
            session,
            viewer,
            action="checkin.qr",
            subject=f"activity:{code}",
            reason=f"{viewer.actor} 不能打印活动 {code} 的签到码 (not its club or region)",
        )
    p = portal(request)
    url = checkin_url(activity, settings=p.settings)
    svg = segno.make(url, error="m").svg_inline(scale=6, border=2)
    first, last = checkin_window(activity)
    audit(request, session, viewer, "checkin.qr", f"activity:{code}")
    return render(
        request,
        "checkin_qr.html",
        activity=activity,
        club=club,
        url=url,
        svg=Markup(svg),  # segno's own markup: the URL inside is escaped by segno
        first=first,
        last=last,
    )


# ---------------------------------------------------------------- the member's scan


def _scan_page(request, session, viewer, activity, token, status_code=200, **extra):
    reg = _registration(session, activity, viewer.member_id) if viewer.is_member else None
    return render(
        request,
        "checkin_scan.html",
        status_code=status_code,
        activity=activity,
        club=_club(session, activity),
        token=token,
        registration=reg,
        **({"error": "", "notice": ""} | extra),
    )


@router.get("/checkin/{code}/{token}")
def scan_page(
    code: str,
    token: str,
    request: Request,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    activity = _activity_or_refuse(request, session, viewer, code, "checkin.scan")
    if not viewer.is_member:
        audit(request, session, viewer, "checkin.scan", f"activity:{code}", detail="staff")
        return _scan_page(request, session, viewer, activity, token)
    p = portal(request)
    reason = qr_refusal(
        session=session,
        activity=activity,
        token=token,
        settings=p.settings,
        today=business_date(p.now()),
    )
    # A bad or expired poster is refused like any other step (recorded), before the button.
    require(
        request,
        session,
        viewer,
        reason is None,
        action="checkin.scan",
        subject=f"activity:{code}",
        reason=reason or "",
    )
    audit(request, session, viewer, "checkin.scan", f"activity:{code}")
    return _scan_page(request, session, viewer, activity, token)


@router.post("/checkin/{code}/{token}")
def scan_check_in(
    code: str,
    token: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    activity = _activity_or_refuse(request, session, viewer, code, "checkin.qr_checkin")
    p = portal(request)
    subject = f"activity:{code}"
    if not viewer.is_member:
        reason = f"{viewer.actor} 是工作人员：请在签到名单中签到 (staff use the list)"
    else:
        reason = qr_refusal(
            session=session,
            activity=activity,
            token=token,
            settings=p.settings,
            today=business_date(p.now()),
        )
    if reason is not None:
        refuse(request, session, viewer, action="activity.checkin", subject=subject, reason=reason)
        return _scan_page(request, session, viewer, activity, token, status_code=403, error=reason)
    # The token is the club's authority here: the poster was printed by its staff.
    report = check_in(
        session=session,
        code=code,
        rows=[CheckinRow(member_no=viewer.member_no)],
        now=p.now(),
        source="qr",
    )
    again = report.already_checked_in > 0
    club = _club(session, activity)
    audit(
        request,
        session,
        viewer,
        "activity.checkin",
        subject,
        detail=f"qr for club {club.code if club else '-'}"
        + ("; already checked in" if again else ""),
    )
    return _scan_page(
        request,
        session,
        viewer,
        activity,
        token,
        notice="已签到（此前已签到，不重复计）" if again else "签到成功，欢迎参加！",
    )


# ---------------------------------------------------------------- the manual list


def _matching(session: Session, activity: Activity, q: str):
    """Registered members of the activity, optionally those whose number or phone matches."""
    query = (
        select(Member, Registration)
        .join(Registration, Registration.member_id == Member.id)
        .where(Registration.activity_id == activity.id)
        .order_by(Member.member_no)
    )
    q = q.strip()
    if q:
        terms = [func.upper(Member.member_no).contains(q.upper())]
        phone = phone_key(q)
        if phone:
            terms.append(Member.phone == phone)
        digits = "".join(c for c in q if c.isdigit())
        if len(digits) >= 4 and digits == q:
            terms.append(Member.phone.endswith(digits))  # the last digits a masked phone shows
        query = query.where(or_(*terms))
    return session.execute(query).all()


def _list_page(request, session, activity, q="", status_code=200, **extra):
    registered = session.execute(
        select(func.count())
        .select_from(Registration)
        .where(Registration.activity_id == activity.id)
    ).scalar_one()
    return render(
        request,
        "checkin_list.html",
        status_code=status_code,
        activity=activity,
        club=_club(session, activity),
        rows=_matching(session, activity, q),
        q=q,
        registered=registered,
        checked_in=participant_count(session=session, activity_id=activity.id),
        **({"error": "", "notice": ""} | extra),
    )


@router.get("/activities/{code}/checkin")
def checkin_list(
    code: str,
    request: Request,
    q: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    activity = _activity_or_refuse(request, session, viewer, code, "checkin.list")
    _club_staff_only(request, session, viewer, activity, "checkin.list", "check-in")
    audit(request, session, viewer, "checkin.list", f"activity:{code}", detail=q[:40])
    return _list_page(request, session, activity, q)


def _rows_of(form: dict) -> list[CheckinRow]:
    """Ticked members (`m-<member_no>`) and the one added by number or phone."""
    rows = [CheckinRow(member_no=key[2:]) for key, value in form.items() if key.startswith("m-")]
    added = str(form.get("add", "")).strip()
    if added:
        phone = phone_key(added)
        rows.append(CheckinRow(phone=added) if phone else CheckinRow(member_no=added.upper()))
    return rows


@router.post("/activities/{code}/checkin")
def checkin_selected(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    activity = _activity_or_refuse(request, session, viewer, code, "activity.checkin")
    _club_staff_only(request, session, viewer, activity, "activity.checkin", "check-in")
    q = str(form.get("q", ""))
    rows = _rows_of(form)
    if not rows:
        return _list_page(request, session, activity, q, error="请勾选会员或输入会员号/手机号")
    p = portal(request)
    subject = f"activity:{code}"
    reason = checkin_refusal(session=session, code=code, rows=rows, by=viewer.actor, now=p.now())
    if reason is not None:  # recorded by checkin_refusal
        audit(
            request, session, viewer, "activity.checkin", subject, outcome="refused", detail=reason
        )
        session.commit()
        return _list_page(request, session, activity, q, status_code=400, error=reason)
    report = check_in(session=session, code=code, rows=rows, now=p.now(), source="portal")
    detail = (
        f"{report.newly_checked_in} new ({report.newly_registered} registered on the spot), "
        f"{report.already_checked_in} already"
    )
    audit(request, session, viewer, "activity.checkin", subject, detail=detail)
    notice = f"签到 {report.newly_checked_in} 人"
    if report.newly_registered:
        notice += f"（其中现场报名 {report.newly_registered} 人）"
    if report.already_checked_in:
        notice += f"，{report.already_checked_in} 人此前已签到（不重复计）"
    return _list_page(request, session, activity, q, notice=notice)


# ---------------------------------------------------------------- registration (报名)


def _register_page(request, session, activity, status_code=200, **extra):
    return render(
        request,
        "checkin_register.html",
        status_code=status_code,
        activity=activity,
        club=_club(session, activity),
        **({"error": "", "notice": "", "numbers": ""} | extra),
    )


@router.get("/activities/{code}/register")
def register_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    activity = _activity_or_refuse(request, session, viewer, code, "activity.register")
    _club_staff_only(request, session, viewer, activity, "activity.register", "registration")
    return _register_page(request, session, activity)


@router.post("/activities/{code}/register")
def register_post(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    activity = _activity_or_refuse(request, session, viewer, code, "activity.register")
    _club_staff_only(request, session, viewer, activity, "activity.register", "registration")
    text = str(form.get("members", ""))
    numbers = list(
        dict.fromkeys(n.upper() for n in text.replace(",", " ").replace("，", " ").split())
    )
    if not numbers:
        return _register_page(
            request, session, activity, error="请填写会员号，每行一个或用空格分隔"
        )
    p = portal(request)
    subject = f"activity:{code}"
    try:
        new = register_members(session=session, code=code, member_nos=numbers, now=p.now())
    except (CheckinError, ActivityError) as exc:
        record_refusal(
            session=session,
            action="activity.register",
            subject=subject,
            actor=viewer.actor,
            reason=str(exc),
            now=p.now(),
            details={"members": len(numbers)},
        )
        audit(
            request,
            session,
            viewer,
            "activity.register",
            subject,
            outcome="refused",
            detail=str(exc),
        )
        session.commit()
        return _register_page(
            request, session, activity, status_code=400, error=str(exc), numbers=text
        )
    audit(
        request,
        session,
        viewer,
        "activity.register",
        subject,
        detail=f"{new} of {len(numbers)} new",
    )
    return _register_page(
        request,
        session,
        activity,
        notice=f"已报名 {new} 人（{len(numbers) - new} 人此前已报名）",
    )
