from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity, Club, Dealer, Member, Recap, Registration
from domain.models_complaints import SatisfactionCall
from domain.models_members import ReactivationInvitation
from domain.models_planning import ClubContent, DealerFeedback
from flows.notifications import deliver_notifications
from flows.planning.club_report import club_report
from flows.planning.feedback_reminder import feedback_reminder

SH = ZoneInfo("Asia/Shanghai")
# Monday 2 November 2026 is November's first working day: the report is about October.
NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=SH)


def _seed_october(db_url) -> None:
    """Chengdu club C-CH001, October 2026, by hand:
    - activities: A1 (approved, 10 Oct) 3 registered, 2 checked in; A2 (archived, 20 Oct)
      1 checked in; A3 cancelled with a stray check-in and A4 (30 Sep) do not count
      → 2 activities, 3 participants;
    - content: 2 posts in October read 100 + 50, one in November; A1's recap 2 posts read 500
      → 4 posts, 650 reads;
    - members: 3 joined in September; 2 in October plus one at 23:30 on 31 Oct (Shanghai);
      one at 00:30 on 1 Nov Shanghai (still 31 Oct in UTC) is November's → 3 at start, 3 new;
    - the dealer's return: 8 sales of which 2 referred, service ¥50,000 of which members
      ¥10,000 → referral 25.0 %, after-sales 20.0 %;
    - satisfaction about A1: scores 4 and 5 answered in October, one not answered, a 1 answered
      in November → 4.5 from 2 responses.
    """
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        dealer = session.get(Dealer, club.dealer_id)

        def member(n: int, joined: datetime) -> Member:
            m = Member(
                member_no=f"T{n:05d}",
                name=f"会员{n}",
                phone=f"+8613800{n:06d}",
                club_id=club.id,
                joined_at=joined,
            )
            session.add(m)
            return m

        sept = [member(i, datetime(2026, 9, 10 + i, 12, tzinfo=SH)) for i in range(3)]
        october = [
            member(10, datetime(2026, 10, 5, 12, tzinfo=SH)),
            member(11, datetime(2026, 10, 18, 12, tzinfo=SH)),
            member(12, datetime(2026, 10, 31, 23, 30, tzinfo=SH)),
        ]
        member(13, datetime(2026, 11, 1, 0, 30, tzinfo=SH))
        session.flush()

        def activity(code: str, status: str, day: date) -> Activity:
            a = Activity(
                code=code,
                title=code,
                klass="D",
                region_code="chengdu",
                club_id=club.id,
                starts_on=day,
                ends_on=day,
                status=status,
                proposed_by="admin.ch001",
            )
            session.add(a)
            session.flush()
            return a

        checked = datetime(2026, 10, 10, 9, tzinfo=UTC)
        a1 = activity("T-A1", "approved", date(2026, 10, 10))
        a2 = activity("T-A2", "archived", date(2026, 10, 20))
        a3 = activity("T-A3", "cancelled", date(2026, 10, 15))
        a4 = activity("T-A4", "approved", date(2026, 9, 30))
        for a, m, at in [
            (a1, sept[0], checked),
            (a1, sept[1], checked),
            (a1, sept[2], None),
            (a2, october[0], checked),
            (a3, october[1], checked),
            (a4, sept[0], checked),
        ]:
            session.add(Registration(activity_id=a.id, member_id=m.id, checked_in_at=at))
        session.add(
            Recap(activity_id=a1.id, participants=2, media_posts=2, media_reads=500, filed_by="x")
        )
        for ext, day, reads in [("p1", 3, 100), ("p2", 28, 50)]:
            session.add(
                ClubContent(
                    club_id=club.id, external_id=ext, published_on=date(2026, 10, day), reads=reads
                )
            )
        session.add(
            ClubContent(club_id=club.id, external_id="p3", published_on=date(2026, 11, 1), reads=9)
        )
        # Two sleeping members came back: one in October (counts), one in November (not).
        for m, back in [(sept[1], date(2026, 10, 12)), (sept[2], date(2026, 11, 3))]:
            session.add(
                ReactivationInvitation(
                    member_id=m.id,
                    club_id=club.id,
                    sleeping_since=date(2026, 6, 1),
                    invited_at=datetime(2026, 9, 1, tzinfo=UTC),
                    reactivated_on=back,
                )
            )
        for n, (m, points, at) in enumerate(
            [
                (sept[0], 4, datetime(2026, 10, 12, 9, tzinfo=SH)),
                (sept[1], 5, datetime(2026, 10, 31, 23, 30, tzinfo=SH)),
                (sept[2], None, None),
                (october[0], 1, datetime(2026, 11, 1, 0, 30, tzinfo=SH)),
            ]
        ):
            session.add(
                SatisfactionCall(
                    activity_id=a1.id,
                    member_id=m.id,
                    club_id=club.id,
                    token=f"t-sat-{n}",
                    created_at=checked,
                    score=points,
                    answered_at=at,
                )
            )
        session.add(
            DealerFeedback(
                dealer_id=dealer.id,
                month=date(2026, 10, 1),
                sales_units=8,
                referral_sales_units=2,
                service_revenue=50_000,
                member_service_revenue=10_000,
                submitted_by="admin.ch001",
            )
        )


def _table(key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1
        )
    return json.loads(artifact.data)


def test_the_monthly_report_matches_the_hand_computed_world(channels, sink, db_url):
    _seed_october(db_url)
    assert club_report(now=datetime(2026, 11, 1, 9, tzinfo=SH)) == {"skipped": True}  # Sunday

    result = club_report(now=NOV_2)
    assert (result["month"], result["clubs"], result["regions"]) == ("2026-10", 14, 7)

    clubs = {row["code"]: row for row in _table("club-report-2026-10-clubs")}
    assert clubs["C-CH001"] == {
        "code": "C-CH001",
        "club": "成都卫·成都车友会",
        "activities": 2,
        "participants": 3,
        "posts": 4,
        "reads": 650,
        "members at start": 3,
        "new members": 3,
        "reactivated": 1,
        "growth": "100.0%",
        "essence posts": 0,
        "self-media": 0,
        "reposts": 0,
        "event registrations": 0,
        "referral share": "25.0%",
        "after-sales share": "20.0%",
        "wechat members": "未填",
        "satisfaction": "4.5",
        "satisfaction responses": 2,
    }
    assert clubs["C-CH002"]["activities"] == 0 and clubs["C-CH002"]["growth"] == "—"
    assert clubs["C-CH002"]["referral share"] == "— 未提交"
    chengdu = next(r for r in _table("club-report-2026-10-regions") if r["region"] == "成都卫")
    assert (chengdu["clubs"], chengdu["participants"], chengdu["new members"]) == (2, 3, 3)

    deliver_notifications(now=NOV_2)
    [mine] = sink.to("dealer/CH001")
    assert mine.title == "成都卫·成都车友会 2026-10 月度俱乐部报告"
    assert "线下活动 2 场，签到参与 3 人次" in mine.body
    assert "发布内容 4 篇，阅读 650 次" in mine.body
    assert "新增会员 3 人（月初 3 人，增长 100.0%），唤醒沉睡会员 1 人" in mine.body
    assert "转介绍销售占比 25.0%；售后产值占比 20.0%" in mine.body
    assert "请于 2026-11-10 前提交本月反馈" in mine.body
    assert "活动满意度 4.5 分（2 份回答）" in mine.body
    assert len(sink.messages) == 14  # one per dealer, each with its own numbers only

    club_report(now=NOV_2, force=True)  # a re-run by hand sends nothing twice
    deliver_notifications(now=NOV_2)
    assert len(sink.messages) == 14


def test_dealers_without_feedback_are_reminded_on_the_8th_once(channels, sink, db_url):
    _seed_october(db_url)  # CH001 handed its October return in
    eighth = datetime(2026, 11, 8, 10, tzinfo=SH)
    assert feedback_reminder(now=eighth)["missing"] == 13
    assert feedback_reminder(now=eighth)["queued"] == 0
    deliver_notifications(now=eighth)
    assert sink.to("dealer/CH001") == []
    [reminder] = sink.to("dealer/CH002")
    assert reminder.title == "提醒：2026-10 月度反馈请于 2026-11-10 前提交"
    assert len(sink.messages) == 13
