from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clubflow.core.db import session_scope
from domain.models import Notification, NotificationStatus, Person, Role
from flows.notifications import deliver_notifications
from tasks.outbox import NotificationRequest, RecipientError, queue_notifications_task
from tasks.render import TemplateError

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)


def _requests(n: int, recipient: str = "person:hq.manager", **extra) -> list[NotificationRequest]:
    return [
        NotificationRequest(
            recipient=recipient,
            template="test_message",
            context={"name": "周经理", "seq": i},
            idem_key=f"test:{i}",
            **extra,
        )
        for i in range(n)
    ]


def _artifact(key: str) -> str:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def read() -> str:
        async with get_client() as client:
            [artifact] = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                limit=1,
            )
            return str(artifact.data)

    return asyncio.run(read())


def _rows(db_url: str) -> list[Notification]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Notification).order_by(Notification.id)).scalars())


def test_200_messages_through_a_flaky_channel_arrive_exactly_once(channels, sink, db_url):
    sink.fail_rate = 0.2
    queue_notifications_task(_requests(200), now=NOON)

    now = NOON
    for _ in range(10):  # each pass is one scheduled delivery run, later by the backoff
        deliver_notifications(now=now)
        if all(r.status == NotificationStatus.sent for r in _rows(db_url)):
            break
        now += timedelta(hours=1)

    seqs = Counter(
        int(m.body.split("编号 ")[1].split("）")[0]) for m in sink.to("person/hq.manager")
    )
    assert sink.failures > 0, "the sink should have refused some requests"
    assert sorted(seqs) == list(range(200))
    assert set(seqs.values()) == {1}
    assert all(r.status == NotificationStatus.sent for r in _rows(db_url))

    deliver_notifications(now=now + timedelta(days=1))
    assert len(sink.messages) == 200


def test_a_key_queued_twice_is_stored_and_sent_once(channels, sink, db_url):
    first = queue_notifications_task(_requests(3), now=NOON)
    second = queue_notifications_task(_requests(3), now=NOON)
    deliver_notifications(now=NOON)
    deliver_notifications(now=NOON)

    assert (first.queued, first.duplicates) == (3, 0)
    assert (second.queued, second.duplicates) == (0, 3)
    assert len(_rows(db_url)) == 3
    assert len(sink.to("person/hq.manager")) == 3
    assert sink.messages[0].title == "clubflow 通知测试"
    assert "周经理，您好" in sink.messages[0].body


def test_non_urgent_messages_wait_out_quiet_hours(channels, sink, db_url):
    late = datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI)
    queue_notifications_task(_requests(1), now=late)
    queue_notifications_task(
        [
            NotificationRequest(
                recipient="person:hq.manager",
                template="test_message",
                context={"name": "急", "seq": 99},
                idem_key="urgent:1",
                urgent=True,
            )
        ],
        now=late,
    )

    deliver_notifications(now=late + timedelta(minutes=1))
    assert [m.body.count("编号 99") for m in sink.messages] == [1]

    deliver_notifications(now=datetime(2026, 3, 3, 7, 59, tzinfo=SHANGHAI))
    assert len(sink.messages) == 1
    deliver_notifications(now=datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI))
    assert len(sink.messages) == 2


def test_a_missing_template_variable_is_refused_at_queue_time(channels, db_url):
    bad = NotificationRequest(
        recipient="person:hq.manager",
        template="test_message",
        context={"name": "x"},
        idem_key="bad:1",
    )
    with pytest.raises(TemplateError, match="'seq' is undefined"):
        queue_notifications_task.fn([bad], now=NOON)
    assert _rows(db_url) == []


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("person:nobody", "unknown person 'nobody'"),
        ("dealer:XX999", "unknown dealer 'XX999'"),
        ("role:regional_specialist:atlantis", "unknown region 'atlantis'"),
        ("role:astronaut", "unknown role 'astronaut'"),
        ("hq.manager", "expected <kind>:<name>"),
    ],
)
def test_an_unknown_recipient_is_refused_by_name(channels, db_url, recipient, message):
    with pytest.raises(RecipientError, match=message):
        queue_notifications_task.fn(_requests(1, recipient=recipient), now=NOON)
    assert _rows(db_url) == []


def test_a_channel_that_stays_down_gives_up_and_keeps_the_row(channels, sink, db_url, settings_env):
    settings_env(outbox_max_attempts=2)
    sink.fail_rate = 1.0
    queue_notifications_task(_requests(1), now=NOON)
    deliver_notifications(now=NOON)
    deliver_notifications(now=NOON + timedelta(hours=2))

    row, *ops = _rows(db_url)
    assert row.status == NotificationStatus.dead
    assert row.attempts == 2
    assert "channel 1/1" in row.last_error
    assert sink.messages == []
    dead_table = _artifact("outbox-dead")
    assert '"template": "test_message"' in dead_table and "error=500" in dead_table
    # role:ops is told once of the dead message and once of the channel failing for an hour.
    assert sorted(n.template for n in ops) == ["outbox_channel_failing", "outbox_dead"]
    assert {n.recipient for n in ops} == {"role:ops"}

    sink.fail_rate = 0.0
    deliver_notifications(now=NOON + timedelta(hours=5))
    deliver_notifications(now=NOON + timedelta(hours=6))
    assert len(_rows(db_url)) == 3, "an alert to role:ops never raises another alert"
    titles = sorted(m.title for m in sink.to("role/ops"))
    assert titles[0].startswith("通知投递失败：1 条已放弃")
    assert titles[1].startswith("通知通道故障超过一小时：json://127.0.0.1:")


def test_member_sms_goes_to_the_members_phone_and_logs_mask_it(channels, sink, db_url, caplog):
    caplog.set_level(logging.INFO)
    queue_notifications_task(
        [
            NotificationRequest(
                recipient="member:M000001",
                template="test_message",
                context={"name": "车主", "seq": 1},
                idem_key="sms:1",
            )
        ],
        now=NOON,
    )
    deliver_notifications(now=NOON)

    [message] = sink.messages
    assert message.path == "/sms/13900000001"
    assert "13900000001" not in caplog.text


def test_sending_twice_at_once_does_not_double_send(channels, sink, db_url):
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from tasks.outbox import deliver_notifications_task

    queue_notifications_task(_requests(40), now=NOON)
    # Each sender sees this test's Prefect settings (a new thread starts with no context and
    # would read another server's channels block).
    contexts = [contextvars.copy_context() for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: c.run(deliver_notifications_task.fn, now=NOON), contexts))
    assert len(sink.messages) == 40
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Notification)).scalar() == 40


def test_a_leased_row_is_not_claimed_again_until_its_lease_expires(any_db_url, settings_env):
    from clubflow.core.db import migrate
    from clubflow.core.settings import get_settings
    from tasks.outbox import claim_one, queue_notifications

    settings_env(database_url=any_db_url)
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        session.add(Person(username="hq.manager", name="周经理", role=Role.campaign_manager))
    with session_scope(any_db_url) as session:
        queued = queue_notifications(
            session=session, requests=_requests(3), now=NOON, settings=get_settings()
        )
    lease = timedelta(seconds=45)

    with session_scope(any_db_url) as first, session_scope(any_db_url) as second:
        for row_id in queued.ids:
            assert (
                claim_one(session=first, notification_id=row_id, now=NOON, lease_until=NOON + lease)
                is not None
            )
        for row_id in queued.ids:
            assert (
                claim_one(
                    session=second,
                    notification_id=row_id,
                    now=NOON + lease / 2,
                    lease_until=NOON + lease,
                )
                is None
            )
        # A sender that crashed holding the lease: after it expires the rows are retaken,
        # and the retake counts as a resend.
        for row_id in queued.ids:
            row = claim_one(
                session=second,
                notification_id=row_id,
                now=NOON + lease * 2,
                lease_until=NOON + lease * 3,
            )
            assert row is not None and row._resend


def test_the_inbox_echo_and_journal_show_phones_masked(tmp_path):
    import json

    import apprise

    from clubflow.inbox import start_sink

    echoed = []
    inbox, server = start_sink(journal=tmp_path / "inbox.jsonl", on_message=echoed.append)
    try:
        sender = apprise.Apprise()
        sender.add(inbox.url("sms/13900002222"))
        assert sender.notify(title="致 13900002222", body="您的手机 13900002222")
    finally:
        server.shutdown()
    [echo] = echoed
    assert (echo.path, echo.title) == ("/sms/139****2222", "致 139****2222")
    journal = (tmp_path / "inbox.jsonl").read_text(encoding="utf-8")
    assert json.loads(journal)["body"] == "您的手机 139****2222"
    assert "13900002222" not in journal
    assert inbox.messages[0].path == "/sms/13900002222"  # the receiver itself gets the number
