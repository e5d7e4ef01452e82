"""The dealers' monthly return and the clubs' content in the portal.

/returns: a dealer's staff (or the admin of its club) read the member report the operator sent
on the 1st and answer the questionnaire, as `clubflow planning return` does; the operator
(agency) and HQ see who has answered. /content: a club's admin (or its dealer) submit the
club's content of a month, as `clubflow planning import-content` does.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain import calendar
from domain.models import Club, Dealer, Role
from domain.monthly_return import (
    ANSWER_FIELDS_ZH,
    CONTENT_KIND_ZH,
    ContentItem,
    ContentKind,
    ReturnAnswer,
    answer_errors,
    correction_refusal,
    parse_month,
)
from tasks.audit import record_refusal
from tasks.planning.returns import (
    ReturnError,
    add_content,
    answer_return,
    club_content,
    latest_return_month,
    return_refusal,
    return_statuses,
    returns_of,
)

router = APIRouter()
# Who sees every dealer's answer status: the operator (运营方 is the agency) and HQ.
OVERVIEW_ROLES = (Role.agency, Role.campaign_manager, Role.it)
NUMBERS = (
    "sales_units",
    "referral_sales_units",
    "service_revenue",
    "member_service_revenue",
    "wechat_groups",
    "wechat_members",
)
TEXTS = ("feedback", "suggestions")


def _month(text: str) -> date | None:
    try:
        return parse_month(text) if text else None
    except ValueError:
        return None


def _own_dealer(session: Session, viewer: Viewer) -> Dealer | None:
    """The dealer whose return the viewer answers: their own, or their club's."""
    if viewer.role == Role.dealer and viewer.dealer_id:
        return session.get(Dealer, viewer.dealer_id)
    if viewer.role == Role.club_admin and viewer.club_id:
        club = session.get(Club, viewer.club_id)
        return session.get(Dealer, club.dealer_id) if club and club.dealer_id else None
    return None


def _answer_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    dealer: Dealer,
    month: date | None,
    *,
    values: dict | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
):
    returns = returns_of(session=session, dealer_id=dealer.id)
    current = next((r for r in returns if month is None or r.month == month), None)
    today = calendar.business_date(portal(request).now())
    open_form = False
    if current is not None:
        open_form = (
            correction_refusal(
                answered=current.answer is not None,
                today=today,
                due_on=current.due_on,
                corrections=portal(request).settings.dealer_return_corrections,
            )
            is None
        )
        if values is None:
            a = current.answer
            values = {
                name: ("" if a is None or getattr(a, name) is None else _shown(getattr(a, name)))
                for name in (*TEXTS, *NUMBERS)
            }
    return render(
        request,
        "returns.html",
        status_code=status,
        dealer=dealer,
        returns=returns,
        current=current,
        open_form=open_form,
        values=values or {},
        labels=ANSWER_FIELDS_ZH,
        numbers=NUMBERS,
        error=error,
        notice=notice,
    )


def _shown(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@router.get("/returns")
def returns_page(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    dealer = _own_dealer(session, viewer)
    if dealer is None:
        require(
            request,
            session,
            viewer,
            viewer.role in OVERVIEW_ROLES,
            action="returns.list",
            subject="returns",
            reason=(
                f"{viewer.actor} 不是经销商或俱乐部管理员，不能查看月度回执 "
                "(monthly returns are for dealers, their clubs, the operator and HQ)"
            ),
        )
        chosen = _month(month) or latest_return_month(session=session)
        audit(request, session, viewer, "returns.list", f"month:{chosen or '-'}")
        statuses = return_statuses(session=session, month=chosen) if chosen else []
        return render(
            request,
            "returns_overview.html",
            month=chosen,
            statuses=statuses,
            answered=sum(1 for s in statuses if s.answered_at),
        )
    audit(request, session, viewer, "returns.view", f"dealer:{dealer.code}")
    done = request.query_params.get("done", "")
    notice = f"已提交 {done} 月度回执，谢谢。" if _month(done) else ""
    return _answer_page(request, session, viewer, dealer, _month(month), notice=notice)


@router.post("/returns")
def answer_return_page(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    code = str(form.get("dealer", "")).strip()
    subject = f"dealer:{code or '-'}"
    reason = return_refusal(session=session, dealer_code=code, username=viewer.actor)
    require(
        request,
        session,
        viewer,
        reason is None,
        action="returns.answer",
        subject=subject,
        reason=f"{viewer.actor} 不能提交经销商 {code} 的月度回执 ({reason})",
    )
    dealer = session.get(Dealer, _dealer_id(session, code))
    month = _month(str(form.get("month", "")))
    values = {name: str(form.get(name, "")).strip() for name in (*TEXTS, *NUMBERS)}
    now = portal(request).now()
    if month is None:
        return _answer_page(
            request, session, viewer, dealer, None, values=values, error="月份无效", status=400
        )
    try:
        answer = ReturnAnswer.model_validate({k: v for k, v in values.items() if v != ""})
    except ValidationError as exc:
        message = answer_errors(exc, labels=ANSWER_FIELDS_ZH)
        audit(request, session, viewer, "returns.answer", subject, outcome="failed", detail=message)
        return _answer_page(
            request, session, viewer, dealer, month, values=values, error=message, status=400
        )
    try:
        done = answer_return(
            session=session,
            dealer_code=dealer.code,
            month=month,
            answer=answer,
            by=viewer.actor,
            now=now,
            settings=portal(request).settings,
        )
    except ReturnError as exc:
        session.rollback()
        record_refusal(
            session=session,
            action="returns.answer",
            subject=subject,
            actor=viewer.actor,
            reason=str(exc),
            now=now,
        )
        audit(
            request, session, viewer, "returns.answer", subject, outcome="refused", detail=str(exc)
        )
        return _answer_page(
            request, session, viewer, dealer, month, values=values, error=str(exc), status=409
        )
    audit(
        request,
        session,
        viewer,
        "returns.answer",
        subject,
        detail=" ".join(
            [done.month]
            + (["corrected"] if done.corrected else [])
            + (["late"] if done.late else [])
        ),
    )
    return RedirectResponse(f"/returns?month={done.month}&done={done.month}", status_code=303)


def _dealer_id(session: Session, code: str) -> int:
    return session.execute(select(Dealer.id).where(Dealer.code == code)).scalar_one()


# ---------------------------------------------------------------- club content


def _club_staff(request: Request, session: Session, viewer: Viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in (Role.club_admin, Role.dealer) and viewer.club_id is not None,
        action=action,
        subject=f"club:{viewer.club_code or '-'}",
        reason=f"{viewer.actor} 不是俱乐部管理员或其经销商，不能提交俱乐部内容 (not the club's)",
    )


def _content_page(request, session, viewer: Viewer, month: date, **context):
    return render(
        request,
        "content.html",
        status_code=context.pop("status", 200),
        month=month,
        items=club_content(session=session, club_id=viewer.club_id, month=month),
        kinds=CONTENT_KIND_ZH,
        min_reads=portal(request).settings.self_media_min_reads,
        values=context.pop("values", {"kind": ContentKind.post.value}),
        **context,
    )


@router.get("/content")
def content_page(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _club_staff(request, session, viewer, "content.list")
    today = calendar.business_date(portal(request).now())
    chosen = _month(month) or today.replace(day=1)
    audit(request, session, viewer, "content.list", f"club:{viewer.club_code}")
    return _content_page(request, session, viewer, chosen)


CONTENT_FIELDS = ("external_id", "kind", "published_on", "reads", "count", "channel", "title")
CONTENT_ZH = {
    "external_id": "链接或编号",
    "kind": "类型",
    "published_on": "发布日期",
    "reads": "阅读量",
    "count": "数量",
    "channel": "平台",
    "title": "标题",
}


@router.post("/content")
def add_content_page(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _club_staff(request, session, viewer, "content.add")
    subject = f"club:{viewer.club_code}"
    values = {name: str(form.get(name, "")).strip() for name in CONTENT_FIELDS}
    try:
        item = ContentItem.model_validate({k: v for k, v in values.items() if v != ""})
    except ValidationError as exc:
        e = exc.errors()[0]
        name = str(e["loc"][0]) if e["loc"] else ""
        message = e["msg"].removeprefix("Value error, ")
        if not name and ":" in message:
            name, _, message = (p.strip() for p in message.partition(":"))
        error = f"{CONTENT_ZH.get(name, name)} ({name}): {message}"
        audit(request, session, viewer, "content.add", subject, outcome="failed", detail=error)
        month = _month(values["published_on"][:7]) or calendar.business_date(
            portal(request).now()
        ).replace(day=1)
        return _content_page(
            request, session, viewer, month, values=values, error=error, status=400
        )
    created = add_content(session=session, club_id=viewer.club_id, item=item, by=viewer.actor)
    audit(
        request,
        session,
        viewer,
        "content.add",
        subject,
        detail=f"{item.kind.value} {item.external_id}{'' if created else ' (already stored)'}",
    )
    notice = (
        f"已添加：{CONTENT_KIND_ZH[item.kind]} {item.external_id}"
        if created
        else f"已存在：{item.external_id}（同一链接或编号只记一次）"
    )
    return _content_page(request, session, viewer, item.published_on.replace(day=1), notice=notice)
