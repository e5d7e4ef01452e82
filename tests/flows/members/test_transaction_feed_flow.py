"""The hourly dealer-system feed of bills: read after its cursor, each bill credited once."""

from __future__ import annotations

import pytest
from members_support import add_member, at, member
from support_leads import FakeApi, serve_fake_api

from clubflow.core.settings import get_settings
from flows.members.transaction_feed import members_transaction_feed

pytestmark = pytest.mark.slow


def test_the_feed_credits_each_bill_once_and_reads_after_its_cursor(members_world):
    add_member(members_world, "F1", "+8613600000401", status="active", tier="gold")
    api = FakeApi(token="dms-token")
    api.collections["transactions"] = [
        {"id": 1, "txn_id": "DMS-1", "member_no": "F1", "kind": "parts",
         "amount_yuan": "300", "occurred_at": "2026-10-12T10:00", "dealer": "CH001"},
        {"id": 2, "txn_id": "DMS-2", "member_no": "F1", "kind": "service",
         "amount_yuan": "-5", "occurred_at": "2026-10-12T10:00"},
        {"id": 3, "txn_id": "DMS-3", "member_no": "NOPE", "kind": "parts",
         "amount_yuan": "10", "occurred_at": "2026-10-12T10:00"},
    ]  # fmt: skip
    with serve_fake_api(api):
        api.block(page_size=2).save(get_settings().leads_dealer_system_block, overwrite=True)
        first = members_transaction_feed(now=at(2026, 10, 12, 11))
        again = members_transaction_feed(now=at(2026, 10, 12, 12))
        api.collections["transactions"].append(
            {"id": 4, "txn_id": "DMS-4", "member_no": "F1", "kind": "purchase",
             "amount_yuan": "1000", "occurred_at": "2026-10-12T12:30"}
        )  # fmt: skip
        more = members_transaction_feed(now=at(2026, 10, 12, 13))
    # 300 yuan of parts x1.5 for gold: 450 points; then 1,000 yuan x1.5: 1,500.
    assert first == {"recorded": 1, "points": 450, "duplicates": 0, "rejected": 2}
    assert again == {"recorded": 0, "points": 0, "duplicates": 0, "rejected": 0}
    assert more == {"recorded": 1, "points": 1500, "duplicates": 0, "rejected": 0}
    assert any(r.startswith("/transactions?after=3&") for r in api.requests)
    assert member(members_world, "F1").points == 1950
