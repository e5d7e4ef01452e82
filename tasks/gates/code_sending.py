"""Sending a decision code to a person who may decide an open gate, when they need one: the
first answer given in the Prefect UI's form without a code gets one sent, and the portal sends
one on request (the codes themselves are tasks/gates/codes.py).
"""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select
from sqlmodel import Session

from blocks.channels import NotificationChannels, UnknownRecipientError
from clubflow.core.db import session_scope
from clubflow.core.settings import Settings, get_settings
from domain.calendar import BUSINESS_TZ
from domain.gates import Decider, refusal_reason
from domain.models import Gate, GateStatus, Person
from tasks.common import run_logger
from tasks.gates.codes import codes_of, issue_code, live_codes
from tasks.outbox import NotificationRequest, load_channels, queue_notifications


def deciders_of(*, session: Session, gate: Gate) -> list[Person]:
    """The active people who may decide `gate` (its role, and its region if regional)."""
    people = session.execute(
        select(Person).where(Person.role == gate.owner_role).order_by(Person.username)
    ).scalars()
    return [
        p
        for p in people
        if refusal_reason(
            Decider(p.username, str(p.role), p.region_code, p.active),
            owner_role=gate.owner_role,
            owner_region=gate.owner_region,
        )
        is None
    ]


def send_decision_code(
    *,
    session: Session,
    gate_id: int,
    username: str,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
    run_url: str = "",
    replace: bool = False,
) -> bool:
    """Send `username` a code for the open gate if they may decide it and hold no live one
    (so a replay sends nothing; an expired or withdrawn code is replaced). Someone without a
    channel in `channels` gets none, with a warning. Returns whether a code was sent.

    `replace`: the person asked for a new one (from the portal): their live codes stop
    working and a new one is sent."""
    gate = session.get(Gate, gate_id)
    if gate is None or gate.status != GateStatus.open:
        return False
    person = next(
        (p for p in deciders_of(session=session, gate=gate) if p.username == username), None
    )
    if person is None:
        return False
    live = live_codes(codes_of(session=session, gate_id=gate.id, username=username), now)
    if live and not replace:
        return False
    for row in live:
        row.expires_at = now  # withdrawn: only the newest code works
    log = run_logger("gates")
    recipient = f"person:{username}"
    if channels is not None:
        try:
            channels.urls_for(recipient)
        except UnknownRecipientError as exc:
            log.warning("gate #%s: no decision code for %s: %s", gate.id, username, exc)
            return False
    row, code = issue_code(
        session=session, gate_id=gate.id, username=username, now=now, settings=settings
    )
    request = NotificationRequest(
        recipient=recipient,
        template="gate_decision_code",
        context={
            "name": person.name,
            "username": username,
            "gate": gate.title,
            "subject": gate.subject_title or gate.subject_code,
            "subject_ref": f"{gate.subject_type}:{gate.subject_code}",
            "key": gate.key,
            "round": gate.round,
            "due_on": gate.due_on.isoformat(),
            "code": code,
            "expires_at": row.expires_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
            "run_url": run_url,
            "asked": replace,  # asked for in the portal, not set off by a form answer
        },
        idem_key=f"gate:{gate.id}:code:{row.id}",
        # Asked for by someone at the form right now: quiet hours do not hold it.
        urgent=True,
    )
    queue_notifications(
        session=session, requests=[request], now=now, settings=settings, channels=channels
    )
    log.info("gate #%s: decision code sent to %s", gate.id, username)
    return True


def run_link(flow_run_id: str | None) -> str:
    """The run's page in the Prefect UI (where its Resume form is), or '' if unknown."""
    if not flow_run_id:
        return ""
    from prefect.utilities.urls import url_for

    return url_for("flow-run", obj_id=flow_run_id) or ""


# Not a data_task: it loads the channels block (a Prefect call) before it opens the session.
@task(name="send-decision-code", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def send_decision_code_task(
    gate_id: int,
    username: str,
    now: datetime,
    flow_run_id: str | None = None,
    settings: Settings | None = None,
) -> bool:
    """Send `username` a decision code for a waiting gate if they need one (see
    send_decision_code)."""
    settings = settings or get_settings()
    channels = load_channels()
    with session_scope(settings.database_url) as session:
        return send_decision_code(
            session=session,
            gate_id=gate_id,
            username=username,
            now=now,
            settings=settings,
            channels=channels,
            run_url=run_link(flow_run_id),
        )
