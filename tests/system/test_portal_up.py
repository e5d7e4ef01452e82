"""The portal in the running stack: `clubflow up` starts it beside the Prefect UI, and a club
admin signs in with the code the demo inbox received, as they would read it on their phone."""

from __future__ import annotations

import httpx
from system_support import code_for as _code_for
from system_support import csrf_of as _csrf


def test_a_club_admin_signs_in_to_the_portal_of_the_running_stack(stack):
    with httpx.Client(base_url=stack.portal_url, timeout=30, follow_redirects=True) as browser:
        page = browser.get("/login")
        assert page.status_code == 200 and "获取验证码" in page.text
        first = browser.get("/", follow_redirects=False)
        assert first.headers["location"] == "/login?next=%2F"

        before = len(stack.messages_to("person/admin.ch001"))
        browser.post("/login/code", data={"identifier": "admin.ch001", "csrf": _csrf(page.text)})
        # Sent at once by the portal, not at the next minute's delivery run.
        code = _code_for(stack, "person/admin.ch001", before)
        page = browser.get("/login")
        signed = browser.post(
            "/login/verify",
            data={"identifier": "admin.ch001", "code": code, "csrf": _csrf(page.text)},
        )
        assert signed.status_code == 200 and "我的待办" in signed.text
        assert "CH001俱乐部管理员" in signed.text
