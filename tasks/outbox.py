"""The notification outbox: queue rows once per key, deliver them once through Apprise.

Data functions take the session (keyword-only) and are plain Python; the @task wrappers at
the bottom are what flows call.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time as time_module
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import apprise
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from blocks.channels import NotificationChannels, UnknownRecipientError
from clubflow.core.db import insert_ignoring_conflicts, session_scope
from clubflow.core.settings import Settings, get_settings
from domain.calendar import BUSINESS_TZ
from domain.consent import OUTBOX_MEMBER_CHANNEL, Purpose, consent_refusal, purpose_of
from domain.models import (
    Dealer,
    Member,
    Notification,
    NotificationStatus,
    Person,
    Role,
)
from domain.models_outbox import ChannelHealth, OutboxAction
from domain.privacy import mask_text
from domain.quiet_hours import release_time
from domain.regions import REGION_CODES
from tasks.common import chunks, data_task, run_logger
from tasks.render import render_message
from tasks.retention.consent import member_consents

CHANNELS_BLOCK = "default"
# Roles that exist only as notification recipients (no Person carries them).
NOTIFICATION_ROLES = {"ops"}


class NotificationRequest(BaseModel):
    """One message to queue. `idem_key` names the business event: the same key is sent once."""

    recipient: str = Field(
        description="person:<username>, dealer:<code>, role:<role>[:<region>] or member:<member_no>"
    )
    template: str
    context: dict[str, Any] = Field(default_factory=dict)
    idem_key: str = Field(max_length=200)
    urgent: bool = False
    # service / marketing: marketing to a member needs their consent (domain/consent.py; the
    # marketing templates are marketing whatever the request says).
    purpose: Purpose = Purpose.service


class RecipientError(ValueError):
    pass


@dataclass
class QueueResult:
    queued: int = 0
    duplicates: int = 0
    ids: list[int] = field(default_factory=list)
    # idem_key → why it was not queued (the member's consent); nothing was stored for it.
    refused: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    dead: int = 0
    waiting: int = 0
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    # Rows not sent because the member withdrew consent after they were queued.
    withheld: list[int] = field(default_factory=list)


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
                if role not in Role.__members__ and role not in NOTIFICATION_ROLES:
                    raise RecipientError(f"recipient 'role:{name}': unknown role {role!r}")
                if region and region not in REGION_CODES:
                    raise RecipientError(f"recipient 'role:{name}': unknown region {region!r}")
            continue
        if kind not in lookups:
            raise RecipientError(f"recipient kind {kind!r} is not person/dealer/role/member")
        _model, column = lookups[kind]
        known = {
            name
            for batch in chunks(sorted(names))
            for name in session.execute(select(column).where(column.in_(batch))).scalars()
        }
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
    refused = consent_refusals(session=session, requests=requests)
    rows = []
    for req in requests:
        if req.idem_key in refused:
            continue
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
                "purpose": purpose_of(req.template, req.purpose).value,
                "status": NotificationStatus.pending,
                "attempts": 0,
                "delivered_channels": [],
                "created_at": now,
                "next_attempt_at": release_time(
                    now,
                    urgent=req.urgent,
                    start=settings.quiet_hours_start,
                    end=settings.quiet_hours_end,
                    tz=BUSINESS_TZ,
                ),
            }
        )
    ids = insert_ignoring_conflicts(session, Notification, rows, on=["idem_key"]) if rows else []
    return QueueResult(queued=len(ids), duplicates=len(rows) - len(ids), ids=ids, refused=refused)


def consent_refusals(*, session: Session, requests: list[NotificationRequest]) -> dict[str, str]:
    """idem_key → reason, for each request to a member whose consent does not allow it
    (marketing without an explicit yes, or any purpose the member opted out of); logged."""
    to_members = [r for r in requests if r.recipient.startswith("member:")]
    if not to_members:
        return {}
    consents = member_consents(
        session=session, member_nos={r.recipient.split(":", 1)[1] for r in to_members}
    )
    refused = {}
    for req in to_members:
        reason = consent_refusal(
            consents[req.recipient.split(":", 1)[1]],
            channel=OUTBOX_MEMBER_CHANNEL,
            purpose=purpose_of(req.template, req.purpose),
        )
        if reason:
            refused[req.idem_key] = f"not queued: {reason}"
            run_logger("outbox").warning(
                "refused %s to %s: %s", req.template, mask_text(req.recipient), reason
            )
    return refused


def queue_checked_notifications(
    *, session: Session, requests: list[NotificationRequest], now: datetime, settings: Settings
) -> QueueResult:
    """Queue a step's notifications in the step's own transaction, every recipient checked
    against the channels block first: one unreachable recipient stores nothing."""
    if not requests:
        return QueueResult()
    return queue_notifications(
        session=session, requests=requests, now=now, settings=settings, channels=load_channels()
    )


def _due(now: datetime):
    """Pending and due, or leased by a sender that has not finished in time (crashed)."""
    return or_(
        (Notification.status == NotificationStatus.pending) & (Notification.next_attempt_at <= now),
        (Notification.status == NotificationStatus.sending) & (Notification.lease_until < now),
    )


def member_phones(*, session: Session, notifications: list[Notification]) -> dict[str, str]:
    numbers = {
        n.recipient.split(":", 1)[1] for n in notifications if n.recipient.startswith("member:")
    }
    if not numbers:
        return {}
    phones: dict[str, str] = {}
    for batch in chunks(sorted(numbers)):
        rows = session.execute(
            select(Member.member_no, Member.phone).where(Member.member_no.in_(batch))
        )
        phones.update(rows.all())
    return phones


def withhold_without_consent(*, session: Session, notifications: list[Notification]) -> list[int]:
    """Mark `withheld` the due rows to members whose consent no longer allows them (checked
    right before sending: an opt-out after queueing wins); their ids. A withheld row is final:
    it is never sent, later or twice."""
    to_members = [n for n in notifications if n.recipient.startswith("member:")]
    if not to_members:
        return []
    consents = member_consents(
        session=session, member_nos={n.recipient.split(":", 1)[1] for n in to_members}
    )
    withheld = []
    for n in to_members:
        reason = consent_refusal(
            consents[n.recipient.split(":", 1)[1]],
            channel=OUTBOX_MEMBER_CHANNEL,
            purpose=n.purpose or Purpose.service,
        )
        if reason is None:
            continue
        result = session.execute(
            update(Notification)
            .where(
                Notification.id == n.id,
                Notification.status == NotificationStatus.pending,
            )
            .values(status=NotificationStatus.withheld, last_error=f"withheld: {reason}")
        )
        if result.rowcount == 1:
            withheld.append(n.id)
            run_logger("outbox").warning(
                "withheld #%s %s to %s: %s", n.id, n.template, mask_text(n.recipient), reason
            )
    session.commit()
    return withheld


def waiting_count(*, session: Session) -> int:
    """Rows pending (due or not): a range of the (status, next_attempt_at) index, not a count
    over the whole table, which a delivery pass would pay every few seconds."""
    return session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.status == NotificationStatus.pending)
    ).scalar_one()


def outbox_counts(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count()).group_by(Notification.status))
    return {str(status): count for status, count in rows.all()}


# ---------------------------------------------------------------- sending
#
# Exactly once, per channel kind (docs/outbox.md):
# - every send carries the row's delivery key: an `Idempotency-Key` header (and an
#   `idempotency_key` JSON/form field) for webhook channels, a short reference in the text
#   for the others (SMS, email, chat bots);
# - an HTTP error answer means "not accepted": retried at once (bounded, no sleep);
# - a timeout or a broken connection means "may have arrived": never resent inline, the row
#   waits for a later run and is resent under the same key, and the resend is counted;
# - a row's lease covers its sends' timeouts plus a margin, so a crashed sender's row is
#   retaken minutes, not hours, later.


class Outcome(StrEnum):
    sent = "sent"
    refused = "refused"  # the channel answered with an error: not accepted
    unknown = "unknown"  # no answer (timeout, connection broken or refused): may have arrived
    deferred = "deferred"  # not tried: the channel stopped answering earlier in this run


UNKNOWN_MARK = "no answer: "  # last_error prefix of an unknown outcome (a resend is counted)
KEYED_PLUGINS = ("NotifyJSON", "NotifyForm", "NotifyXML")
SEND_MARGIN = timedelta(seconds=30)
CONNECT_TIMEOUT = 4.0
CHANNEL_LANES = 4  # concurrent senders per channel
WORKERS = 16  # concurrent senders in all
TRIP_AFTER = 2  # unanswered sends of a channel in one run before its other rows are deferred
OPS = "role:ops"


def delivery_key(idem_key: str) -> str:
    """The key a receiver deduplicates by: stable for a row, whatever sender sends it."""
    return "cf-" + hashlib.sha256(idem_key.encode()).hexdigest()[:24]


def text_reference(key: str) -> str:
    return f"（参考号 {key[3:11]}）"


KEYED_SCHEMES = ("json", "jsons", "form", "forms", "xml", "xmls")


def keyed_url(url: str) -> bool:
    """Whether the channel carries the key as a header/field (a webhook that can deduplicate)."""
    return url.split("://", 1)[0].lower() in KEYED_SCHEMES


def channel_of(url: str) -> tuple[str, str]:
    """(key, label) of the server a URL talks to; the label never shows a token."""
    match = re.match(r"^([A-Za-z0-9+.-]+)://(?:[^@/?#]*@)?([^/?#]*)", url)
    scheme, server = (match.group(1).lower(), match.group(2)) if match else ("?", url)
    key = hashlib.sha256(f"{scheme}://{server}".encode()).hexdigest()[:16]
    plain = scheme in ("json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos")
    return key, f"{scheme}://{server}" if plain else f"{scheme}://…{key[:6]}"


class _AppriseErrors(logging.Handler):
    """Apprise reports why a send failed only in its log: keep each thread's lines apart, so
    concurrent sends never read each other's errors."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())


_APPRISE_ERRORS = _AppriseErrors()
logging.getLogger("apprise").addHandler(_APPRISE_ERRORS)


def _plugin(url: str, *, key: str, timeout: float) -> tuple[Any, bool]:
    """The Apprise plugin for a URL, with the send timeout and the key set; keyed or not."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return None, False
    plugin.socket_read_timeout = timeout
    plugin.socket_connect_timeout = min(CONNECT_TIMEOUT, timeout)
    keyed = type(plugin).__name__ in KEYED_PLUGINS
    if keyed:
        plugin.headers["Idempotency-Key"] = key
        if hasattr(plugin, "payload_extras"):
            plugin.payload_extras["idempotency_key"] = key
    return plugin, keyed


def send_once(url: str, title: str, body: str, *, key: str, timeout: float) -> tuple[Outcome, str]:
    """One send through Apprise: the outcome and, when not sent, a short masked reason."""
    plugin, keyed = _plugin(url, key=key, timeout=timeout)
    if plugin is None:
        return Outcome.refused, "channel URL does not parse"
    if not keyed:
        body = f"{body}\n{text_reference(key)}"
    _APPRISE_ERRORS.local.lines = lines = []
    began = time_module.monotonic()
    try:
        ok = plugin.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    finally:
        _APPRISE_ERRORS.local.lines = None
    if ok:
        return Outcome.sent, ""
    waited = time_module.monotonic() - began
    if not lines:
        # Apprise's log is silenced: without its reason, "may have arrived" is the safe answer.
        return Outcome.unknown, f"delivery failed after {waited:.1f} s (no reason logged)"
    reason = mask_text(lines[-1][:300])
    if waited >= timeout * 0.9 or any("connection error" in ln.lower() for ln in lines):
        return Outcome.unknown, reason
    return Outcome.refused, reason


@dataclass
class _Channel:
    label: str
    sent: int = 0
    failed: int = 0
    unanswered: int = 0
    last_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tripped(self) -> bool:
        return self.unanswered >= TRIP_AFTER


@dataclass
class _Run:
    url: str
    now: datetime
    settings: Settings
    started: float
    channels: dict[str, _Channel] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def channel(self, url: str) -> tuple[str, _Channel]:
        key, label = channel_of(url)
        with self.lock:
            return key, self.channels.setdefault(key, _Channel(label))

    def lease_until(self, urls: int) -> datetime:
        # `now` is the run's time; the run may be minutes old when it reaches this row.
        elapsed = timedelta(seconds=time_module.monotonic() - self.started)
        per_send = self.settings.outbox_send_timeout_seconds + CONNECT_TIMEOUT
        budget = timedelta(seconds=per_send * max(urls, 1) * self.settings.outbox_inline_attempts)
        return self.now + elapsed + budget + SEND_MARGIN


_SENDERS: list[ThreadPoolExecutor] = []
_SENDERS_LOCK = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    """One pool of sender threads per process, kept between passes: a delivery loop makes a
    pass every few seconds, and starting 16 threads each time cost more than the sends."""
    with _SENDERS_LOCK:
        if not _SENDERS:
            _SENDERS.append(ThreadPoolExecutor(WORKERS, thread_name_prefix="outbox"))
        return _SENDERS[0]


def deliver(
    notification: Notification, urls: list[str], run: _Run
) -> tuple[list[int], Outcome, str | None]:
    """Send to each channel not yet delivered; the worst outcome and its reason.

    An error answer is retried at once (the channel refused it); no answer is never retried
    here (the message may have arrived: a later run resends it under the same key)."""
    delivered = list(notification.delivered_channels or [])
    key = delivery_key(notification.idem_key)
    worst, error = Outcome.sent, None
    rank = [Outcome.sent, Outcome.deferred, Outcome.refused, Outcome.unknown]
    for index, url in enumerate(urls):
        if index in delivered:
            continue
        _key, channel = run.channel(url)
        outcome, reason = Outcome.deferred, f"{channel.label} stopped answering in this run"
        for _attempt in range(run.settings.outbox_inline_attempts):
            if channel.tripped:
                break
            outcome, reason = send_once(
                url,
                notification.title,
                notification.body,
                key=key,
                timeout=run.settings.outbox_send_timeout_seconds,
            )
            with channel.lock:
                if outcome is Outcome.sent:
                    channel.sent += 1
                    channel.unanswered = 0
                else:
                    channel.failed += 1
                    channel.last_error = reason
                    channel.unanswered += outcome is Outcome.unknown
            if outcome is not Outcome.refused:
                break
        if outcome is Outcome.sent:
            delivered.append(index)
        elif (
            outcome is Outcome.unknown
            and getattr(notification, "_resend", False)
            and not keyed_url(url)
        ):
            # A channel that cannot deduplicate gets at most one resend per incident: no
            # answer again, and the message has most likely arrived (counted in `resends`).
            delivered.append(index)
        elif rank.index(outcome) > rank.index(worst):
            worst, error = outcome, f"channel {index + 1}/{len(urls)}: {reason}"
    return delivered, worst, error


def claim_many(
    *, session: Session, notification_ids: list[int], now: datetime, lease_until: datetime
) -> list[Notification]:
    """Lease the given rows that are still due, in one transaction; the rows leased (any
    another sender holds, or that are no longer due, are left out). A row retaken from a
    sender that crashed holding it, or after no answer, is marked a resend (`_resend`)."""
    if not notification_ids:
        return []
    leased = {"status": NotificationStatus.sending, "lease_until": lease_until}
    crashed = set(
        session.execute(
            update(Notification)
            .where(
                Notification.id.in_(notification_ids),
                Notification.status == NotificationStatus.sending,
                Notification.lease_until < now,
            )
            .values(**leased)
            .returning(Notification.id)
        ).scalars()
    )
    waiting = set(
        session.execute(
            update(Notification)
            .where(
                Notification.id.in_(notification_ids),
                Notification.status == NotificationStatus.pending,
                Notification.next_attempt_at <= now,
            )
            .values(**leased)
            .returning(Notification.id)
        ).scalars()
    )
    session.commit()
    ids = crashed | waiting
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.execute(select(Notification).where(Notification.id.in_(ids))).scalars()
    }
    for row in rows.values():
        row._resend = row.id in crashed or (row.last_error or "").startswith(UNKNOWN_MARK)
    return [rows[i] for i in notification_ids if i in rows]


def claim_one(*, session: Session, notification_id: int, now: datetime, lease_until: datetime):
    """Lease one due row; None when another sender has it (or it is no longer due)."""
    rows = claim_many(
        session=session, notification_ids=[notification_id], now=now, lease_until=lease_until
    )
    return rows[0] if rows else None


@dataclass
class _RowResult:
    id: int
    recipient: str
    template: str
    outcome: Outcome
    error: str | None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    dead: bool = False


def _record(
    session: Session, row: Notification, delivered: list[int], outcome: Outcome, error, run: _Run
) -> _RowResult:
    settings, now = run.settings, run.now
    row.delivered_channels = delivered
    row.lease_until = None
    if getattr(row, "_resend", False) and outcome is not Outcome.deferred:
        row.resends += 1
    if error is None:
        row.status, row.sent_at, row.last_error = NotificationStatus.sent, now, None
    elif outcome is Outcome.deferred:
        # Not tried: no attempt is spent, the row waits for the next run.
        row.status = NotificationStatus.pending
        row.next_attempt_at = now + timedelta(seconds=settings.outbox_retry_backoff_seconds)
        if not (row.last_error or "").startswith(UNKNOWN_MARK):
            row.last_error = f"deferred: {error}"
    else:
        row.attempts += 1
        row.last_error = (UNKNOWN_MARK if outcome is Outcome.unknown else "") + error
        if row.attempts >= settings.outbox_max_attempts:
            row.status = NotificationStatus.dead
        else:
            row.status = NotificationStatus.pending
            backoff = settings.outbox_retry_backoff_seconds * 2 ** (row.attempts - 1)
            row.next_attempt_at = now + timedelta(seconds=backoff)
    result = _RowResult(
        id=row.id,
        recipient=row.recipient,
        template=row.template,
        outcome=Outcome.sent if error is None else outcome,
        error=error,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        dead=row.status == NotificationStatus.dead,
    )
    session.add(row)
    return result


def _chunks_of(rows: list[Notification], size: int) -> Iterator[list[Notification]]:
    """A lane's rows in claim chunks: non-urgent rows `size` at a time (one transaction to
    lease them, one to record them); an urgent row alone, so its lease stays one row's and a
    crashed sender's code is retaken within a minute or so."""
    chunk: list[Notification] = []
    for row in rows:
        if row.urgent:
            if chunk:
                yield chunk
                chunk = []
            yield [row]
            continue
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lane(
    rows: list[Notification], urls: dict[int, list[str]], problems: dict[int, str], run: _Run
) -> list[_RowResult]:
    """Deliver rows one after another (one of a channel's lanes), a chunk per transaction:
    the chunk's lease covers all its sends, and its results are recorded in one commit."""
    results = []
    with session_scope(run.url) as session:
        for chunk in _chunks_of(rows, run.settings.outbox_claim_chunk):
            claimed = claim_many(
                session=session,
                notification_ids=[c.id for c in chunk],
                now=run.now,
                lease_until=run.lease_until(sum(len(urls.get(c.id, [])) or 1 for c in chunk)),
            )
            for row in claimed:
                if row.id in problems:  # no channel for the recipient: an attempt spent
                    delivered, outcome, error = (
                        row.delivered_channels,
                        Outcome.refused,
                        problems[row.id],
                    )
                else:
                    delivered, outcome, error = deliver(row, urls[row.id], run)
                results.append(_record(session, row, delivered, outcome, error, run))
            session.commit()
    return results


def candidates(*, session: Session, now: datetime, limit: int) -> list[Notification]:
    rows = session.execute(
        select(Notification)
        .where(_due(now))
        .order_by(Notification.urgent.desc(), Notification.next_attempt_at, Notification.id)
        .limit(limit)
    ).scalars()
    rows = list(rows)
    session.expunge_all()
    return rows


def deliver_due(
    *,
    url: str,
    channels: NotificationChannels,
    now: datetime,
    settings: Settings,
    started: float | None = None,
) -> DeliveryReport:
    """Deliver one batch of due rows: each channel in its own lanes, so a slow or failing
    channel holds up only its own messages; record channel health; tell role:ops."""
    report = DeliveryReport()
    log = run_logger("outbox")
    run = _Run(url=url, now=now, settings=settings, started=started or time_module.monotonic())
    with session_scope(url) as session:
        batch = candidates(session=session, now=now, limit=settings.outbox_batch_size)
        report.withheld = withhold_without_consent(session=session, notifications=batch)
        batch = [n for n in batch if n.id not in report.withheld]
        phones = member_phones(session=session, notifications=batch)
    urls: dict[int, list[str]] = {}
    problems: dict[int, str] = {}
    lanes: dict[str, list[list[Notification]]] = {}
    lane_of: dict[str, list[Notification]] = {}
    for notification in batch:
        try:
            number = notification.recipient.split(":", 1)[1]
            row_urls = channels.urls_for(notification.recipient, phone=phones.get(number))
        except UnknownRecipientError as exc:
            problems[notification.id] = str(exc)
            row_urls = []
        else:
            urls[notification.id] = row_urls
        pending = [u for i, u in enumerate(row_urls) if i not in notification.delivered_channels]
        key = channel_of(pending[0])[0] if pending else "-"
        channel_lanes = lanes.setdefault(key, [[] for _ in range(CHANNEL_LANES)])
        # One recipient stays in one lane, so their messages arrive in the order queued.
        if notification.recipient not in lane_of:
            lane_of[notification.recipient] = min(channel_lanes, key=len)
        lane_of[notification.recipient].append(notification)
    jobs = [lane for channel_lanes in lanes.values() for lane in channel_lanes if lane]
    results: list[_RowResult] = []
    if jobs:
        if len(jobs) == 1:  # one lane: no thread to start (most passes of a quiet minute)
            results.extend(_lane(jobs[0], urls, problems, run))
        else:
            for lane_results in _senders().map(lambda lane: _lane(lane, urls, problems, run), jobs):
                results.extend(lane_results)
    died = []
    for r in sorted(results, key=lambda r: r.id):
        report.claimed += 1
        if r.outcome is Outcome.sent:
            report.sent += 1
            log.info("sent #%s %s to %s", r.id, r.template, r.recipient)
            continue
        report.errors.append(f"#{r.id} {r.recipient}: {r.error}")
        if r.outcome is Outcome.deferred:
            report.deferred += 1
        elif r.dead:
            report.dead += 1
            died.append(r)
            log.error(
                "gave up on #%s to %s after %s attempts: %s", r.id, r.recipient, r.attempts, r.error
            )
        else:
            report.retried += 1
            log.warning(
                "#%s to %s failed (attempt %s), retry at %s: %s",
                r.id,
                r.recipient,
                r.attempts,
                r.next_attempt_at.isoformat() if r.next_attempt_at else "?",
                r.error,
            )
    with session_scope(url) as session:
        failing = record_channel_health(session=session, run=run)
        report.alerts = alert_ops(
            session=session, now=now, settings=settings, died=died, failing=failing
        )
        report.waiting = waiting_count(session=session)
    return report


def record_channel_health(*, session: Session, run: _Run) -> list[ChannelHealth]:
    """Update each channel this run used; the channels failing for an hour, not yet told."""
    # Two deliverers may meet a new channel at once: the unique key decides who creates it.
    insert_ignoring_conflicts(
        session,
        ChannelHealth,
        [{"key": key, "label": channel.label} for key, channel in run.channels.items()],
        on=["key"],
    )
    for key, channel in run.channels.items():
        health = session.get(ChannelHealth, key, with_for_update=True)
        if channel.sent:
            health.failing_since = health.alerted_at = None
            health.last_success_at = run.now
        elif channel.failed:
            health.failing_since = health.failing_since or run.now
            health.last_error = channel.last_error
        session.add(health)
    session.commit()
    hour_ago = run.now - timedelta(hours=1)
    return list(
        session.execute(
            select(ChannelHealth).where(
                ChannelHealth.failing_since <= hour_ago, ChannelHealth.alerted_at.is_(None)
            )
        ).scalars()
    )


def alert_ops(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    died: list,
    failing: list[ChannelHealth],
) -> int:
    """Tell role:ops, through the outbox and once per event, of dead messages and of
    channels failing for an hour. Messages to role:ops itself never raise an alert."""
    requests = []
    dead = [r for r in died if r.recipient != OPS]
    if dead:
        ids = sorted(r.id for r in dead)
        requests.append(
            NotificationRequest(
                recipient=OPS,
                template="outbox_dead",
                context={
                    "count": len(dead),
                    "lines": [
                        mask_text(f"#{r.id} {r.template} → {r.recipient}: {r.error}")
                        for r in dead[:20]
                    ],
                    "command": "clubflow outbox retry --dead --as <username>",
                },
                idem_key="ops:dead:" + hashlib.sha256(repr(ids).encode()).hexdigest()[:24],
                urgent=True,
            )
        )
    for health in failing:
        requests.append(
            NotificationRequest(
                recipient=OPS,
                template="outbox_channel_failing",
                context={
                    "channel": health.label,
                    "since": health.failing_since.astimezone(BUSINESS_TZ).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                    "error": mask_text(health.last_error or ""),
                },
                idem_key=f"ops:channel:{health.key}:{health.failing_since.isoformat()}",
                urgent=True,
            )
        )
        health.alerted_at = now
        session.add(health)
    if not requests:
        return 0
    result = queue_notifications(session=session, requests=requests, now=now, settings=settings)
    session.commit()
    return result.queued


# ---------------------------------------------------------------- tasks


def load_channels(name: str = CHANNELS_BLOCK) -> NotificationChannels:
    return NotificationChannels.load(name)


# Not a data_task: every area calls it with (requests, now) positionally, and it loads the
# channels block (a Prefect call) before it opens the session.
@task(name="queue-notifications", retries=2, retry_delay_seconds=[2, 10])
def queue_notifications_task(
    requests: list[NotificationRequest],
    now: datetime | None = None,
    settings: Settings | None = None,
) -> QueueResult:
    """Queue messages; checks their recipients have a channel before anything is stored."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    channels = load_channels() if requests else None
    with session_scope(settings.database_url) as session:
        result = queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    run_logger("outbox").info(
        "queued %s notifications (%s already queued, %s refused by consent)",
        result.queued,
        result.duplicates,
        len(result.refused),
    )
    return result


def deliver_all_due(
    *, now: datetime, settings: Settings, channels: NotificationChannels
) -> DeliveryReport:
    """Deliver every due row of the outbox, batch after batch: what the delivery loop runs
    each time it wakes (clubflow/delivery.py) and what the deployment's task runs."""
    started = time_module.monotonic()
    total = DeliveryReport()
    while True:
        report = deliver_due(
            url=settings.database_url,
            channels=channels,
            now=now,
            settings=settings,
            started=started,
        )
        for name in ("claimed", "sent", "retried", "deferred", "dead", "alerts"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.errors += report.errors
        total.withheld += report.withheld
        total.waiting = report.waiting
        # A full batch may have more behind it; alerts just queued are due now.
        if not report.claimed or (
            report.claimed < settings.outbox_batch_size and not report.alerts
        ):
            return total


@task(name="deliver-queued-notifications", retries=2, retry_delay_seconds=[5, 30])
def deliver_notifications_task(
    now: datetime | None = None, settings: Settings | None = None
) -> DeliveryReport:
    """Deliver every due row of the outbox (batch after batch) and record each result."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    return deliver_all_due(now=now, settings=settings, channels=load_channels())


def dead_notifications(*, session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The dead messages, newest first, masked (for the run's artifact)."""
    return list_notifications(session=session, status=NotificationStatus.dead, limit=limit)


dead_notifications_task = data_task(dead_notifications)


@task(name="publish-delivery-report")
def publish_delivery_report_task(report: DeliveryReport, dead: list[dict[str, Any]]) -> None:
    """The run's artifacts: what could not be delivered this minute, and the dead messages."""
    if report.retried or report.dead or report.deferred:
        lines = "\n".join(f"- {mask_text(e)}" for e in report.errors[:50])
        create_markdown_artifact(
            key="outbox-failures",
            markdown=(
                f"### Outbox: {report.retried} to retry, {report.deferred} deferred, "
                f"{report.dead} given up\n\n{lines}"
            ),
            description="Notifications that could not be delivered this minute",
        )
    if dead:
        create_table_artifact(
            key="outbox-dead",
            table=[
                {
                    "id": d["id"],
                    "recipient": mask_text(d["recipient"]),
                    "template": d["template"],
                    "attempts": d["attempts"],
                    "last error": mask_text(d["last_error"]),
                }
                for d in dead
            ],
            description="Dead notifications: `clubflow outbox retry --dead --as <user>` re-queues",
        )


# ---------------------------------------------------------------- operators


class OutboxRefused(PermissionError):
    pass


# Who may re-queue messages: IT runs the channels, the campaign manager owns the messages.
RETRY_ROLES = (Role.it, Role.campaign_manager)


def list_notifications(
    *,
    session: Session,
    status: str | None = None,
    recipient: str | None = None,
    template: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Messages newest first, as an operator sees them (errors and recipients masked)."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == NotificationStatus(status))
    if recipient:
        query = query.where(Notification.recipient == recipient)
    if template:
        query = query.where(Notification.template == template)
    return [
        {
            "id": n.id,
            "status": str(n.status),
            "recipient": mask_text(n.recipient),
            "template": n.template,
            "attempts": n.attempts,
            "resends": n.resends,
            "last_error": mask_text(n.last_error or ""),
            "next_attempt_at": n.next_attempt_at
            if n.status == NotificationStatus.pending
            else None,
            "sent_at": n.sent_at,
        }
        for n in session.execute(query).scalars()
    ]


def read_notification(*, session: Session, notification_id: int) -> dict[str, Any]:
    """One message with its text, masked; LookupError naming the id."""
    n = session.get(Notification, notification_id)
    if n is None:
        raise LookupError(f"notification #{notification_id} does not exist")
    return {
        "id": n.id,
        "status": str(n.status),
        "recipient": mask_text(n.recipient),
        "template": n.template,
        "key": mask_text(n.idem_key),
        "delivery_key": delivery_key(n.idem_key),
        "title": mask_text(n.title),
        "body": mask_text(n.body),
        "attempts": n.attempts,
        "resends": n.resends,
        "last_error": mask_text(n.last_error or ""),
        "created_at": n.created_at,
        "next_attempt_at": n.next_attempt_at,
        "sent_at": n.sent_at,
    }


def retry_notifications(
    *,
    session: Session,
    actor: str,
    now: datetime,
    ids: list[int] | None = None,
    dead: bool = False,
) -> int:
    """Re-queue dead (or waiting) messages now, attempts reset; refusals are recorded.

    A sent message is never re-queued: that would send it twice."""
    target = "dead" if dead else ",".join(str(i) for i in ids or [])

    def refuse(reason: str) -> OutboxRefused:
        session.add(
            OutboxAction(
                at=now, actor=actor, action="retry", target=target, accepted=False, reason=reason
            )
        )
        session.commit()
        return OutboxRefused(reason)

    person = session.execute(select(Person).where(Person.username == actor)).scalar_one_or_none()
    if person is None:
        raise refuse(f"unknown user {actor!r}")
    if person.role not in RETRY_ROLES:
        allowed = " or ".join(str(r) for r in RETRY_ROLES)
        raise refuse(f"{actor} is {person.role}; only {allowed} may re-queue messages")
    if dead:
        query = select(Notification).where(Notification.status == NotificationStatus.dead)
    else:
        if not ids:
            raise refuse("name message ids, or --dead")
        query = select(Notification).where(Notification.id.in_(ids))
    rows = list(session.execute(query).scalars())
    if not dead:
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise refuse(f"notification #{missing[0]} does not exist")
        sent = sorted(r.id for r in rows if r.status == NotificationStatus.sent)
        if sent:
            raise refuse(f"notification #{sent[0]} was sent already; it is never sent twice")
    for row in rows:
        if row.status == NotificationStatus.sending:
            continue  # a sender holds it right now
        row.status = NotificationStatus.pending
        row.attempts = 0
        row.next_attempt_at = now
        row.lease_until = None
    session.add(
        OutboxAction(
            at=now, actor=actor, action="retry", target=target, accepted=True, count=len(rows)
        )
    )
    session.commit()
    return len(rows)
