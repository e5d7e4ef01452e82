"""The portal application: `create_app()` wires the pages, the sign-in, the error pages and
the response headers. One process beside the Prefect server (`clubflow up`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from clubflow.core.settings import Settings, get_settings
from clubflow.portal.routes import (
    activities,
    audit,
    campaigns,
    checkin,
    clubs,
    competitors,
    complaints,
    deals,
    disputes,
    gates,
    home,
    leads,
    materials,
    members,
    outlets,
    planning,
    points,
    retention,
    returns,
    revisits,
    rewards,
    roster,
    signin,
    tiers,
)
from clubflow.portal.web import BadForm, Forbidden, NeedSignIn, Portal, render

# Each area's pages, in the order they are matched.
ROUTERS = (
    signin,
    home,
    gates,
    audit,
    activities,
    checkin,
    leads,
    deals,
    planning,
    members,
    returns,
    revisits,
    roster,
    materials,
    competitors,
    campaigns,
    rewards,
    points,
    retention,
    disputes,
    tiers,
    clubs,
    complaints,
    outlets,
)


def deliver_urgent(settings: Settings) -> Callable[[], Any]:
    """Send what is due at once (a sign-in code should not wait even for the delivery loop's
    next look); the outbox's lease keeps this and the loop from sending a row twice."""

    def run() -> None:
        from tasks.outbox import deliver_due, load_channels

        deliver_due(
            url=settings.database_url,
            channels=load_channels(),
            now=datetime.now(UTC),
            settings=settings,
        )

    return run


def create_app(
    *,
    settings: Settings | None = None,
    now: Callable[[], datetime] | None = None,
    deliver: Callable[[], Any] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="clubflow portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = Portal(
        settings=settings,
        now=now or (lambda: datetime.now(UTC)),
        deliver=deliver or deliver_urgent(settings),
    )
    for module in ROUTERS:
        app.include_router(module.router)

    @app.exception_handler(NeedSignIn)
    async def _sign_in_first(request: Request, _exc: NeedSignIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.reason)

    @app.exception_handler(BadForm)
    async def _bad_form(request: Request, exc: BadForm):
        return render(request, "error.html", status_code=400, title="表单无效", message=str(exc))

    @app.exception_handler(404)
    async def _not_found(request: Request, _exc):
        return render(request, "error.html", status_code=404, title="页面不存在", message="")

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        if request.url.path not in ("/static/portal.css",):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
