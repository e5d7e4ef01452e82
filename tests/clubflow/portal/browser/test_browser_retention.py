"""Retention pages in a real Chromium: a member opts out of marketing on /me/consent (and the
outbox then refuses an offer); an agent records a call-back with its churn reason."""

from __future__ import annotations

from datetime import date

from browser_support import browser_sign_in
from sqlalchemy import select, update

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Member
from domain.models_retention import MemberCallback, MemberConsentChange
from tasks.outbox import NotificationRequest, queue_notifications
from tasks.retention.callbacks import open_callbacks


def test_a_member_opts_out_of_marketing_and_gets_no_offer(phone, served, db_url):
    browser_sign_in(phone, served.base_url, served.sink, "13900000001", "sms/13900000001")
    phone.goto("/me/consent")
    assert phone.locator("#consent-sms-marketing").inner_text() == "接收"
    row = phone.locator("tr", has=phone.locator("#consent-sms-marketing"))
    row.get_by_role("button", name="退订").click()

    assert "已保存您的选择" in phone.locator(".notice").inner_text()
    assert phone.locator("#consent-sms-marketing").inner_text() == "不接收"
    assert phone.locator("#consent-sms-service").inner_text() == "接收"
    with session_scope(db_url) as session:
        last = session.execute(
            select(MemberConsentChange).order_by(MemberConsentChange.id.desc()).limit(1)
        ).scalar_one()
        assert (last.purpose, last.allowed, last.changed_by) == (
            "marketing",
            False,
            "member:M000001",
        )
        result = queue_notifications(
            session=session,
            requests=[
                NotificationRequest(
                    recipient="member:M000001",
                    template="member_offer",
                    context={"name": "车主", "club": "俱乐部", "offer": "八折", "month": "1月"},
                    idem_key="offer:browser",
                )
            ],
            now=served.portal.clock(),
            settings=get_settings(),
        )
    assert result.queued == 0 and "opted out of marketing" in result.refused["offer:browser"]


def test_an_agent_records_a_call_back_with_the_churn_reason(desktop, served, db_url):
    with session_scope(db_url) as session:
        session.execute(
            update(Member)
            .where(Member.member_no == "M000005")
            .values(segment="lost", segment_since=date(2026, 9, 2))
        )
        opened = open_callbacks(session=session, now=served.portal.clock(), settings=get_settings())
    [agent] = opened.assigned
    browser_sign_in(desktop, served.base_url, served.sink, agent, f"person/{agent}")
    desktop.goto("/callbacks")
    assert "M000005" in desktop.content()
    assert "13900000005" not in desktop.content()
    desktop.select_option("select[aria-label='M000005 结果']", "not_interested")
    desktop.select_option("select[aria-label='M000005 流失原因']", "few_activities")
    desktop.get_by_role("button", name="记录").click()

    assert "已记录回访结果" in desktop.locator(".notice").inner_text()
    assert "没有待回访的会员" in desktop.content()
    with session_scope(db_url) as session:
        cb = session.execute(select(MemberCallback)).scalar_one()
    assert (cb.status, cb.resolution, cb.churn_reason) == (
        "valid",
        "not_interested",
        "few_activities",
    )
