"""The dealers' monthly return on the Prefect test server: the send on the 1st (one message per
active dealer, nothing twice), the reminder on the 8th to exactly those who have not answered,
and the club report's bonus KPIs and content counts computed from the answers."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import select, update

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Club, Dealer
from domain.models_planning import ClubContent, DealerFeedback, DealerReturn
from domain.monthly_return import ReturnAnswer
from flows.notifications import deliver_notifications
from flows.planning.club_report import club_report
from flows.planning.feedback_reminder import feedback_reminder
from flows.planning.monthly_return import dealer_monthly_return
from tasks.planning.returns import answer_return

SH = ZoneInfo("Asia/Shanghai")
DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=SH)  # the run about November
NOVEMBER = date(2026, 11, 1)


def _deactivate(db_url, code: str) -> None:
    with session_scope(db_url) as session:
        session.execute(update(Dealer).where(Dealer.code == code).values(active=False))


def _answer(db_url, code: str, *, at: datetime, **figures) -> None:
    with session_scope(db_url) as session:
        answer_return(
            session=session,
            dealer_code=code,
            month=NOVEMBER,
            answer=ReturnAnswer(**figures),
            by=f"dealer:{code}",
            now=at,
            settings=get_settings(),
        )


def _table(key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1
        )
    return json.loads(artifact.data)


def test_every_active_dealer_gets_its_report_and_questionnaire_once(channels, sink, db_url):
    _deactivate(db_url, "BE002")
    assert dealer_monthly_return(now=DEC_1) == {
        "month": "2026-11",
        "sent": 13,
        "already": 0,
        "queued": 13,
    }
    deliver_notifications(now=DEC_1)
    assert len(sink.messages) == 13 and sink.to("dealer/BE002") == []
    [mine] = sink.to("dealer/CH001")
    assert mine.title.endswith("2026-11 会员报告与月度问卷（2026-12-10 前回复）")
    assert "俱乐部：成都卫·成都车友会（成都卫）" in mine.body
    assert "新注册会员 0 人，本月激活 0 人" in mine.body
    assert "请于 2026-12-10 前在门户填写" in mine.body
    assert "处理：http" in mine.body and "/go/" in mine.body

    with session_scope(db_url) as session:
        rows = session.execute(select(DealerReturn)).scalars().all()
        assert {(r.month, r.due_on, r.answered_at) for r in rows} == {
            (NOVEMBER, date(2026, 12, 10), None)
        }
        assert len(rows) == 13
        assert all("会员报告" in r.report_md for r in rows)
    assert _table("monthly-returns-2026-11") == [
        {"month": "2026-11", "sent": 13, "already": 0, "queued": 13}
    ]

    again = dealer_monthly_return(now=datetime(2026, 12, 1, 10, 0, tzinfo=SH))
    assert (again["sent"], again["already"], again["queued"]) == (0, 13, 0)
    deliver_notifications(now=DEC_1)
    assert len(sink.messages) == 13


def test_the_reminder_on_the_8th_goes_only_to_those_who_have_not_answered(channels, sink, db_url):
    _deactivate(db_url, "BE002")
    dealer_monthly_return(now=DEC_1)
    figures = dict(
        sales_units=5, referral_sales_units=1, service_revenue=1000, member_service_revenue=100
    )
    for code in ("CH001", "CH002", "SH001"):
        _answer(db_url, code, at=datetime(2026, 12, 5, 15, tzinfo=SH), **figures)
    deliver_notifications(now=DEC_1)
    sink.messages.clear()

    eighth = datetime(2026, 12, 8, 10, 0, tzinfo=SH)
    assert feedback_reminder(now=eighth) == {"month": "2026-11", "missing": 10, "queued": 10}
    assert feedback_reminder(now=eighth)["queued"] == 0  # the same keys: nothing twice
    deliver_notifications(now=eighth)
    with session_scope(db_url) as session:
        codes = session.execute(select(Dealer.code).order_by(Dealer.code)).scalars().all()
    expected = sorted(f"dealer/{c}" for c in codes if c not in {"CH001", "CH002", "SH001", "BE002"})
    assert sorted(m.path.strip("/") for m in sink.messages) == expected
    [reminder] = sink.to("dealer/GU001")
    assert reminder.title == "提醒：2026-11 月度反馈请于 2026-12-10 前提交"
    assert "处理：http" in reminder.body


def _content(db_url, club_code: str, rows: list[tuple[str, str, int, int]]) -> None:
    with session_scope(db_url) as session:
        club_id = session.execute(select(Club.id).where(Club.code == club_code)).scalar_one()
        for external_id, kind, reads, count in rows:
            session.add(
                ClubContent(
                    club_id=club_id,
                    external_id=external_id,
                    kind=kind,
                    reads=reads,
                    count=count,
                    published_on=date(2026, 11, 20),
                )
            )


def test_the_club_report_computes_the_bonus_kpis_from_the_answers(channels, sink, db_url):
    dealer_monthly_return(now=DEC_1)
    _answer(
        db_url,
        "CH001",
        at=datetime(2026, 12, 3, 11, tzinfo=SH),
        sales_units=12,
        referral_sales_units=3,
        service_revenue=80_000,
        member_service_revenue=12_000,
        wechat_groups=2,
        wechat_members=430,
    )
    _answer(
        db_url,
        "CH002",
        at=datetime(2026, 12, 9, 11, tzinfo=SH),
        sales_units=8,
        referral_sales_units=1,
        service_revenue=20_000,
        member_service_revenue=8_000,
    )
    _content(
        db_url,
        "C-CH001",
        [
            ("post-1", "post", 300, 1),
            ("bbs-1", "essence", 200, 1),
            ("bbs-2", "essence", 100, 1),
            ("wx-1", "self_media", 1500, 1),
            ("wx-2", "self_media", 1000, 1),  # the threshold itself counts
            ("wx-3", "self_media", 999, 1),  # published, but below the threshold
            ("rp-11", "repost", 0, 40),
            ("reg-gathering", "event_registration", 0, 12),
        ],
    )
    result = club_report(now=datetime(2026, 12, 11, 9, tzinfo=SH), force=True)
    assert result["month"] == "2026-11"

    clubs = {row["code"]: row for row in _table("club-report-2026-11-clubs")}
    ch1 = clubs["C-CH001"]
    assert (ch1["referral share"], ch1["after-sales share"]) == ("25.0%", "15.0%")
    assert ch1["wechat members"] == 430
    assert (ch1["posts"], ch1["reads"]) == (6, 4099)
    assert (ch1["essence posts"], ch1["self-media"]) == (2, 2)
    assert (ch1["reposts"], ch1["event registrations"]) == (40, 12)
    ch2 = clubs["C-CH002"]
    assert (ch2["referral share"], ch2["after-sales share"]) == ("12.5%", "40.0%")
    assert ch2["wechat members"] == "未填"
    be1 = clubs["C-BE001"]
    assert (be1["referral share"], be1["after-sales share"], be1["wechat members"]) == (
        "— 未提交",
        "— 未提交",
        "— 未提交",
    )
    regions = {row["region"]: row for row in _table("club-report-2026-11-regions")}
    # Pooled over the region's answers: (3 + 1) / (12 + 8) and 20,000 / 100,000.
    chengdu = regions["成都卫"]
    assert (chengdu["referral share"], chengdu["after-sales share"]) == ("20.0%", "20.0%")
    assert chengdu["reposts"] == 40
    assert regions["北京卫"]["referral share"] == "— 未提交"

    deliver_notifications(now=datetime(2026, 12, 11, 9, tzinfo=SH))
    report = next(m for m in sink.to("dealer/CH001") if "月度俱乐部报告" in m.title)
    assert "转介绍销售占比 25.0%；售后产值占比 15.0%" in report.body
    assert (
        "论坛精华帖 2 篇，自媒体文章（阅读达标）2 篇，转发 40 次，品牌活动报名 12 人" in report.body
    )
    other = next(m for m in sink.to("dealer/BE001") if "月度俱乐部报告" in m.title)
    assert "转介绍销售占比 — 未提交；售后产值占比 — 未提交" in other.body

    with session_scope(db_url) as session:
        answers = session.execute(select(DealerFeedback)).scalars().all()
    assert {a.submitted_by for a in answers} == {"dealer:CH001", "dealer:CH002"}
