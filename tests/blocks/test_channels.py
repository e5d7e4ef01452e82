from __future__ import annotations

import pytest
from pydantic import ValidationError

from blocks.channels import NotificationChannels, UnknownRecipientError

TOKEN_URL = "dingtalk://" + "ab12" * 16 + "/"


def test_a_url_that_does_not_parse_is_refused_naming_the_entry_not_the_secret():
    with pytest.raises(ValidationError) as info:
        NotificationChannels(
            dealers={"CD001": "json://127.0.0.1:9/ok", "CD002": "nope://secret-token-123"}
        )
    message = str(info.value)
    assert "dealers[CD002]: not a valid Apprise URL (scheme 'nope')" in message
    assert "secret-token-123" not in message


def test_every_supported_kind_of_channel_parses():
    block = NotificationChannels(
        people={"li.na": "mailto://user:pass@example.com?to=li.na@example.com"},
        dealers={"CD001": f"{TOKEN_URL} wecombot://botkey-abc"},
        roles={"it": "feishu://hook-token/", "campaign_manager": "json://127.0.0.1:8000/hook"},
    )
    assert block.urls_for("dealer:CD001") == [TOKEN_URL, "wecombot://botkey-abc"]
    assert block.urls_for("person:li.na")[0].startswith("mailto://")
    assert "ab12ab12" not in repr(block)


def test_a_regional_role_falls_back_to_the_role_and_unknowns_are_named():
    block = NotificationChannels(
        roles={
            "regional_specialist": "json://127.0.0.1:9/all",
            "regional_specialist:chengdu": "json://127.0.0.1:9/cd",
        }
    )
    assert block.urls_for("role:regional_specialist:chengdu") == ["json://127.0.0.1:9/cd"]
    assert block.urls_for("role:regional_specialist:jinan") == ["json://127.0.0.1:9/all"]
    with pytest.raises(UnknownRecipientError, match="no channel for 'person:li.na'"):
        block.urls_for("person:li.na")
    with pytest.raises(UnknownRecipientError, match="no member_sms_url"):
        block.urls_for("member:M1", phone="+8613800000000")


def test_member_sms_needs_a_phone_placeholder():
    with pytest.raises(ValidationError, match=r"member_sms_url: must contain \{phone\}"):
        NotificationChannels(member_sms_url="json://127.0.0.1:9/sms")
    block = NotificationChannels(member_sms_url="json://127.0.0.1:9/sms/{phone}")
    assert block.urls_for("member:M1", phone="+8613812341234") == [
        "json://127.0.0.1:9/sms/13812341234"
    ]
