"""Inputs shared by the system tests (a unique module name: tests/ dirs share one sys.path)."""

from __future__ import annotations

import re
import time

import httpx

BEIJING_CODE = "C-BE001-20260621"
BATCH_TIMEOUT = 600.0  # ~25 runs, ~10 s each on 2 cores (a process per run imports Prefect)


def at(day: str, hour: int = 10) -> str:
    """A business moment in Beijing time, as a flow parameter."""
    return f"{day}T{hour:02d}:00:00+08:00"


def beijing_proposal(**overrides) -> dict:
    """A class C crossing of the Beijing club C-BE001 on Sunday 2026-06-21."""
    values = {
        "title": "系统测试 坝上穿越",
        "activity_class": "C",
        "theme": "穿越季",
        "region": "beijing",
        "club": "C-BE001",
        "starts_on": "2026-06-21",
        "ends_on": "2026-06-21",
        "place": "河北坝上",
        "expected_participants": 20,
        "budget": [{"item": "场地费", "amount": 1000}],
        "subsidy_requested": 900,
        "proposed_by": "admin.be001",
        "safety_plan": "https://docs.example/safety/BE001-20260621（火灾、地震、暴雨、断电）",
        "support_vehicle": "京A·救援01",
    }
    return {**values, **overrides}


def catalog_names() -> list[str]:
    from deployments.catalog import load_catalog

    return [spec.name for spec in load_catalog()]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def code_for(stack, path: str, seen: int, timeout: float = 60.0) -> str:
    """The sign-in code in the newest message to `path` beyond the `seen` already there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = stack.messages_to(path)
        if len(messages) > seen:
            return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)
        time.sleep(0.5)
    raise AssertionError(f"no sign-in code reached {path} within {timeout:.0f}s")


def portal_browser(stack, username: str) -> httpx.Client:
    """An HTTP client signed in to the stack's portal as `username`, with the code the demo
    inbox received (as the person reads it on their phone)."""
    browser = httpx.Client(base_url=stack.portal_url, timeout=30, follow_redirects=True)
    page = browser.get("/login")
    before = len(stack.messages_to(f"person/{username}"))
    browser.post("/login/code", data={"identifier": username, "csrf": csrf_of(page.text)})
    code = code_for(stack, f"person/{username}", before)
    page = browser.get("/login")
    signed = browser.post(
        "/login/verify", data={"identifier": username, "code": code, "csrf": csrf_of(page.text)}
    )
    assert signed.status_code == 200, signed.text[-800:]
    return browser
