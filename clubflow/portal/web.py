"""What every page shares: the portal's parts (settings, clock, outbox delivery), a database
session per request, who is signed in, CSRF on every form, role checks that are recorded
when they refuse, and rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from clubflow.core.db import session_scope
from clubflow.core.settings import Settings
from clubflow.portal.audit import record_action
from clubflow.portal.security import Signer, same
from clubflow.portal.signin import read_session
from clubflow.portal.viewer import Viewer, viewer_for
from domain.calendar import BUSINESS_TZ
from domain.privacy import mask_phone, mask_text
from tasks.audit import Refused, record_refusal

COOKIE = "clubflow_session"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "portal"


@dataclass
class Portal:
    """The parts a page uses; tests give a fixed clock and their own delivery."""

    settings: Settings
    now: Callable[[], datetime]
    # Sends what was just queued (sign-in codes are urgent); called after the response.
    deliver: Callable[[], Any]
    signer: Signer = field(init=False)
    templates: Jinja2Templates = field(init=False)

    def __post_init__(self) -> None:
        self.signer = Signer(self.settings.signing_key.get_secret_value())
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        env = self.templates.env
        env.filters["mask_phone"] = mask_phone
        env.filters["mask"] = mask_text  # free text typed by staff: any phone in it masked
        env.filters["money"] = lambda v: f"¥{float(v or 0):,.2f}"
        env.filters["local"] = lambda d: d.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


class NeedSignIn(Exception):
    """No open session: the page sends the visitor to sign in, then back."""


class Forbidden(Exception):
    """The signed-in person may not see or do this (recorded)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadForm(Exception):
    """A form that did not come from our page (CSRF) or lacks what it needs."""


def portal(request: Request) -> Portal:
    return request.app.state.portal


def db(request: Request) -> Iterator[Session]:
    with session_scope(portal(request).settings.database_url) as session:
        yield session


# A page's transaction commits before its response leaves: by default FastAPI runs a
# dependency's exit after sending, and the browser's next request (the redirect after a
# sign-in or a form) could find the store without it.
DB = Depends(db, scope="function")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current_viewer(request: Request, session: Session) -> Viewer | None:
    """The signed-in viewer, or None; remembers the session's CSRF token for the forms."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer
    p = portal(request)
    token = p.signer.read_cookie(request.cookies.get(COOKIE, ""))
    row = (
        read_session(session=session, token=token, now=p.now(), settings=p.settings)
        if token
        else None
    )
    viewer = viewer_for(session=session, who=row.who) if row else None
    request.state.viewer = viewer
    request.state.csrf = row.csrf if viewer else ""
    request.state.token = token if viewer else ""
    return viewer


def signed_in(request: Request, session: Session = DB) -> Viewer:
    viewer = current_viewer(request, session)
    if viewer is None:
        raise NeedSignIn()
    return viewer


async def checked_form(request: Request, session: Session = DB) -> dict[str, Any]:
    """The posted form, once its CSRF token matches the signed-in session's."""
    form = await request.form()
    current_viewer(request, session)
    sent = str(form.get("csrf", ""))
    if not request.state.csrf or not sent or not same(sent, request.state.csrf):
        raise BadForm("表单已过期，请刷新页面后重试 (the form expired: reload the page)")
    return dict(form)


def refuse(
    request: Request, session: Session, viewer: Viewer, *, action: str, subject: str, reason: str
) -> Forbidden:
    """Record a refusal (store's refusal table and the portal audit) and return the error to
    raise. Committed by the caller's session before the error page is shown."""
    now = portal(request).now()
    record_refusal(
        session=session, action=action, subject=subject, actor=viewer.actor, reason=reason, now=now
    )
    audit(request, session, viewer, action, subject, outcome="refused", detail=reason)
    session.commit()
    return Forbidden(reason)


def require(
    request: Request,
    session: Session,
    viewer: Viewer,
    allowed: bool,
    *,
    action: str,
    subject: str,
    reason: str,
) -> None:
    if not allowed:
        raise refuse(request, session, viewer, action=action, subject=subject, reason=reason)


def audit(
    request: Request,
    session: Session,
    viewer: Viewer | None,
    action: str,
    subject: str = "",
    *,
    outcome: str = "ok",
    detail: str = "",
    actor: str | None = None,
) -> None:
    record_action(
        session=session,
        actor=actor or (viewer.who if viewer else "anonymous"),
        action=action,
        subject=subject,
        outcome=outcome,
        detail=detail,
        now=portal(request).now(),
        method=request.method,
        path=request.url.path,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    p = portal(request)
    viewer = getattr(request.state, "viewer", None)
    return p.templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "csrf": getattr(request.state, "csrf", ""),
            "now": p.now(),
            "today": p.now().astimezone(BUSINESS_TZ).date(),
            **context,
        },
        status_code=status_code,
    )


def store_step(
    request: Request,
    session: Session,
    viewer: Viewer,
    step: Callable[[], Any],
    *,
    action: str,
    subject: str,
    invalid: type[Exception] | tuple[type[Exception], ...],
    page: Callable[[str], Response],
    done: Callable[[Any], Response],
    detail: Callable[[Any], str] = lambda _result: "",
    refused: type[Exception] | tuple[type[Exception], ...] = Refused,
    refused_page: Callable[[str], Response] | None = None,
    invalid_outcome: str = "failed",
    created: Callable[[Any], str] | None = None,
) -> Response:
    """Run one store step of a form and answer it, the same way on every page.

    The store checks the role and records its refusal (committed): the portal audits it as
    refused too and shows the 403 error page, or `refused_page` when the form page itself
    says why. Bad input rolls the step back, is audited as `invalid_outcome` and `page`
    shows the form again with the message. Otherwise the step is audited with `detail` and
    `done` answers (usually a redirect to the changed page). A step that creates its subject
    names it with `created` (its new code) for that audit line."""
    try:
        result = step()
    except refused as exc:
        session.rollback()  # the store committed its refusal; nothing else of the step stays
        audit(request, session, viewer, action, subject, outcome="refused", detail=str(exc))
        session.commit()
        if refused_page is None:
            raise Forbidden(str(exc)) from None
        return refused_page(str(exc))
    except invalid as exc:
        session.rollback()
        audit(request, session, viewer, action, subject, outcome=invalid_outcome, detail=str(exc))
        return page(str(exc))
    named = created(result) if created else subject
    audit(request, session, viewer, action, named, detail=detail(result))
    return done(result)
