"""Consent, call-back and offer rules (pure)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.consent import consent_refusal, purpose_of, registration_consents
from domain.leads_outcomes import Outcome, OutcomeRejected, Resolution
from domain.leads_plan import CallPlan
from domain.permissions import Actor
from domain.retention import (
    ChurnReason,
    apply_callback_outcome,
    callback_refusal,
    months_back,
    offer_refusal,
    parse_churn_reason,
)

SH = ZoneInfo("Asia/Shanghai")
PLAN = CallPlan(date(2026, 12, 1), date(2026, 12, 2))


def test_service_is_allowed_by_default_and_marketing_needs_a_yes():
    assert consent_refusal({}, channel="sms", purpose="service") is None
    assert consent_refusal({}, channel="sms", purpose="marketing") == (
        "member never consented to marketing by sms (未同意短信营销推广)"
    )
    yes = registration_consents(marketing=True)
    assert consent_refusal(yes, channel="sms", purpose="marketing") is None
    no = registration_consents(marketing=False)
    assert consent_refusal(no, channel="phone", purpose="marketing") == (
        "member opted out of marketing by phone (已退订电话营销推广)"
    )
    assert consent_refusal({("sms", "service"): False}, channel="sms", purpose="service") == (
        "member opted out of service by sms (已退订短信服务通知)"
    )


def test_marketing_templates_are_marketing_whatever_the_request_says():
    assert purpose_of("member_reactivation") == "marketing"
    assert purpose_of("member_offer", "service") == "marketing"
    assert purpose_of("member_birthday") == "service"
    assert purpose_of("test_message", "marketing") == "marketing"


def _call(call_no, outcome, *, reason=None, next_call_no=None, status="open"):
    return apply_callback_outcome(
        status=status,
        next_call_no=next_call_no or call_no,
        plan=PLAN,
        call_no=call_no,
        outcome=outcome,
        called_at=datetime(2026, 12, 1 if call_no < 3 else 2, 10, tzinfo=SH),
        churn_reason=reason,
    )


def test_a_call_back_follows_the_lead_call_rules_and_connected_needs_a_reason():
    first = _call(1, Outcome.powered_off)
    assert (first.next_call_no, first.next_call_due) == (2, date(2026, 12, 1))
    second = _call(2, Outcome.no_answer)
    assert (second.next_call_no, second.next_call_due) == (3, date(2026, 12, 2))
    assert _call(3, Outcome.powered_off).resolution == Resolution.invalid_powered_off
    assert _call(3, Outcome.busy).resolution == Resolution.invalid_unreachable
    assert _call(1, Outcome.empty_number).resolution == Resolution.invalid_number
    done = _call(1, Outcome.not_interested, reason=ChurnReason.price)
    assert (done.status, done.resolution) == ("valid", Resolution.not_interested)
    with pytest.raises(OutcomeRejected, match="缺少流失原因"):
        _call(1, Outcome.interested)
    with pytest.raises(OutcomeRejected, match="未接通无流失原因"):
        _call(1, Outcome.busy, reason=ChurnReason.moved)
    with pytest.raises(OutcomeRejected, match="呼叫次序错误"):
        _call(2, Outcome.busy, next_call_no=1)
    with pytest.raises(OutcomeRejected, match="已结案"):
        _call(1, Outcome.busy, status="valid")


def test_churn_reasons_read_from_code_or_label():
    assert parse_churn_reason("活动少") == ChurnReason.few_activities
    assert parse_churn_reason("moved") == ChurnReason.moved
    assert parse_churn_reason("") is None
    with pytest.raises(OutcomeRejected, match="未知流失原因"):
        parse_churn_reason("天气")


def test_only_the_assigned_agent_or_a_supervisor_records_a_call_back():
    agent = Actor("agent1", "call_agent", None)
    assert callback_refusal(agent, username="agent1", assigned_to="agent1") is None
    assert callback_refusal(agent, username="agent1", assigned_to="agent2") == (
        "call-back is assigned to agent2, not agent1"
    )
    boss = Actor("call.supervisor", "call_supervisor", None)
    assert callback_refusal(boss, username="call.supervisor", assigned_to="agent2") is None
    admin = Actor("admin.ch001", "club_admin", None)
    assert "recording a member call-back is for call_agent or call_supervisor" in (
        callback_refusal(admin, username="admin.ch001", assigned_to="agent1")
    )


def test_offers_are_monthly_and_capped_within_the_window():
    months = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    kw = {"cap": 3, "window_months": 6}
    assert offer_refusal(months, month=date(2026, 3, 20), **kw) == "already offered this month"
    assert offer_refusal(months, month=date(2026, 4, 5), **kw) == (
        "3 offers within 6 months (cap 3)"
    )
    # July's window is February–July: January has dropped out.
    assert offer_refusal(months, month=date(2026, 7, 5), **kw) is None
    assert months_back(date(2026, 1, 1), 1) == date(2025, 12, 1)
