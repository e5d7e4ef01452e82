"""Signing in to the portal: a code through the person's own channel, a password, sign-out,
CSRF on every form, the rate limit, expiry."""

from __future__ import annotations

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models_portal import PortalAudit, SignInCode


def test_a_club_admin_signs_in_with_the_code_sent_to_their_channel(portal, db_url):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")

    page = client.get("/")
    assert page.status_code == 200
    assert "我的待办" in page.text and "CH001俱乐部管理员" in page.text
    message = portal.sink.to("person/admin.ch001")[-1]
    assert "登录验证码" in message.title
    with session_scope(db_url) as session:
        codes = session.execute(select(SignInCode)).scalars().all()
        assert [c.who for c in codes] == ["person:admin.ch001"]
        assert codes[0].used_at is not None
        assert portal.last_code("person/admin.ch001") not in codes[0].code_hash
        actions = (
            session.execute(select(PortalAudit.action).order_by(PortalAudit.id)).scalars().all()
        )
        assert actions == ["signin.code", "signin"]


def test_a_wrong_code_is_refused_and_the_page_says_so(portal):
    client = portal.client()
    page = client.get("/login")
    client.post("/login/code", data={"identifier": "admin.ch001", "csrf": csrf_of(page.text)})
    page = client.get("/login")
    response = client.post(
        "/login/verify",
        data={"identifier": "admin.ch001", "code": "000000", "csrf": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "验证码不正确" in response.text
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def _ask_code(client, identifier: str):
    page = client.get("/login")
    return client.post(
        "/login/code", data={"identifier": identifier, "csrf": csrf_of(page.text), "next": "/"}
    )


def test_a_member_signs_in_with_their_phone_and_lands_on_their_own_page(portal):
    client = portal.client()
    _ask_code(client, "13900000003")
    message = portal.sink.to("sms/13900000003")[-1]
    code = portal.last_code("sms/13900000003")
    assert "登录验证码" in message.title
    page = client.get("/login")
    response = client.post(
        "/login/verify",
        data={"identifier": "13900000003", "code": code, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/me"


def test_an_unknown_account_is_told_the_same_as_a_known_one_and_nothing_is_sent(portal):
    client = portal.client()
    unknown = _ask_code(client, "nobody.here")
    assert unknown.status_code == 200
    assert "如果“nobody.here”是本平台的账号" in unknown.text
    assert portal.sink.messages == []


def test_a_code_works_once_and_not_after_it_expires(portal):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    used = portal.last_code("person/admin.ch001")
    other = portal.client()
    page = other.get("/login")
    again = other.post(
        "/login/verify",
        data={"identifier": "admin.ch001", "code": used, "csrf": csrf_of(page.text)},
    )
    assert again.status_code == 401 and "验证码已失效" in again.text

    _ask_code(other, "admin.ch001")
    fresh = portal.last_code("person/admin.ch001")
    portal.clock.advance(minutes=11)  # codes work 10 minutes
    page = other.get("/login")
    late = other.post(
        "/login/verify",
        data={"identifier": "admin.ch001", "code": fresh, "csrf": csrf_of(page.text)},
    )
    assert late.status_code == 401 and "验证码已失效" in late.text
    assert client.get("/").status_code == 200  # the first session is still open


def test_a_password_signs_in_after_the_person_set_it(portal):
    client = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    page = client.get("/account")
    short = client.post(
        "/account/password",
        data={"password": "short", "again": "short", "csrf": csrf_of(page.text)},
    )
    assert short.status_code == 400 and "至少 10 位" in short.text
    saved = client.post(
        "/account/password",
        data={
            "password": "越野 rainforest 2027",
            "again": "越野 rainforest 2027",
            "csrf": csrf_of(page.text),
        },
    )
    assert "密码已设置" in saved.text

    other = portal.client()
    page = other.get("/login")
    wrong = other.post(
        "/login/password",
        data={
            "username": "specialist.chengdu",
            "password": "wrong password!",
            "csrf": csrf_of(page.text),
        },
    )
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    right = other.post(
        "/login/password",
        data={
            "username": "specialist.chengdu",
            "password": "越野 rainforest 2027",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert "专员 · regional_specialist" in other.get("/").text


def test_sign_out_ends_the_session_on_the_server_too(portal):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    cookie = client.cookies.get("clubflow_session")
    page = client.get("/")
    client.post("/logout", data={"csrf": csrf_of(page.text)})

    replay = portal.client()
    replay.cookies.set("clubflow_session", cookie)
    assert replay.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_a_session_expires(portal):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    portal.clock.advance(hours=13)  # sessions last 12 hours
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(portal):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    response = client.post("/logout", data={"csrf": "forged"})
    assert response.status_code == 400 and "表单已过期" in response.text
    assert client.get("/").status_code == 200  # still signed in

    stranger = portal.client()
    no_cookie = stranger.post("/login/code", data={"identifier": "admin.ch001", "csrf": "x"})
    assert no_cookie.status_code == 400
    assert portal.sink.to("person/admin.ch001")[1:] == []


def test_attempts_are_rate_limited_per_person(portal, db_url):
    client = portal.client()
    page = client.get("/login")
    for _ in range(10):
        client.post(
            "/login/verify",
            data={"identifier": "admin.ch001", "code": "123456", "csrf": csrf_of(page.text)},
        )
    blocked = _ask_code(client, "admin.ch001")
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.text
    assert portal.sink.to("person/admin.ch001") == []
    with session_scope(db_url) as session:
        refused = (
            session.execute(select(PortalAudit).where(PortalAudit.outcome == "refused"))
            .scalars()
            .all()
        )
    assert refused[-1].detail == "rate limit"

    portal.clock.advance(minutes=16)
    assert _ask_code(client, "admin.ch001").status_code == 200


def test_a_deep_link_asks_for_sign_in_and_then_opens_its_page(portal):
    from clubflow.core.links import portal_link
    from clubflow.core.settings import get_settings

    settings = get_settings()
    link = portal_link("/account", settings=settings, now=portal.clock())
    token = link.rsplit("/", 1)[1]
    client = portal.client()
    first = client.get(f"/go/{token}", follow_redirects=False)
    assert first.headers["location"] == "/login?next=%2Faccount"

    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    opened = client.get(f"/go/{token}", follow_redirects=False)
    assert opened.headers["location"] == "/account"

    tampered = client.get(f"/go/{token[:-2]}xx")
    assert tampered.status_code == 400 and "链接无效" in tampered.text
    portal.clock.advance(days=15)  # links work 14 days
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    expired = client.get(f"/go/{token}")
    assert expired.status_code == 410 and "链接已过期" in expired.text


def test_the_next_address_after_sign_in_stays_on_the_portal(portal):
    client = portal.client()
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
