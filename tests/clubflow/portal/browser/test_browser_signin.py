"""Signing in and out in a real Chromium, at phone and desktop size, as a person does it; a
stranger reaches nothing."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
from browser_support import browser_sign_in, code_in, fill, get_routes, sample_values
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models_portal import PortalSession

# Pages a stranger may open: the sign-in page itself and the health probe.
PUBLIC = {"/login", "/healthz"}


def test_a_club_admin_signs_in_with_a_code_on_a_phone(phone, served):
    browser_sign_in(phone, served.base_url, served.sink, "admin.ch001", "person/admin.ch001")

    assert urlparse(phone.url).path == "/"
    assert phone.locator("h1").first.inner_text().startswith("我的待办")
    assert "CH001俱乐部管理员" in phone.content()
    # One column on a phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_member_signs_in_with_their_phone_number(phone, served):
    browser_sign_in(phone, served.base_url, served.sink, "13900000001", "sms/13900000001")

    # A member's home is their own page (/me), not the staff task list.
    assert urlparse(phone.url).path == "/me"


def test_a_wrong_code_shows_the_error_and_signs_nobody_in(phone, served):
    phone.goto("/login")
    phone.fill("#identifier", "admin.ch001")
    phone.get_by_role("button", name="获取验证码").click()
    code_in(served.sink, "person/admin.ch001")  # the real code arrived; type another
    phone.fill("#code", "000000")
    phone.get_by_role("button", name="登录").click()

    assert "验证码不正确" in phone.locator(".error").inner_text()
    phone.goto("/")
    assert urlparse(phone.url).path == "/login"


def test_a_password_set_on_the_account_page_signs_in(desktop, served):
    browser_sign_in(
        desktop, served.base_url, served.sink, "specialist.chengdu", "person/specialist.chengdu"
    )
    desktop.goto("/account")
    desktop.fill("#password", "雨林穿越-2026-秋")
    desktop.fill("#again", "雨林穿越-2026-秋")
    desktop.get_by_role("button", name="设置密码").click()
    assert "密码已设置" in desktop.locator(".notice").inner_text()
    desktop.get_by_role("button", name="退出").click()
    assert urlparse(desktop.url).path == "/login"

    desktop.get_by_text("使用密码登录（员工）").click()
    desktop.fill("#username", "specialist.chengdu")
    desktop.fill("#password", "雨林穿越-2026-秋")
    desktop.locator("form[action='/login/password'] button").click()

    assert urlparse(desktop.url).path == "/"
    assert desktop.locator("h1").first.inner_text().startswith("我的待办")


def test_signing_out_ends_the_session_for_the_old_cookie_too(desktop, served, db_url):
    browser_sign_in(desktop, served.base_url, served.sink, "hq.manager", "person/hq.manager")
    [cookie] = [c for c in desktop.context.cookies() if c["name"] == "clubflow_session"]
    with httpx.Client(base_url=served.base_url) as other:
        before = other.get("/", cookies={cookie["name"]: cookie["value"]})
    assert before.status_code == 200

    desktop.get_by_role("button", name="退出").click()

    assert urlparse(desktop.url).path == "/login"
    # Someone who copied the cookie before sign-out gets nothing with it now.
    with httpx.Client(base_url=served.base_url) as other:
        after = other.get("/", cookies={cookie["name"]: cookie["value"]})
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    with session_scope(db_url) as session:
        [row] = session.execute(select(PortalSession)).scalars().all()
        assert row.who == "person:hq.manager" and row.signed_out_at is not None


def test_a_stranger_lands_on_the_login_page_from_every_page(phone, served, db_url):
    portal = served.portal
    values = sample_values(
        database_url=db_url, settings=portal.app.state.portal.settings, now=portal.clock()
    )
    visited = []
    for route in get_routes(served.app):
        if route in PUBLIC:
            continue
        path = fill(route, values)
        phone.goto(path)
        landed = urlparse(phone.url)
        visited.append(route)
        assert landed.path == "/login", f"{route} → {phone.url}"
        assert phone.locator("#identifier").is_visible(), route
    assert {"/", "/account", "/audit", "/gates/{gate_id}", "/go/{token}"} <= set(visited)
