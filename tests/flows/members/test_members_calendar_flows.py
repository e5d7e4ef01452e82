"""Birthdays (daily) and segmentation with reactivation invitations (weekly)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from members_support import add_member, at, member
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity, Club
from flows.members.birthdays import send_birthday_greetings
from flows.members.segmentation import segment_members

pytestmark = pytest.mark.slow


def test_a_29_february_birthday_is_greeted_on_28_february_once(members_world, sink):
    add_member(
        members_world,
        "B1",
        "+8613600000201",
        status="active",
        name="周敏",
        birthday=date(1992, 2, 29),
    )
    for day in (27, 28, 28):
        send_birthday_greetings(now=at(2027, 2, day, 9))
    send_birthday_greetings(now=at(2027, 3, 1, 9))

    # The reminder went out on the first run within the week before, once; then the greeting.
    reminder, greeting = sink.to("sms/13600000201")
    assert reminder.title == "羽林车友俱乐部生日月权益提醒"
    assert "您的生日（2月28日）即将到来" in reminder.body
    assert greeting.title == "羽林车友俱乐部祝您生日快乐"
    assert "周敏，您好" in greeting.body and "2月生日月专属权益" in greeting.body
    assert "积分" not in greeting.body  # an ordinary member's birthday points are 0
    assert len(sink.messages) == 2


def test_a_gold_member_gets_the_birthday_points_once_and_is_told(members_world, sink):
    from sqlalchemy import select as _select

    from domain.models import PointsEntry

    member_id = add_member(
        members_world,
        "B2",
        "+8613600000202",
        status="active",
        name="李强",
        tier="gold",
        birthday=date(1988, 3, 10),
    )
    for day in (3, 10, 10):
        send_birthday_greetings(now=at(2027, 3, day, 9))

    reminder, rank_up, greeting = sink.to("sms/13600000202")
    assert "昭武校尉" in rank_up.body  # the 500 points lift the rank, announced as usual
    assert "您的生日（3月10日）即将到来" in reminder.body
    assert "作为金卡会员，生日当天将获赠500积分" in reminder.body
    assert "金卡会员生日积分500分已到账" in greeting.body
    with session_scope(members_world) as session:
        rows = session.execute(
            _select(PointsEntry.amount, PointsEntry.idem_key).where(
                PointsEntry.member_id == member_id
            )
        ).all()
    assert rows == [(500, "birthday-points:B2:2027")]
    assert member(members_world, "B2").points == 500


def _artifacts(keys):
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    return {a.key: a for a in found}


def test_weekly_segmentation_reports_by_club_and_region_and_invites_once(members_world, sink):
    with session_scope(members_world) as session:
        club = session.execute(select(Club).where(Club.code == "C-SH001")).scalar_one()
        session.add(
            Activity(
                code="SH-W1",
                title="长白山冰雪挑战",
                klass="C",
                region_code="shenyang",
                club_id=club.id,
                starts_on=date(2026, 12, 19),
                ends_on=date(2026, 12, 20),
                place="长白山",
                status="approved",
                proposed_by="admin.sh001",
            )
        )
        club_id = club.id
    joined = at(2025, 1, 1)
    for i, last in enumerate([at(2026, 11, 1), at(2026, 8, 1), at(2025, 6, 1)]):
        add_member(
            members_world,
            f"G{i}",
            f"+86136000003{i:02d}",
            status="active",
            name=f"车友{i}",
            club_id=club_id,
            joined_at=joined,
            activated_at=joined,
            last_interaction_at=last,
        )

    week = at(2026, 12, 7, 8)
    first = segment_members(now=week)
    again = segment_members(now=week)
    # The lost member (G2) gets one call-back, the week's re-run none.
    assert first == {"changed": 3, "invited": 1, "reactivated": 0, "callbacks": 1}
    assert again == {"changed": 0, "invited": 0, "reactivated": 0, "callbacks": 0}
    [invitation] = sink.to("sms/13600000301")
    assert invitation.title == "沈阳卫·沈阳车友会想念您了"
    assert "诚邀您参加「长白山冰雪挑战」，2026年12月19日在长白山相聚" in invitation.body
    assert len(sink.messages) == 1

    artifacts = _artifacts(["member-segments-shenyang", "member-segments"])
    table = json.loads(artifacts["member-segments-shenyang"].data)
    [row] = [r for r in table if r["club"] == club.name]
    assert (row["active"], row["sleeping"], row["lost"]) == (1, 1, 1)
    assert "| 沈阳卫 | 1 | 1 | 1 |" in artifacts["member-segments"].data
    assert "| region | 价格 | 服务 | 距离 | 换车 | 搬迁 | 活动少 | 其他 |" in (
        artifacts["member-segments"].data
    )

    segment_members(now=week + timedelta(days=7))
    assert len(sink.messages) == 1
