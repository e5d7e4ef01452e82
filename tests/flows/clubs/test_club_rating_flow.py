"""The monthly club rating flow on real Prefect: every active club scored, the ranking as a
markdown artifact, each dealer told its club's places once; January records the awards and
announces them (an artifact, each awarded club's dealer, every region's specialist) once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Club, Dealer
from domain.models_clubs import ClubAward
from domain.regions import REGIONS
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
    assert result == {
        "month": "2026-11",
        "scored": 14,
        "queued": 14,
        "awarded": 0,
        "announced": 0,
    }
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

    with session_scope(db_url) as session:
        awarded = session.execute(
            select(ClubAward.scope, ClubAward.place, Club.name, Dealer.code)
            .join(Club, Club.id == ClubAward.club_id)
            .join(Dealer, Dealer.id == Club.dealer_id)
        ).all()
    dealers = {code for *_, code in awarded}
    assert january["announced"] == len(dealers) + len(REGIONS)
    text = _markdown("club-awards-2026")
    assert text.startswith("# 2026 年度俱乐部评奖\n")
    assert text.count("| 全国 |") == 3 and text.count("| 成都卫 |") == 1
    deliver_notifications(now=JAN_12)
    [(_, _, name, code)] = [a for a in awarded if a[0] == "national" and a[1] == 1]
    [told] = [m for m in sink.to(f"dealer/{code}") if "年度俱乐部奖" in m.title]
    assert told.title == f"{name} 荣获 2026 年度俱乐部奖"
    assert "全国第 1 名" in told.body
    [listed] = sink.to("role/regional_specialist/chengdu")
    assert listed.title == "2026 年度俱乐部获奖名单（10 项）"
    assert f"全国第 1 名 {name}" in listed.body

    again = club_rating(now=JAN_12)  # a re-run: nothing awarded, announced or sent twice
    assert (again["awarded"], again["announced"]) == (0, 0)
    deliver_notifications(now=JAN_12)
    assert len(sink.to("role/regional_specialist/chengdu")) == 1
