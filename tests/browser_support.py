"""The portal in a real browser: Debian's Chromium (never a downloaded one), the app served by
uvicorn on a free loopback port in a thread, phone and desktop pages, signing in as a person
does, and signed-in sessions opened directly (for walks and screenshots where sign-in itself
is not what is tested)."""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

# Playwright's own browser download is never used: the project installs Debian's chromium.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
APT_HINT = "apt-get install -y chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def chromium_path() -> str | None:
    """CLUBFLOW_CHROMIUM, else Debian's /usr/bin/chromium, else `chromium` on PATH."""
    for candidate in (os.environ.get("CLUBFLOW_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def chromium_or_skip() -> str:
    """The browser to launch; without one a test skips, or fails under CI=true (CI installs
    it: .ci/run)."""
    import pytest

    path = chromium_path()
    if path is None:
        reason = f"Chromium is not installed: {APT_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    return path


@dataclass
class Served:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


@contextmanager
def serve(app, *, timeout: float = 20.0) -> Iterator[Served]:
    """`app` on http://127.0.0.1:<free port>, served in a thread until the block ends.

    The socket is bound here (port 0) and handed to uvicorn, so no other process can take the
    port in between. The thread runs in a copy of this context: Prefect's test-harness
    settings (the API URL) live in a context variable a bare thread would not see."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(server.run,), kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the portal did not start on port {port}")
        time.sleep(0.02)
    try:
        yield Served(base_url=f"http://127.0.0.1:{port}", server=server, thread=thread)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def open_session_cookie(app, *, database_url: str, who: str, now: datetime) -> str:
    """The session cookie of `who` (`person:<username>` or `member:<no>`), as sign-in would
    set it; for pages whose subject is not signing in."""
    from clubflow.core.db import session_scope
    from clubflow.portal.signin import open_session

    p = app.state.portal
    with session_scope(database_url) as session:
        opened = open_session(session=session, who=who, now=now, settings=p.settings)
    return p.signer.cookie(opened.token)


# How long a page may take on a loaded machine (CI runs everything on two cores): waits end as
# soon as the page is there, so a long limit costs nothing when it is fast.
PAGE_TIMEOUT_MS = 60_000


def code_in(sink, path: str, *, after: int = 0, timeout: float = 60.0) -> str:
    """The 6-digit code in the first message to `path` beyond the `after` already there: the
    code is delivered after the response (a background task), so wait for it to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        # Other messages may be delivered in the same run (a reminder, a decision): the code
        # is in the newest sign-in message.
        codes = [m for m in sink.to(path)[after:] if "登录验证码" in m.title]
        if codes:
            return re.search(r"\b(\d{6})\b", codes[-1].body).group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no sign-in code reached {path}")
        time.sleep(0.05)


def browser_sign_in(page, base_url: str, sink, identifier: str, sink_path: str, next_path="/"):
    """What a person does: type the username or phone, press 获取验证码, read the code on the
    phone (the sink), type it, press 登录."""
    before = len(sink.to(sink_path))
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#identifier", identifier)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_selector("#code")
    page.fill("#code", code_in(sink, sink_path, after=before))
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_role("button", name="登录").click()
    # Signed in once the portal sends the browser on from the login pages.
    try:
        page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/login"))
    except PlaywrightTimeout:
        # Say what the page said (a refusal, an error), not only that it did not move on.
        raise AssertionError(
            f"still on {page.url} after signing in: {page.inner_text('body')[:600]}"
        ) from None


# A value for each path parameter the portal's routes take, from the world (see
# sample_values); a parameter not listed here gets "1" and the walk still checks it.
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def sample_values(*, database_url: str, settings, now: datetime) -> dict[str, str]:
    """Path parameter name → a value that names something of the world when there is one
    (the newest activity and gate, the first lead and member), else a harmless stand-in."""
    from sqlalchemy import func, select

    from clubflow.core.db import session_scope
    from clubflow.core.links import portal_link
    from domain.models import Activity, Gate, Lead, Member

    with session_scope(database_url) as session:
        activity = session.execute(select(func.max(Activity.code))).scalar()
        gate = session.execute(select(func.max(Gate.id))).scalar()
        lead = session.execute(select(func.min(Lead.id))).scalar()
        member = session.execute(select(func.min(Member.member_no))).scalar()
    token = portal_link("/", settings=settings, now=now).rsplit("/", 1)[1]
    values = {
        "code": activity or "C-CH001-20261220",
        "gate_id": str(gate or 1),
        "id": str(lead or 1),
        "lead_id": str(lead or 1),
        "no": member or "M000001",
        "member_no": member or "M000001",
        "token": token,
    }
    values["activity_code"] = values["code"]
    return values


def _routes(routes, prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path template, methods) of every route, inside included routers too (FastAPI 0.150
    keeps an included router as one lazy entry of app.routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)
        elif getattr(route, "methods", None):
            yield prefix + route.path, set(route.methods)


def get_routes(app) -> list[str]:
    """Every GET path template of the app (pages merged later included)."""
    return sorted({path for path, methods in _routes(app.routes) if "GET" in methods})


def post_routes(app) -> list[str]:
    return sorted({path for path, methods in _routes(app.routes) if "POST" in methods})


def fill(path: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "1"), path)


def off_thread(fn, *args, **kwargs):
    """Call `fn` in a worker thread (same context) and return its result: Prefect's sync API
    cannot run on a thread where Playwright's event loop is current."""
    from concurrent.futures import ThreadPoolExecutor

    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, fn, *args, **kwargs).result()


# A class C crossing of Chengdu's club C-CH001 three Sundays after the test world's clock
# (2026-12-01): its review gate waits on specialist.chengdu.
CLASS_C_CODE = "C-CH001-20261220"


def class_c_proposal() -> dict:
    return {
        "title": "雨林穿越 冬季站",
        "activity_class": "C",
        "theme": "穿越季",
        "region": "chengdu",
        "club": "C-CH001",
        "starts_on": "2026-12-20",
        "ends_on": "2026-12-20",
        "place": "四川雅安",
        "expected_participants": 30,
        "budget": [{"item": "场地费", "amount": 1500}],
        "subsidy_requested": 4500,
        "proposed_by": "admin.ch001",
        # Class C needs a safety plan before approval; a crossing names its support vehicle.
        "safety_plan": "https://docs.example/safety/CH001-20261220（火灾、地震、暴雨、断电）",
        "support_vehicle": "川A·救援01",
    }


def suspend_at_review(runner, *, database_url: str, now: datetime) -> tuple[int, object]:
    """Start the class C lifecycle and run it until it waits at its review gate: (gate id,
    the suspended run)."""
    from sqlalchemy import select

    from clubflow.core.db import session_scope
    from domain.models import Gate

    runner.start("activity-lifecycle", {"proposal": class_c_proposal(), "now": now.isoformat()})
    [run] = runner.run_pending()
    with session_scope(database_url) as session:
        gate_id = session.execute(
            select(Gate.id).where(Gate.subject_code == CLASS_C_CODE)
        ).scalar_one()
    return gate_id, run
