"""Retention in the portal: call agents see their lost members' call-backs and record each
call (the supervisor sees and records all); a member sees and changes their own contact
consent (/me/consent). Phones are always masked."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.consent import CHANNEL_LABELS, PURPOSE_LABELS, parse_consent_pair
from domain.leads_outcomes import LABELS, OutcomeRejected
from domain.models import Role
from domain.retention import CHURN_LABELS
from tasks.audit import Refused
from tasks.retention.callbacks import agent_callbacks, record_callback_outcome
from tasks.retention.consent import consent_table, set_consent

router = APIRouter()
CALL_CENTRE = (Role.call_agent, Role.call_supervisor)


def _may_call(request: Request, session: Session, viewer: Viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in CALL_CENTRE,
        action="callbacks.list",
        subject="callbacks",
        reason=f"{viewer.actor} 无权查看会员回访 (call-backs are for the call centre)",
    )


def _callbacks_page(request, session, viewer: Viewer, status_code: int = 200, **extra):
    agent = viewer.username if viewer.role == Role.call_agent else None
    return render(
        request,
        "callbacks.html",
        status_code=status_code,
        rows=agent_callbacks(session=session, agent=agent),
        outcomes=LABELS,
        reasons=CHURN_LABELS,
        **({"error": "", "notice": ""} | extra),
    )


@router.get("/callbacks")
def callbacks_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may_call(request, session, viewer)
    audit(request, session, viewer, "callbacks.list", "callbacks")
    notice = "已记录回访结果" if request.query_params.get("done") else ""
    return _callbacks_page(request, session, viewer, notice=notice)


@router.post("/callbacks")
def record_callback(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_call(request, session, viewer)
    p = portal(request)
    member_no = str(form.get("member_no", "")).strip()
    subject = f"member:{member_no}"
    try:
        record_callback_outcome(
            session=session,
            member_no=member_no,
            call_no=int(str(form.get("call_no", "0")) or 0),
            outcome=str(form.get("outcome", "")),
            churn_reason=str(form.get("reason", "")) or None,
            note=str(form.get("note", "")).strip(),
            actor=viewer.actor,
            now=p.now(),
            settings=p.settings,
        )
    except (OutcomeRejected, LookupError, ValueError, Refused) as exc:
        message = str(exc.args[0] if exc.args else exc)
        audit(
            request, session, viewer, "callbacks.record", subject, outcome="refused", detail=message
        )
        return _callbacks_page(request, session, viewer, status_code=409, error=message)
    audit(request, session, viewer, "callbacks.record", subject)
    return RedirectResponse("/callbacks?done=1", status_code=303)


def _consent_page(request, session, viewer: Viewer, status_code: int = 200, **extra):
    return render(
        request,
        "consent.html",
        status_code=status_code,
        rows=consent_table(session=session, member_no=viewer.member_no),
        channels=CHANNEL_LABELS,
        purposes=PURPOSE_LABELS,
        **({"error": "", "notice": ""} | extra),
    )


def _member_only(request: Request, session: Session, viewer: Viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.is_member,
        action="member.consent",
        subject="consent",
        reason=f"{viewer.actor} 不是会员 (only a member changes their own consent here)",
    )


@router.get("/me/consent")
def consent_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _member_only(request, session, viewer)
    audit(request, session, viewer, "member.consent.view", f"member:{viewer.member_no}")
    notice = "已保存您的选择" if request.query_params.get("done") else ""
    return _consent_page(request, session, viewer, notice=notice)


@router.post("/me/consent")
def change_consent(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _member_only(request, session, viewer)
    try:
        channel, purpose = parse_consent_pair(
            str(form.get("channel", "")), str(form.get("purpose", ""))
        )
    except ValueError as exc:
        return _consent_page(request, session, viewer, status_code=400, error=str(exc))
    allowed = str(form.get("allowed", "")) == "yes"
    set_consent(
        session=session,
        member_no=viewer.member_no,
        channel=channel,
        purpose=purpose,
        allowed=allowed,
        actor=viewer.actor,
        now=portal(request).now(),
    )
    audit(
        request,
        session,
        viewer,
        "member.consent",
        f"member:{viewer.member_no}",
        detail=f"{channel} {purpose} {'yes' if allowed else 'no'}",
    )
    return RedirectResponse("/me/consent?done=1", status_code=303)
