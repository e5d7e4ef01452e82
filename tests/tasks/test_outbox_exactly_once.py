"""Exactly once towards a receiver that deduplicates by key, with real Apprise to a loopback
inbox: a slow acknowledgement, a sender killed after its POST arrived, an hour-long outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Notification, NotificationStatus
from flows.notifications import deliver_notifications
from tasks.outbox import NotificationRequest, delivery_key, queue_notifications_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
PATH = "person/hq.manager"


def _queue(n: int) -> list[str]:
    requests = [
        NotificationRequest(
            recipient="person:hq.manager",
            template="test_message",
            context={"name": "周经理", "seq": i},
            idem_key=f"once:{i}",
        )
        for i in range(n)
    ]
    queue_notifications_task(requests, now=NOON)
    return [delivery_key(r.idem_key) for r in requests]


def _rows(db_url: str) -> list[Notification]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Notification).order_by(Notification.id)).scalars())


def _mine(db_url: str) -> list[Notification]:
    return [r for r in _rows(db_url) if r.recipient == "person:hq.manager"]


def test_a_receiver_that_acknowledges_after_6_s_gets_each_message_once(channels, sink, db_url):
    keys = _queue(3)
    sink.delays[PATH] = 6.0  # longer than Apprise's default 4 s read timeout

    deliver_notifications(now=NOON)

    assert sorted(sink.keys(PATH)) == sorted(keys)
    assert sink.duplicates == 0
    assert [(r.status, r.attempts, r.resends) for r in _mine(db_url)] == [
        (NotificationStatus.sent, 0, 0)
    ] * 3
    body = sink.to(PATH)[0].body
    assert "周经理，您好" in body and "参考号" not in body  # the key travels as a header


def test_no_answer_is_not_resent_inline_but_later_under_the_same_key(
    channels, sink, db_url, settings_env
):
    settings_env(outbox_send_timeout_seconds=1)
    keys = _queue(2)
    sink.delays[PATH] = 2.5  # the receiver accepts, then answers after our timeout

    deliver_notifications(now=NOON)
    assert sorted(sink.keys(PATH)) == sorted(keys), "both arrived"
    assert sink.duplicates == 0, "nothing was resent inline after no answer"
    assert {r.status for r in _mine(db_url)} == {NotificationStatus.pending}
    assert all(r.last_error.startswith("no answer: ") for r in _mine(db_url))

    sink.delays.clear()
    deliver_notifications(now=NOON + timedelta(minutes=5))
    assert sink.duplicates == 2, "resent under the same key, dropped by the receiver"
    assert Counter(sink.keys(PATH)) == Counter({k: 1 for k in keys})
    assert [(r.status, r.resends) for r in _mine(db_url)] == [(NotificationStatus.sent, 1)] * 2


def test_a_channel_without_keys_gets_at_most_one_resend_counted_and_referenced(
    channels, sink, db_url, settings_env
):
    from blocks.channels import NotificationChannels

    # An SMS gateway-like channel: Apprise's API plugin, no idempotency header.
    NotificationChannels(
        people={"hq.manager": f"apprise://127.0.0.1:{sink.port}/sms?method=json"},
        roles={"ops": sink.url("role/ops")},
    ).save("default", overwrite=True)
    settings_env(outbox_send_timeout_seconds=1)
    [key] = _queue(1)
    sink.delays["notify/sms"] = 2.5  # accepted, answered after the timeout, every time

    deliver_notifications(now=NOON)
    deliver_notifications(now=NOON + timedelta(minutes=5))
    deliver_notifications(now=NOON + timedelta(minutes=30))

    received = sink.to("notify/sms")
    assert len(received) == 2, "one send and exactly one resend"
    assert all(f"（参考号 {key[3:11]}）" in m.body for m in received)
    [row] = _mine(db_url)
    assert (row.status, row.resends) == (NotificationStatus.sent, 1)


SENDER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from clubflow.world import inbox_channels
    from tasks.outbox import deliver_due

    url, inbox, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    with session_scope(url) as session:
        channels = inbox_channels(session=session, inbox_url=inbox)
    deliver_due(url=url, channels=channels, now=now, settings=get_settings())
    """
)


def test_a_sender_killed_after_its_post_arrived_is_resent_once_and_dropped(channels, sink, db_url):
    [key] = _queue(1)
    arrived = threading.Event()
    sink.received = lambda message: arrived.set()
    sink.delays[PATH] = 30.0  # the sender waits for the answer when it is killed

    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, db_url, sink.base, NOON.isoformat()],
        env={**os.environ, "CLUBFLOW_DATABASE_URL": db_url},
    )
    try:
        assert arrived.wait(timeout=60), "the sender's POST never arrived"
        os.kill(sender.pid, signal.SIGKILL)
    finally:
        sender.wait(timeout=30)
    assert sender.returncode == -signal.SIGKILL
    [row] = _mine(db_url)
    assert row.status == NotificationStatus.sending
    sink.delays.clear()

    # Within the lease (send timeouts plus a margin) nobody takes the row over...
    deliver_notifications(now=NOON + timedelta(seconds=30))
    assert sink.keys(PATH) == [key] and sink.duplicates == 0
    # ...after it, the next run resends it under the same key: the receiver drops the copy.
    deliver_notifications(now=NOON + timedelta(minutes=3))
    [row] = _mine(db_url)
    assert (row.status, row.resends) == (NotificationStatus.sent, 1)
    assert sink.keys(PATH) == [key]
    assert sink.duplicates == 1


def test_a_receiver_down_for_an_hour_gets_everything_once_when_it_is_back(channels, sink, db_url):
    keys = _queue(10)
    sink.down = True
    now = NOON
    while now <= NOON + timedelta(hours=1):  # a run every 5 minutes on a simulated clock
        deliver_notifications(now=now)
        now += timedelta(minutes=5)
    assert sink.messages == []
    assert {r.status for r in _mine(db_url)} == {NotificationStatus.pending}

    sink.down = False
    for _ in range(30):
        deliver_notifications(now=now)
        if all(r.status == NotificationStatus.sent for r in _rows(db_url)):
            break
        now += timedelta(minutes=5)

    assert all(r.status == NotificationStatus.sent for r in _rows(db_url))
    assert Counter(sink.keys(PATH)) == Counter({k: 1 for k in keys})
    assert sink.duplicates == 0
    # role:ops heard of the outage once (through the outbox, when the channel came back).
    [alert] = sink.to("role/ops")
    assert alert.title.startswith("通知通道故障超过一小时")
    assert "12:00" in alert.body


def test_a_hanging_channel_holds_up_only_its_own_messages(channels, sink, db_url, settings_env):
    from blocks.channels import NotificationChannels
    from clubflow.inbox import start_sink
    from tasks.outbox import CHANNEL_LANES, TRIP_AFTER

    hanging, server = start_sink(delays={"": 3.0})  # accepts, then answers too late
    try:
        NotificationChannels(
            people={"hq.manager": sink.url(PATH), "it.lead": hanging.url("person/it.lead")},
            roles={"ops": sink.url("role/ops")},
        ).save("default", overwrite=True)
        settings_env(outbox_send_timeout_seconds=1)
        fine = _queue(10)
        slow = [delivery_key(f"slow:{i}") for i in range(10)]
        queue_notifications_task(
            [
                NotificationRequest(
                    recipient="person:it.lead",
                    template="test_message",
                    context={"name": "郭", "seq": i},
                    idem_key=f"slow:{i}",
                )
                for i in range(10)
            ],
            now=NOON,
        )

        result = deliver_notifications(now=NOON)

        assert sorted(sink.keys(PATH)) == sorted(fine), "the healthy channel got everything"
        # The hanging one was tried by its lanes only until it stopped answering (each lane's
        # send in flight, and one more per lane before the second timeout is counted): the
        # rest wait for the next run without spending an attempt.
        tried = CHANNEL_LANES + TRIP_AFTER - 1
        assert len(hanging.messages) <= tried
        slow_rows = [r for r in _rows(db_url) if r.recipient == "person:it.lead"]
        deferred = [r for r in slow_rows if r.attempts == 0]
        assert len(deferred) >= 10 - tried
        assert all(r.last_error.startswith("deferred: ") for r in deferred)
        assert result["deferred"] == len(deferred) and result["sent"] == 10

        hanging.delays.clear()
        deliver_notifications(now=NOON + timedelta(minutes=5))
        assert Counter(hanging.keys()) == Counter({k: 1 for k in slow})
        assert all(r.status == NotificationStatus.sent for r in _rows(db_url))
    finally:
        server.shutdown()
