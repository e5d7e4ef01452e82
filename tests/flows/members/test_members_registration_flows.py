"""Registration, activation and the activation sweep as deployments run them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from members_support import at, member

from domain.members import RegistrationInput
from flows.members.activation_sweep import sweep_member_activations
from flows.members.registration import activate_member_flow, register_members_flow
from tasks.members.registration import ActivationError

pytestmark = pytest.mark.slow


def test_register_remind_on_day_3_expire_on_day_7_each_message_once(members_world, sink):
    day0 = at(2026, 3, 2)
    registrations = [
        RegistrationInput(name="王伟", phone="138 0000 1111", club_code="C-BE001"),
        RegistrationInput(name="李娜", phone="13800002222", dealer_code="BE002"),
        RegistrationInput(name="王伟", phone="+86 13800001111"),  # the same phone: merged
        RegistrationInput(name="坏号", phone="1380000"),
    ]
    result = register_members_flow(registrations=registrations, now=day0)
    assert result == {"created": 2, "merged": 0, "reopened": 0, "rejected": 1}
    register_members_flow(registrations=registrations[:2], now=day0)  # a re-run: merged only

    wang_sms, li_sms = sink.to("sms/13800001111"), sink.to("sms/13800002222")
    assert [m.title for m in wang_sms] == ["羽林车友俱乐部会员激活码"]
    assert "欢迎加入羽林车友俱乐部" in wang_sms[0].body and "2026年3月8日前" in wang_sms[0].body
    li_code = li_sms[0].body.split("激活码 ")[1][:6]

    li_no = member(members_world, "M000062").member_no
    assert activate_member_flow(member_no=li_no, code=li_code, now=day0 + timedelta(days=1)) == (
        "activated"
    )
    assert activate_member_flow(member_no=li_no, code=li_code, now=day0 + timedelta(days=2)) == (
        "already active"
    )
    with pytest.raises(ActivationError, match="activation code is wrong"):
        activate_member_flow(member_no="M000061", code="000000", now=day0 + timedelta(days=1))

    counts = {}
    for day in range(1, 9):
        for _ in range(2):  # every daily run twice: the second adds nothing
            counts[day] = sweep_member_activations(now=day0 + timedelta(days=day))
    assert counts[3] == {"reminded": 0, "expired": 0}  # the second run of day 3
    titles = [m.title for m in sink.to("sms/13800001111")]
    assert titles == ["羽林车友俱乐部会员激活码", "会员激活提醒", "会员注册已失效"]
    assert [m.title for m in sink.to("sms/13800002222")] == [
        "羽林车友俱乐部会员激活码",
        "会员激活成功",
    ]
    assert "还剩 4 天" in sink.to("sms/13800001111")[1].body
    assert member(members_world, "M000061").status == "expired"
    assert len(sink.messages) == 5
    assert all("13800001111" not in m.body for m in sink.messages)
