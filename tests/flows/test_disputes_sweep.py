"""The disputes-sweep flow escalates an overdue acknowledgement once per level."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models_disputes import DisputeEscalation
from flows.disputes.sweep import disputes_sweep
from tasks.disputes.cases import file_dispute

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_sweep_escalates_once(prefect_server, world, db_url):
    with session_scope(db_url) as session:
        file_dispute(
            session=session,
            username="dealer.ch001",
            kind="customer_dealer",
            claimant="张先生",
            respondent="CH001",
            summary="保养费用争议",
            now=datetime(2026, 3, 2, 10, tzinfo=SHANGHAI),
            settings=get_settings(),
        )
    late = datetime(2026, 3, 4, 9, tzinfo=SHANGHAI)
    assert disputes_sweep(now=late) == {"escalated": 1}
    assert disputes_sweep(now=late) == {"escalated": 0}
    with session_scope(db_url) as session:
        assert (
            session.execute(select(func.count()).select_from(DisputeEscalation)).scalar_one() == 1
        )
