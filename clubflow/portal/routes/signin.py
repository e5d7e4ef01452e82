"""Sign-in and sign-out: a one-time code through the person's own channel, or a password;
rate-limited by who was named and by address; deep links that land after sign-in."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from clubflow.core.links import read_link
from clubflow.portal.security import new_token, same
from clubflow.portal.signin import (
    SignInRefused,
    check_password,
    check_signin_code,
    close_session,
    issue_signin_code,
    open_session,
    record_attempt,
    set_password,
    too_many_attempts,
)
from clubflow.portal.viewer import Viewer, find_account
from clubflow.portal.web import (
    COOKIE,
    DB,
    BadForm,
    audit,
    checked_form,
    client_ip,
    current_viewer,
    portal,
    render,
    signed_in,
)
from tasks.outbox import queue_notifications

router = APIRouter()
# Forms shown before sign-in carry this cookie's value (double submit): a page elsewhere
# cannot post them.
PRE_COOKIE = "clubflow_pre"


def _safe_next(value: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    value = value or "/"
    return value if value.startswith("/") and not value.startswith("//") else "/"


def _pre_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or new_token()[:32]


def _with_pre(response: Response, token: str) -> Response:
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


async def _pre_form(request: Request) -> dict:
    form = dict(await request.form())
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not cookie or not same(str(form.get("csrf", "")), cookie):
        raise BadForm("表单已过期，请刷新页面后重试 (the form expired: reload the page)")
    return form


def _login_page(request: Request, *, status_code: int = 200, **context) -> Response:
    token = _pre_token(request)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        pre_csrf=token,
        next=_safe_next(request.query_params.get("next") or context.pop("next", None)),
        **context,
    )
    return _with_pre(response, token)


@router.get("/login")
def login_page(request: Request):
    return _login_page(request)


def _limited(request: Request, session: Session, identifier: str) -> str | None:
    p = portal(request)
    keys = [f"who:{identifier.strip().lower()}", f"ip:{client_ip(request)}"]
    blocked = too_many_attempts(session=session, keys=keys, now=p.now(), settings=p.settings)
    record_attempt(session=session, keys=keys, now=p.now(), ok=False)
    if blocked:
        audit(request, session, None, "signin", identifier, outcome="refused", detail="rate limit")
        minutes = p.settings.portal_signin_window_minutes
        return f"尝试次数过多，请 {minutes} 分钟后再试 (too many attempts: wait {minutes} minutes)"
    return None


@router.post("/login/code")
async def ask_for_code(request: Request, background: BackgroundTasks, session: Session = DB):
    """Send a code; the page says the same whether the account exists or not."""
    form = await _pre_form(request)
    identifier = str(form.get("identifier", "")).strip()
    nxt = _safe_next(str(form.get("next", "")))
    problem = _limited(request, session, identifier)
    if problem:
        return _login_page(request, status_code=429, error=problem, next=nxt)
    p = portal(request)
    who = find_account(session=session, identifier=identifier)
    if who is not None:
        message = issue_signin_code(session=session, who=who, now=p.now(), settings=p.settings)
        queue_notifications(session=session, requests=[message], now=p.now(), settings=p.settings)
    audit(request, session, None, "signin.code", identifier, detail="sent" if who else "unknown")
    session.commit()  # the code must be in the store before the delivery after the response
    if who is not None:
        background.add_task(p.deliver)
    token = _pre_token(request)
    response = render(
        request, "login_code.html", pre_csrf=token, identifier=identifier, next=nxt, error=""
    )
    return _with_pre(response, token)


def _signed_in_response(request: Request, session: Session, who: str, nxt: str) -> Response:
    p = portal(request)
    opened = open_session(
        session=session, who=who, now=p.now(), settings=p.settings, ip=client_ip(request)
    )
    audit(request, session, None, "signin", who, actor=who)
    response = RedirectResponse(nxt, status_code=303)
    response.set_cookie(
        COOKIE,
        p.signer.cookie(opened.token),
        httponly=True,
        samesite="lax",  # a deep link from a chat app arrives signed in
        secure=p.settings.portal_url.startswith("https://"),
        max_age=p.settings.portal_session_hours * 3600,
    )
    response.delete_cookie(PRE_COOKIE)
    return response


@router.post("/login/verify")
async def verify_code(request: Request, session: Session = DB):
    form = await _pre_form(request)
    identifier = str(form.get("identifier", "")).strip()
    nxt = _safe_next(str(form.get("next", "")))
    token = _pre_token(request)

    def again(error: str, status_code: int) -> Response:
        page = render(
            request,
            "login_code.html",
            status_code=status_code,
            pre_csrf=token,
            identifier=identifier,
            next=nxt,
            error=error,
        )
        return _with_pre(page, token)

    problem = _limited(request, session, identifier)
    if problem:
        return again(problem, 429)
    p = portal(request)
    who = find_account(session=session, identifier=identifier)
    try:
        if who is None:
            raise SignInRefused("验证码不正确 (wrong code)")
        check_signin_code(
            session=session,
            who=who,
            code=str(form.get("code", "")),
            now=p.now(),
            settings=p.settings,
        )
    except SignInRefused as exc:
        audit(request, session, None, "signin", identifier, outcome="refused", detail=str(exc))
        return again(str(exc), 401)
    return _signed_in_response(request, session, who, nxt)


@router.post("/login/password")
async def password_sign_in(request: Request, session: Session = DB):
    form = await _pre_form(request)
    username = str(form.get("username", "")).strip()
    nxt = _safe_next(str(form.get("next", "")))
    problem = _limited(request, session, username)
    if problem:
        return _login_page(request, status_code=429, error=problem, next=nxt)
    try:
        who = check_password(
            session=session, username=username, password=str(form.get("password", ""))
        )
    except SignInRefused as exc:
        audit(request, session, None, "signin", username, outcome="refused", detail=str(exc))
        return _login_page(request, status_code=401, error=str(exc), next=nxt)
    return _signed_in_response(request, session, who, nxt)


@router.post("/logout")
def sign_out(request: Request, form: dict = Depends(checked_form), session: Session = DB):
    p = portal(request)
    viewer = current_viewer(request, session)
    if request.state.token:
        close_session(session=session, token=request.state.token, now=p.now(), settings=p.settings)
    audit(request, session, viewer, "signout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/account")
def account_page(request: Request, viewer: Viewer = Depends(signed_in)):
    return render(request, "account.html", error="", saved=False)


@router.post("/account/password")
def change_password(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    if viewer.username is None:
        return render(
            request, "account.html", status_code=400, error="会员使用验证码登录", saved=False
        )
    new = str(form.get("password", ""))
    if new != str(form.get("again", "")):
        return render(request, "account.html", status_code=400, error="两次输入不一致", saved=False)
    try:
        set_password(session=session, username=viewer.username, password=new)
    except SignInRefused as exc:
        return render(request, "account.html", status_code=400, error=str(exc), saved=False)
    audit(request, session, viewer, "account.password")
    return render(request, "account.html", error="", saved=True)


@router.get("/go/{token}")
def deep_link(token: str, request: Request, session: Session = DB):
    """A notification's link: checked, then sign-in if needed, then the task page."""
    p = portal(request)
    path, why = read_link(token, settings=p.settings, now=p.now())
    if path is None:
        message = "链接已过期，请在“我的待办”中找到该任务" if why == "expired" else "链接无效"
        return render(
            request,
            "error.html",
            status_code=410 if why == "expired" else 400,
            title="链接不可用",
            message=message,
        )
    if current_viewer(request, session) is None:
        return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)
    return RedirectResponse(path, status_code=303)
