"""The monthly offers flow: sleeping members who consented get the month's offer by SMS,
once; a member who never consented gets nothing."""

from __future__ import annotations

from datetime import date

import pytest
from members_support import add_member, at

from flows.retention.offers import offer_sleeping_members

pytestmark = pytest.mark.slow


def test_the_monthly_offer_reaches_consenting_sleeping_members_once(members_world, sink):
    common = {"status": "active", "segment": "sleeping", "segment_since": date(2026, 10, 1)}
    add_member(members_world, "O1", "+8613600000401", name="孙悦", **common)
    add_member(members_world, "O2", "+8613600000402", marketing=False, **common)

    first = offer_sleeping_members(now=at(2027, 1, 5, 10))
    again = offer_sleeping_members(now=at(2027, 1, 5, 11))

    assert first == {"offered": 1, "capped": 0, "no_consent": 1}
    assert again == {"offered": 0, "capped": 0, "no_consent": 1}
    [offer] = sink.to("sms/13600000401")
    assert offer.title == "羽林车友俱乐部会员专享回馈"
    assert "孙悦，您好：羽林车友俱乐部为您准备了本月会员专享回馈：本月到店保养享工时费八折" in (
        offer.body
    )
    assert sink.to("sms/13600000402") == []
    assert len(sink.messages) == 1
