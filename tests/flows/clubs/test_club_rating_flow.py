"""The monthly club rating flow on real Prefect: every active club scored, the ranking as a
markdown artifact, each dealer told its club's places once; January records the awards."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.clubs.club_rating import club_rating
from flows.notifications import deliver_notifications

SH = ZoneInfo("Asia/Shanghai")
DEC_12 = datetime(2026, 12, 12, 9, tzinfo=SH)
JAN_12 = datetime(2027, 1, 12, 9, tzinfo=SH)


def _markdown(key: str) -> str:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1
        )
    return artifact.data


def test_the_month_is_rated_and_every_dealer_told_once(channels, sink, db_url):
    result = club_rating(now=DEC_12)
    assert result == {"month": "2026-11", "scored": 14, "queued": 14, "awarded": 0}
    text = _markdown("club-ranking-2026-11")
    assert text.startswith("# 俱乐部评级 2026-11\n\n## 全国\n")
    assert "## chengdu" in text
    deliver_notifications(now=DEC_12)
    [mine] = sink.to("dealer/CH001")
    assert "成都卫·成都车友会 2026-11 月度评分" in mine.body
    assert "（共 14 家），成都卫第" in mine.body
    assert club_rating(now=DEC_12)["scored"] == 0  # a re-run scores and sends nothing twice
    deliver_notifications(now=DEC_12)
    assert len(sink.to("dealer/CH001")) == 1

    january = club_rating(now=JAN_12)
    assert january["month"] == "2026-12" and january["awarded"] == 3 + 7
