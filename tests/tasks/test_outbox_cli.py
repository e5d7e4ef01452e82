"""`clubflow outbox`: list by status, show a message masked, re-queue dead ones by role."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Notification, NotificationStatus
from domain.models_outbox import OutboxAction
from flows.notifications import deliver_notifications
from tasks.outbox import NotificationRequest, queue_notifications_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
runner = CliRunner()


def _cli(*args: str):
    return runner.invoke(app, ["outbox", *args], env={"COLUMNS": "200"})


def test_dead_messages_are_listed_shown_masked_and_requeued_by_it(
    channels, sink, db_url, settings_env
):
    settings_env(outbox_max_attempts=1)
    sink.fail_rate = 1.0
    queue_notifications_task(
        [
            NotificationRequest(
                recipient="person:hq.manager",
                template="test_message",
                context={"name": "车主 13900001234 身份证 11010119900307123X", "seq": 7},
                idem_key="cli:1",
            ),
            NotificationRequest(
                recipient="person:it.lead",
                template="test_message",
                context={"name": "郭", "seq": 8},
                idem_key="cli:2",
            ),
        ],
        now=NOON,
    )
    deliver_notifications(now=NOON)

    listed = _cli("--status", "dead", "--recipient", "person:hq.manager")
    assert listed.exit_code == 0, listed.output
    assert "person:hq.manager" in listed.output and "person:it.lead" not in listed.output
    assert "test_message" in listed.output and "error=500" in listed.output

    with session_scope(db_url) as session:
        first = session.execute(
            select(Notification).where(Notification.idem_key == "cli:1")
        ).scalar_one()
    shown = _cli("show", str(first.id))
    assert shown.exit_code == 0, shown.output
    assert "139****1234" in shown.output and "110101********123X" in shown.output
    assert "13900001234" not in shown.output and "11010119900307123X" not in shown.output
    assert "编号 7" in shown.output

    refused = _cli("retry", "--dead", "--as", "agent1")
    assert refused.exit_code == 1
    assert "only it or campaign_manager may re-queue" in refused.output

    sink.fail_rate = 0.0
    accepted = _cli("retry", "--dead", "--as", "it.lead", "--now", "2026-03-02T13:00")
    assert accepted.exit_code == 0, accepted.output
    assert "re-queued 3 message(s)" in accepted.output  # the two and role:ops' alert
    deliver_notifications(now=NOON + timedelta(hours=1))
    assert len(sink.to("person/hq.manager")) == 1 and len(sink.to("person/it.lead")) == 1

    again = _cli("retry", str(first.id), "--as", "it.lead")
    assert again.exit_code == 1 and "was sent already" in again.output
    assert _cli("show", "9999").exit_code == 2
    assert _cli("--status", "lost").exit_code == 2

    with session_scope(db_url) as session:
        actions = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
        assert [(a.actor, a.accepted) for a in actions] == [
            ("agent1", False),
            ("it.lead", True),
            ("it.lead", False),
        ]
        statuses = session.execute(select(Notification.status)).scalars().all()
        assert set(statuses) == {NotificationStatus.sent}
