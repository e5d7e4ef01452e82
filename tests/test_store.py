"""The store behaves the same on SQLite and PostgreSQL: constraints carry idempotency."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from clock import WORLD_NOW
from sqlalchemy import func, select

from clubflow.core.db import (
    DatabaseError,
    check_database,
    insert_ignoring_conflicts,
    migrate,
    session_scope,
)
from clubflow.world import WorldSize, seed_demo_world
from domain.models import (
    Activity,
    ActivityClass,
    CallAttempt,
    Club,
    Dealer,
    Lead,
    Member,
    Notification,
    Person,
    PointsEntry,
    Region,
    Role,
)


@pytest.fixture
def store(any_db_url) -> str:
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=20, leads=10), now=WORLD_NOW
        )
    return any_db_url


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_demo_world_has_every_region_and_role_and_seeding_twice_adds_nothing(store):
    with session_scope(store) as session:
        regions = session.execute(select(Region.name_zh).order_by(Region.code)).scalars().all()
        roles = set(session.execute(select(Person.role)).scalars())
        again = seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=20, leads=10), now=WORLD_NOW
        )

    assert regions == ["北京卫", "成都卫", "广州卫", "济南卫", "兰州卫", "南京卫", "沈阳卫"]
    assert roles == set(Role)
    assert (_count(store, Club), _count(store, Dealer), _count(store, Member)) == (14, 14, 20)
    assert again == {"regions": 0, "dealers": 0, "clubs": 0, "people": 0, "members": 0}
    assert _count(store, Lead) == 10


def _activity(session) -> Activity:
    club = session.execute(select(Club)).scalars().first()
    activity = Activity(
        code="ACT-1",
        title="雨林穿越",
        klass=ActivityClass.C,
        region_code=club.region_code,
        club_id=club.id,
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 2),
        proposed_by="x",
    )
    session.add(activity)
    session.flush()
    return activity


def test_points_are_one_row_per_activity_and_member(store):
    with session_scope(store) as session:
        activity = _activity(session)
        member_ids = session.execute(select(Member.id).limit(3)).scalars().all()
        rows = [
            {
                "member_id": m,
                "amount": 100,
                "reason": "activity",
                "activity_id": activity.id,
                "idem_key": f"activity:{activity.id}:member:{m}",
                "occurred_at": WORLD_NOW,
            }
            for m in member_ids
        ]
        first = insert_ignoring_conflicts(session, PointsEntry, rows, on=["idem_key"])
        second = insert_ignoring_conflicts(session, PointsEntry, rows, on=["idem_key"])
    assert (len(first), len(second)) == (3, 0)

    with pytest.raises(sa.exc.IntegrityError), session_scope(store) as session:
        session.add(
            PointsEntry(
                member_id=member_ids[0],
                amount=5,
                reason="activity",
                activity_id=activity.id,
                idem_key="another-key",
            )
        )
    assert _count(store, PointsEntry) == 3


def test_a_call_number_is_recorded_once_per_lead(store):
    with session_scope(store) as session:
        lead_id = session.execute(select(Lead.id)).scalars().first()
        session.add(
            CallAttempt(lead_id=lead_id, call_no=1, outcome="no_answer", called_at=WORLD_NOW)
        )
    with pytest.raises(sa.exc.IntegrityError), session_scope(store) as session:
        session.add(
            CallAttempt(
                lead_id=lead_id,
                call_no=1,
                outcome="connected_interested",
                called_at=WORLD_NOW,
            )
        )
    assert _count(store, CallAttempt) == 1


def test_timestamps_come_back_aware_in_utc_and_naive_ones_are_refused(store):
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2026, 2, 1, 0, 30, tzinfo=shanghai)
    with session_scope(store) as session:
        session.add(
            Notification(
                idem_key="tz",
                recipient="role:it",
                template="t",
                title="t",
                body="b",
                created_at=when,
                next_attempt_at=when,
            )
        )
    with session_scope(store) as session:
        row = session.execute(
            select(Notification).where(Notification.idem_key == "tz")
        ).scalar_one()
    assert row.created_at == when
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at.isoformat() == "2026-01-31T16:30:00+00:00"

    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session_scope(store) as s:
        s.add(
            Notification(
                idem_key="naive",
                recipient="role:it",
                template="t",
                title="t",
                body="b",
                created_at=datetime(2026, 1, 1),
            )
        )


def test_an_unreachable_database_is_named_in_the_error():
    url = "postgresql://clubflow:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(
        DatabaseError,
        match=r"cannot reach database postgresql://clubflow:\*\*\*@127.0.0.1:1/nowhere: .*refused",
    ) as info:
        check_database(url)
    assert "s3cret" not in str(info.value)


def test_a_malformed_database_url_is_named():
    with pytest.raises(DatabaseError, match="not a database URL: 'not a url'"):
        check_database("not a url")
