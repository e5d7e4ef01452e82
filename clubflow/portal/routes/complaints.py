"""Complaints and the satisfaction survey in the portal.

/me/survey/<token>: the member scores an activity they attended (once). /me/complaints: a
member files a complaint, follows its stages and confirms the answer. /complaints: the call
centre, HQ, handlers and dealer staff see the complaints of their scope, file one for a
member, and receive / handle / answer it. Every step calls the store's task, which checks the
actor's role and records a refusal; the page shows the reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import or_, select
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
from domain.complaints import CATEGORIES, ROLES, SEVERITIES, ComplaintError
from domain.models import Activity, Club, Member, Role
from domain.models_complaints import Complaint, ComplaintAction, SatisfactionCall
from tasks.complaints.records import (
    ComplaintRefused,
    answer_complaint,
    confirm_complaint,
    file_complaint,
    receive_complaint,
    record_action,
)
from tasks.complaints.satisfaction import record_score

router = APIRouter()
STATUS_ZH = {
    "filed": "已提交，待受理",
    "received": "已受理，处理中",
    "handled": "已处理，待反馈",
    "answered": "已反馈，待您确认",
    "closed": "已关闭",
}
KIND_ZH = {
    "file": "提交",
    "receive": "受理",
    "action": "处理记录",
    "handle": "处理完成",
    "answer": "反馈",
    "confirm": "会员确认",
    "close": "自动关闭",
}
# Who reads every complaint: the call centre and HQ; handlers and dealers see their scope.
ALL_ROLES = (Role.call_agent, Role.call_supervisor, Role.campaign_manager, Role.it)
STAFF_ROLES = (*ALL_ROLES, Role.regional_specialist, Role.dealer)


def _steps(session: Session, complaint_id: int) -> list[ComplaintAction]:
    return list(
        session.execute(
            select(ComplaintAction)
            .where(ComplaintAction.complaint_id == complaint_id)
            .order_by(ComplaintAction.at, ComplaintAction.id)
        ).scalars()
    )


# ---------------------------------------------------------------- the survey


def _survey_page(request, call, activity, *, error="", notice="", status=200):
    return render(
        request,
        "survey.html",
        status_code=status,
        call=call,
        activity=activity,
        error=error,
        notice=notice,
    )


def _survey(request: Request, session: Session, viewer: Viewer, token: str, action: str):
    call = session.execute(
        select(SatisfactionCall).where(SatisfactionCall.token == token)
    ).scalar_one_or_none()
    if call is None:
        raise HTTPException(status_code=404)
    member = session.get(Member, call.member_id)
    require(
        request,
        session,
        viewer,
        member is not None and viewer.member_id == member.id,
        action=action,
        subject=f"satisfaction:{call.id}",
        reason=f"{viewer.actor} 不是此问卷的会员 (not this survey's member)",
    )
    return call, session.get(Activity, call.activity_id)


@router.get("/me/survey/{token}")
def survey_page(
    token: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    if not viewer.is_member:
        return RedirectResponse("/", status_code=303)
    call, activity = _survey(request, session, viewer, token, "satisfaction.view")
    audit(request, session, viewer, "satisfaction.view", f"satisfaction:{call.id}")
    return _survey_page(request, call, activity)


@router.post("/me/survey/{token}")
def answer_survey(
    token: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if not viewer.is_member:
        return RedirectResponse("/", status_code=303)
    call, activity = _survey(request, session, viewer, token, "satisfaction.score")
    subject = f"satisfaction:{call.id}"
    text = str(form.get("score", "")).strip()
    if not text.isdigit():
        return _survey_page(request, call, activity, error="请选择 1–5 分", status=400)
    try:
        record_score(
            session=session,
            score=int(text),
            comment=str(form.get("comment", "")).strip(),
            actor=viewer.actor,
            now=portal(request).now(),
            token=token,
        )
    except ComplaintError as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "satisfaction.score",
            subject,
            outcome="refused",
            detail=str(exc),
        )
        call = session.get(SatisfactionCall, call.id)
        return _survey_page(request, call, activity, error=str(exc), status=409)
    audit(request, session, viewer, "satisfaction.score", subject, detail=text)
    call = session.get(SatisfactionCall, call.id)
    return _survey_page(request, call, activity, notice="谢谢您的评价！")


# ---------------------------------------------------------------- the member's complaints


@router.get("/me/complaints")
def my_complaints(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if not viewer.is_member:
        return RedirectResponse("/complaints", status_code=303)
    rows = session.execute(
        select(Complaint)
        .where(Complaint.member_id == viewer.member_id)
        .order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    ).scalars()
    audit(request, session, viewer, "complaints.mine", f"member:{viewer.member_no}")
    notice = "已提交投诉，我们会尽快受理。" if request.query_params.get("done") else ""
    return render(
        request, "my_complaints.html", complaints=list(rows), statuses=STATUS_ZH, notice=notice
    )


@router.get("/me/complaints/new")
def my_new_complaint(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if not viewer.is_member:
        return RedirectResponse("/complaints/new", status_code=303)
    return render(
        request, "complaint_new.html", values={}, staff=False, action="/me/complaints/new"
    )


@router.post("/me/complaints/new")
def my_file_complaint(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if not viewer.is_member:
        return RedirectResponse("/complaints/new", status_code=303)
    values = {k: str(form.get(k, "")).strip() for k in ("subject", "body")}
    try:
        c = file_complaint(
            session=session,
            source="member",
            member_no=viewer.member_no,
            subject=values["subject"],
            body=values["body"],
            actor=viewer.actor,
            now=portal(request).now(),
            settings=portal(request).settings,
        )
    except ComplaintError as exc:
        session.rollback()
        return render(
            request,
            "complaint_new.html",
            status_code=403 if isinstance(exc, ComplaintRefused) else 400,
            values=values,
            staff=False,
            action="/me/complaints/new",
            error=str(exc),
        )
    audit(request, session, viewer, "complaints.file", f"complaint:{c.id}")
    return RedirectResponse("/me/complaints?done=1", status_code=303)


def _own(request, session, viewer: Viewer, complaint_id: int, action: str) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise HTTPException(status_code=404)
    require(
        request,
        session,
        viewer,
        complaint.member_id == viewer.member_id,
        action=action,
        subject=f"complaint:{complaint_id}",
        reason=f"{viewer.actor} 不是此投诉的会员 (not this member's complaint)",
    )
    return complaint


def _my_page(request, session, complaint, *, error="", notice="", status=200):
    return render(
        request,
        "my_complaint.html",
        status_code=status,
        c=complaint,
        steps=_steps(session, complaint.id),
        statuses=STATUS_ZH,
        kinds=KIND_ZH,
        error=error,
        notice=notice,
    )


@router.get("/me/complaints/{complaint_id}")
def my_complaint(
    complaint_id: int, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    if not viewer.is_member:
        return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
    complaint = _own(request, session, viewer, complaint_id, "complaints.view")
    audit(request, session, viewer, "complaints.view", f"complaint:{complaint_id}")
    return _my_page(request, session, complaint)


@router.post("/me/complaints/{complaint_id}/confirm")
def my_confirm(
    complaint_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if not viewer.is_member:
        return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
    complaint = _own(request, session, viewer, complaint_id, "complaints.confirm")
    subject = f"complaint:{complaint_id}"
    try:
        confirm_complaint(
            session=session,
            complaint_id=complaint_id,
            member_no=viewer.member_no,
            note=str(form.get("note", "")).strip(),
            now=portal(request).now(),
        )
    except ComplaintError as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "complaints.confirm",
            subject,
            outcome="refused",
            detail=str(exc),
        )
        complaint = session.get(Complaint, complaint_id)
        return _my_page(request, session, complaint, error=str(exc), status=409)
    audit(request, session, viewer, "complaints.confirm", subject)
    return _my_page(request, session, session.get(Complaint, complaint_id), notice="已确认，谢谢。")


# ---------------------------------------------------------------- staff


def _scope(viewer: Viewer):
    """The complaints `viewer` sees: all for the call centre and HQ; a specialist their region
    and those assigned to them; dealer staff those their dealer filed or of their club's
    members."""
    if viewer.role in ALL_ROLES:
        return True
    if viewer.role == Role.regional_specialist:
        return or_(
            Complaint.region_code == viewer.region_code, Complaint.handler == viewer.username
        )
    if viewer.role == Role.dealer and viewer.dealer_id:
        club_members = (
            select(Member.id)
            .join(Club, Club.id == Member.club_id)
            .where(Club.dealer_id == viewer.dealer_id)
        )
        return or_(Complaint.dealer_id == viewer.dealer_id, Complaint.member_id.in_(club_members))
    return False


def _staff(request, session, viewer: Viewer, action: str, subject: str = "complaints") -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in STAFF_ROLES,
        action=action,
        subject=subject,
        reason=f"{viewer.actor} 不能查看投诉 (complaints are for the call centre, HQ, handlers "
        "and dealers)",
    )


@router.get("/complaints")
def complaints_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if viewer.is_member:
        return RedirectResponse("/me/complaints", status_code=303)
    _staff(request, session, viewer, "complaints.list")
    rows = list(
        session.execute(
            select(Complaint, Member.member_no)
            .join(Member, Member.id == Complaint.member_id, isouter=True)
            .where(_scope(viewer))
            .order_by(Complaint.filed_at.desc(), Complaint.id.desc())
        ).all()
    )
    audit(request, session, viewer, "complaints.list", "complaints", detail=str(len(rows)))
    return render(
        request,
        "complaints.html",
        rows=rows,
        statuses=STATUS_ZH,
        may_file=viewer.role in ROLES["file"],
    )


def _may_file(request, session, viewer: Viewer, action: str) -> str:
    require(
        request,
        session,
        viewer,
        viewer.role in ROLES["file"],
        action=action,
        subject="complaints",
        reason=f"{viewer.actor} 不能代会员登记投诉 (call agents, supervisors, HQ and dealers do)",
    )
    return "dealer" if viewer.role == Role.dealer else "call"


@router.get("/complaints/new")
def new_complaint_page(
    request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    if viewer.is_member:
        return RedirectResponse("/me/complaints/new", status_code=303)
    _may_file(request, session, viewer, "complaints.file")
    return render(request, "complaint_new.html", values={}, staff=True, action="/complaints/new")


@router.post("/complaints/new")
def file_for_member(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if viewer.is_member:
        return RedirectResponse("/me/complaints/new", status_code=303)
    source = _may_file(request, session, viewer, "complaints.file")
    values = {k: str(form.get(k, "")).strip() for k in ("member_no", "subject", "body")}
    try:
        c = file_complaint(
            session=session,
            source=source,
            member_no=values["member_no"],
            subject=values["subject"],
            body=values["body"],
            actor=viewer.actor,
            now=portal(request).now(),
            settings=portal(request).settings,
        )
    except ComplaintError as exc:
        session.rollback()
        return render(
            request,
            "complaint_new.html",
            status_code=403 if isinstance(exc, ComplaintRefused) else 400,
            values=values,
            staff=True,
            action="/complaints/new",
            error=str(exc),
        )
    audit(request, session, viewer, "complaints.file", f"complaint:{c.id}", detail=source)
    return RedirectResponse(f"/complaints/{c.id}?done=file", status_code=303)


def _seen(request, session, viewer: Viewer, complaint_id: int, action: str) -> Complaint:
    _staff(request, session, viewer, action, f"complaint:{complaint_id}")
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise HTTPException(status_code=404)
    visible = session.execute(
        select(Complaint.id).where(Complaint.id == complaint_id, _scope(viewer))
    ).scalar_one_or_none()
    require(
        request,
        session,
        viewer,
        visible is not None,
        action=action,
        subject=f"complaint:{complaint_id}",
        reason=f"{viewer.actor} 看不到投诉 #{complaint_id} (not in their scope)",
    )
    return complaint


DONE_ZH = {
    "file": "已登记投诉。",
    "receive": "已受理。",
    "handle": "已记录处理。",
    "answer": "已发送反馈。",
}


def _staff_page(request, session, complaint, *, error="", notice="", status=200):
    member = session.get(Member, complaint.member_id) if complaint.member_id else None
    return render(
        request,
        "complaint.html",
        status_code=status,
        c=complaint,
        member=member,
        steps=_steps(session, complaint.id),
        statuses=STATUS_ZH,
        kinds=KIND_ZH,
        categories=CATEGORIES,
        severities=SEVERITIES,
        error=error,
        notice=notice,
    )


@router.get("/complaints/{complaint_id}")
def complaint_page(
    complaint_id: int, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    if viewer.is_member:
        return RedirectResponse(f"/me/complaints/{complaint_id}", status_code=303)
    complaint = _seen(request, session, viewer, complaint_id, "complaints.view")
    audit(request, session, viewer, "complaints.view", f"complaint:{complaint_id}")
    notice = DONE_ZH.get(request.query_params.get("done", ""), "")
    return _staff_page(request, session, complaint, notice=notice)


@router.post("/complaints/{complaint_id}/{step}")
def complaint_step(
    complaint_id: int,
    step: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if step not in ("receive", "handle", "answer"):
        raise HTTPException(status_code=404)
    if viewer.is_member:
        return RedirectResponse(f"/me/complaints/{complaint_id}", status_code=303)
    action = f"complaints.{step}"
    _seen(request, session, viewer, complaint_id, action)
    p = portal(request)
    text = {k: str(form.get(k, "")).strip() for k in ("category", "severity", "handler", "note")}
    subject = f"complaint:{complaint_id}"

    def run():
        if step == "receive":
            return receive_complaint(
                session=session,
                complaint_id=complaint_id,
                category=text["category"],
                severity=text["severity"],
                handler=text["handler"],
                actor=viewer.actor,
                now=p.now(),
                settings=p.settings,
            )
        if step == "handle":
            return record_action(
                session=session,
                complaint_id=complaint_id,
                note=text["note"],
                done=bool(form.get("done")),
                actor=viewer.actor,
                now=p.now(),
            )
        return answer_complaint(
            session=session,
            complaint_id=complaint_id,
            answer=text["note"],
            actor=viewer.actor,
            now=p.now(),
            settings=p.settings,
        )

    def again(error: str, status: int):
        complaint = session.get(Complaint, complaint_id)
        return _staff_page(request, session, complaint, error=error, status=status)

    return store_step(
        request,
        session,
        viewer,
        run,
        action=action,
        subject=subject,
        refused=ComplaintRefused,
        refused_page=lambda error: again("无权操作：" + error, 403),
        invalid=ComplaintError,
        invalid_outcome="rejected",
        page=lambda error: again(error, 409),
        done=lambda _row: RedirectResponse(
            f"/complaints/{complaint_id}?done={step}", status_code=303
        ),
    )
