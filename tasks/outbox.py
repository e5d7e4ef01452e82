"""The notification outbox: queue rows once per key, deliver them once through Apprise.

Data functions take the session (keyword-only) and are plain Python; the @task wrappers at
the bottom are what flows call.
"""

from __future__ import annotations

import logging
import time as time_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import apprise
from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from blocks.channels import NotificationChannels, UnknownRecipientError
from clubflow.db import insert_ignoring_conflicts, session_scope
from clubflow.settings import Settings, get_settings
from domain.models import (
    Dealer,
    Member,
    Notification,
    NotificationStatus,
    Person,
    Role,
)
from domain.privacy import mask_text
from domain.quiet_hours import release_time
from domain.regions import REGION_CODES
from tasks.render import render_message

CHANNELS_BLOCK = "default"
LEASE = timedelta(minutes=10)


class NotificationRequest(BaseModel):
    """One message to queue. `idem_key` names the business event: the same key is sent once."""

    recipient: str = Field(
        description="person:<username>, dealer:<code>, role:<role>[:<region>] or member:<member_no>"
    )
    template: str
    context: dict[str, Any] = Field(default_factory=dict)
    idem_key: str = Field(max_length=200)
    urgent: bool = False


class RecipientError(ValueError):
    pass


@dataclass
class QueueResult:
    queued: int = 0
    duplicates: int = 0
    ids: list[int] = field(default_factory=list)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("clubflow.outbox")


# ---------------------------------------------------------------- data functions


def check_recipients(*, session: Session, recipients: set[str]) -> None:
    """Refuse, by name, a recipient the store does not know (before anything is queued)."""
    by_kind: dict[str, set[str]] = {}
    for recipient in recipients:
        kind, sep, name = recipient.partition(":")
        if not sep or not name:
            raise RecipientError(f"recipient {recipient!r}: expected <kind>:<name>")
        by_kind.setdefault(kind, set()).add(name)
    lookups = {
        "person": (Person, Person.username),
        "dealer": (Dealer, Dealer.code),
        "member": (Member, Member.member_no),
    }
    for kind, names in by_kind.items():
        if kind == "role":
            for name in names:
                role, _, region = name.partition(":")
                if role not in Role.__members__:
                    raise RecipientError(f"recipient 'role:{name}': unknown role {role!r}")
                if region and region not in REGION_CODES:
                    raise RecipientError(f"recipient 'role:{name}': unknown region {region!r}")
            continue
        if kind not in lookups:
            raise RecipientError(f"recipient kind {kind!r} is not person/dealer/role/member")
        _model, column = lookups[kind]
        known = set(session.execute(select(column).where(column.in_(names))).scalars())
        missing = sorted(names - known)
        if missing:
            raise RecipientError(f"unknown {kind} {', '.join(repr(m) for m in missing[:5])}")


def queue_notifications(
    *,
    session: Session,
    requests: list[NotificationRequest],
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> QueueResult:
    """Render and store each request as a pending row; a key already queued adds nothing.

    Everything is checked before anything is stored: recipients known to the store and,
    when `channels` is given, reachable through it; every template renders.
    """
    recipients = {r.recipient for r in requests}
    check_recipients(session=session, recipients=recipients)
    if channels is not None:
        for recipient in sorted(r for r in recipients if not r.startswith("member:")):
            channels.urls_for(recipient)  # raises UnknownRecipientError naming it
    rows = []
    for req in requests:
        title, body = render_message(req.template, req.context)
        rows.append(
            {
                "idem_key": req.idem_key,
                "recipient": req.recipient,
                "template": req.template,
                "context": req.context,
                "title": title,
                "body": body,
                "urgent": req.urgent,
                "status": NotificationStatus.pending,
                "attempts": 0,
                "delivered_channels": [],
                "created_at": now,
                "next_attempt_at": release_time(
                    now,
                    urgent=req.urgent,
                    start=settings.quiet_hours_start,
                    end=settings.quiet_hours_end,
                    tz=settings.tz,
                ),
            }
        )
    ids = insert_ignoring_conflicts(session, Notification, rows, on=["idem_key"])
    return QueueResult(queued=len(ids), duplicates=len(rows) - len(ids), ids=ids)


def _due(now: datetime):
    """Pending and due, or leased by a sender that has not finished in time (crashed)."""
    return or_(
        (Notification.status == NotificationStatus.pending) & (Notification.next_attempt_at <= now),
        (Notification.status == NotificationStatus.sending) & (Notification.lease_until < now),
    )


def claim_due(*, session: Session, now: datetime, limit: int) -> list[Notification]:
    """Lease due rows to this sender; a lease left by a crashed sender expires and is retaken.

    The UPDATE repeats the due condition, so of two senders racing for a row only the first
    one's update matches it: the other sees rowcount 0 and skips it."""
    due = (
        select(Notification.id)
        .where(_due(now))
        .order_by(Notification.urgent.desc(), Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    claimed = []
    for notification_id in session.execute(due).scalars().all():
        result = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, _due(now))
            .values(status=NotificationStatus.sending, lease_until=now + LEASE)
        )
        if result.rowcount == 1:
            claimed.append(notification_id)
        session.commit()  # each claim visible at once: a racing sender's update then misses
    if not claimed:
        return []
    return list(
        session.execute(
            select(Notification).where(Notification.id.in_(claimed)).order_by(Notification.id)
        ).scalars()
    )


def member_phones(*, session: Session, notifications: list[Notification]) -> dict[str, str]:
    numbers = {
        n.recipient.split(":", 1)[1] for n in notifications if n.recipient.startswith("member:")
    }
    if not numbers:
        return {}
    rows = session.execute(
        select(Member.member_no, Member.phone).where(Member.member_no.in_(numbers))
    )
    return dict(rows.all())


def outbox_counts(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count()).group_by(Notification.status))
    return {str(status): count for status, count in rows.all()}


# ---------------------------------------------------------------- sending


def _send_once(url: str, title: str, body: str, timeout: float) -> str | None:
    """Send to one Apprise URL; None on success, else a short masked reason."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return "channel URL does not parse"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    lines = [ln for ln in captured.getvalue().splitlines() if ln.strip()]
    return mask_text(lines[-1][:300]) if lines else "delivery failed"


def deliver(
    notification: Notification, urls: list[str], settings: Settings
) -> tuple[list[int], str | None]:
    """Send to each channel not yet delivered, retrying in place with exponential backoff."""
    delivered = list(notification.delivered_channels or [])
    error = None
    for index, url in enumerate(urls):
        if index in delivered:
            continue
        for attempt in range(settings.outbox_inline_attempts):
            error = _send_once(
                url, notification.title, notification.body, settings.outbox_send_timeout_seconds
            )
            if error is None:
                delivered.append(index)
                break
            if attempt + 1 < settings.outbox_inline_attempts:
                time_module.sleep(settings.outbox_inline_backoff_seconds * 2**attempt)
        if error is not None:
            return delivered, f"channel {index + 1}/{len(urls)}: {error}"
    return delivered, None


def deliver_due(
    *, url: str, channels: NotificationChannels, now: datetime, settings: Settings
) -> DeliveryReport:
    report = DeliveryReport()
    log = _logger()
    with session_scope(url) as session:
        batch = claim_due(session=session, now=now, limit=settings.outbox_batch_size)
        phones = member_phones(session=session, notifications=batch)
    for notification in batch:
        try:
            number = notification.recipient.split(":", 1)[1]
            urls = channels.urls_for(notification.recipient, phone=phones.get(number))
        except UnknownRecipientError as exc:
            delivered, error = notification.delivered_channels, str(exc)
        else:
            delivered, error = deliver(notification, urls, settings)
        with session_scope(url) as session:
            row = session.get(Notification, notification.id)
            row.delivered_channels = delivered
            row.lease_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = NotificationStatus.sent, now, None
                report.sent += 1
                log.info("sent #%s %s to %s", row.id, row.template, row.recipient)
                continue
            row.attempts += 1
            row.last_error = error
            if row.attempts >= settings.outbox_max_attempts:
                row.status = NotificationStatus.dead
                report.dead += 1
                log.error(
                    "gave up on #%s to %s after %s attempts: %s",
                    row.id,
                    row.recipient,
                    row.attempts,
                    error,
                )
            else:
                row.status = NotificationStatus.pending
                backoff = settings.outbox_retry_backoff_seconds * 2 ** (row.attempts - 1)
                row.next_attempt_at = now + timedelta(seconds=backoff)
                report.retried += 1
                log.warning(
                    "#%s to %s failed (attempt %s), retry at %s: %s",
                    row.id,
                    row.recipient,
                    row.attempts,
                    row.next_attempt_at.isoformat(),
                    error,
                )
            report.errors.append(f"#{row.id} {row.recipient}: {error}")
    with session_scope(url) as session:
        report.waiting = outbox_counts(session=session).get(NotificationStatus.pending, 0)
    return report


# ---------------------------------------------------------------- tasks


def load_channels(name: str = CHANNELS_BLOCK) -> NotificationChannels:
    return NotificationChannels.load(name)


@task(name="queue-notifications", retries=2, retry_delay_seconds=[2, 10])
def queue_notifications_task(
    requests: list[NotificationRequest], now: datetime | None = None
) -> QueueResult:
    """Queue messages; checks their recipients have a channel before anything is stored."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    channels = load_channels() if requests else None
    with session_scope(settings.database_url) as session:
        result = queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    _logger().info("queued %s notifications (%s already queued)", result.queued, result.duplicates)
    return result


@task(name="deliver-notifications", retries=2, retry_delay_seconds=[5, 30])
def deliver_notifications_task(now: datetime | None = None) -> DeliveryReport:
    """Deliver every due row of the outbox (batch after batch) and record each result."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    channels = load_channels()
    total = DeliveryReport()
    while True:
        report = deliver_due(
            url=settings.database_url, channels=channels, now=now, settings=settings
        )
        total.sent += report.sent
        total.retried += report.retried
        total.dead += report.dead
        total.errors += report.errors
        total.waiting = report.waiting
        if report.sent + report.retried + report.dead < settings.outbox_batch_size:
            return total
