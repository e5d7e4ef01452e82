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
