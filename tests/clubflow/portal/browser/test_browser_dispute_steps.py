"""A dispute on a phone, in Chromium: dealer staff file it and land on its page; HQ's manager
acknowledges it and records the meeting; legal records the proposal and settles it. Each sees
the step on the timeline, the claimant's phone masked, and the page fits the phone's width."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from browser_support import browser_sign_in
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models_disputes import Dispute, DisputeStep

WIDTH = 390  # the phone viewport's (browser_support.PHONE)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def _sign_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/login"))


def _timeline(page) -> list[str]:
    rows = page.locator("h2:has-text('进度') + .scroll tr td:nth-child(2)").all_inner_texts()
    return [r.strip() for r in rows]


def test_a_dispute_is_filed_and_settled_on_a_phone(db_url, served, phone):
    browser_sign_in(
        phone, served.base_url, served.sink, "dealer.ch001", "person/dealer.ch001",
        next_path="/disputes/new",
    )  # fmt: skip
    phone.select_option("#kind", "customer_dealer")
    phone.fill("#claimant", "张先生 13812345678")
    phone.fill("#respondent", "CH001")
    phone.fill("#dealer", "CH001")
    phone.fill("#summary", "保养费用争议")
    phone.get_by_role("button", name="提交").click()
    phone.wait_for_selector(".notice")
    code = re.search(r"/disputes/(DSP-\d{8}-\d{3})$", urlsplit(phone.url).path).group(1)
    assert f"已提交：{code}" in phone.inner_text(".notice")
    assert "138****5678" in phone.inner_text("main") and "13812345678" not in phone.content()
    assert phone.get_by_role("button", name="受理").count() == 0  # HQ's step, not the dealer's
    assert _fits(phone)
    _sign_out(phone)

    browser_sign_in(
        phone, served.base_url, served.sink, "hq.manager", "person/hq.manager",
        next_path="/disputes",
    )  # fmt: skip
    phone.get_by_role("link", name=code).click()
    phone.get_by_role("button", name="受理").click()
    phone.wait_for_selector(".notice")
    assert phone.inner_text(".notice") == "已受理，进入调解。"
    phone.select_option("#kind", "meeting")
    phone.fill("#held_on", "2026-12-03")
    phone.fill("#what", "双方到店面谈")
    phone.get_by_role("button", name="记录调解").click()
    phone.wait_for_selector(".notice")
    assert _timeline(phone) == ["登记", "受理", "调解会谈"]
    assert _fits(phone)
    _sign_out(phone)

    browser_sign_in(
        phone, served.base_url, served.sink, "legal.counsel", "person/legal.counsel",
        next_path=f"/disputes/{code}",
    )  # fmt: skip
    phone.select_option("#kind", "proposal")
    phone.fill("#held_on", "2026-12-04")
    phone.fill("#what", "减免工时费一半")
    phone.get_by_role("button", name="记录调解").click()
    phone.wait_for_selector(".notice")
    phone.fill("#agreement", "减免工时费 300 元，双方签字")
    phone.get_by_role("button", name="和解结案").click()
    phone.wait_for_selector(".notice")
    assert phone.inner_text(".notice") == "已和解结案。"
    assert _timeline(phone) == ["登记", "受理", "调解会谈", "调解方案", "和解"]
    assert phone.get_by_role("button", name="和解结案").count() == 0
    assert _fits(phone)

    with session_scope(db_url) as session:
        dispute = session.execute(select(Dispute)).scalar_one()
        assert (dispute.status, dispute.closed_by) == ("settled", "legal.counsel")
        assert [
            s.recorded_by
            for s in session.execute(select(DisputeStep).order_by(DisputeStep.id)).scalars()
        ] == ["hq.manager", "legal.counsel"]
