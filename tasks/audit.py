"""Role checks outside the gates and their refusals: every refusal is a `refusal` row, written
in its own transaction so it stays even though the refused change does not happen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from domain.models import Club, Dealer, Person
from domain.models_audit import Refusal
from domain.permissions import Actor
from domain.privacy import mask_text


class Refused(PermissionError):
    """The actor may not do this; the refusal was recorded. The message says why."""


def actor_of(*, session: Session, username: str) -> Actor | None:
    """The person named `username`, or the dealer named `dealer:<code>`."""
    kind, sep, code = username.partition(":")
    if sep and kind == "dealer":
        dealer = session.execute(select(Dealer).where(Dealer.code == code)).scalar_one_or_none()
        if dealer is None:
            return None
        return Actor(
            username, "dealer", dealer.region_code, active=dealer.active, dealer_id=dealer.id
        )
    person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None:
        return None
    return Actor(
        person.username,
        str(person.role),
        person.region_code,
        person.club_id,
        person.active,
        dealer_id=person.dealer_id,
    )


def club_owners(*, session: Session, club_id: int | None) -> tuple[int | None, str]:
    """(dealer id, club code) of a club, for club_refusal."""
    club = session.get(Club, club_id) if club_id is not None else None
    return (club.dealer_id, club.code) if club else (None, "(none)")


def record_refusal(
    *,
    session: Session,
    action: str,
    subject: str,
    actor: str,
    reason: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        Refusal(
            action=action,
            subject=subject,
            actor=actor[:64],
            reason=mask_text(reason),
            details=details or {},
            refused_at=now,
        )
    )
    session.flush()


def refusal_if_not_allowed(
    *,
    session: Session,
    action: str,
    subject: str,
    username: str,
    rule: Callable[[Session, Actor | None], str | None],
    now: datetime,
) -> str | None:
    """Run `rule(session, actor)`; a refusal is recorded in the session and its reason
    returned. The caller commits before it refuses, so the record outlives the refusal."""
    reason = rule(session, actor_of(session=session, username=username))
    if reason is not None:
        record_refusal(
            session=session, action=action, subject=subject, actor=username, reason=reason, now=now
        )
    return reason


# Errors the same input meets again: a retry only delays the answer.
REFUSED_INPUT = (ValueError, LookupError, FileNotFoundError, PermissionError)


def retry_unless_refused(task, task_run, state) -> bool:
    """A task's `retry_condition_fn`: retry what may pass next time (a locked database, a
    dropped connection), never a refused input or a database that is not migrated."""
    import sqlalchemy as sa

    exc = state.result(raise_on_failure=False)
    if isinstance(exc, REFUSED_INPUT):
        return False
    if isinstance(exc, sa.exc.DBAPIError):
        text = str(exc.orig or exc).lower()
        return "no such table" not in text and "does not exist" not in text
    return True


def refusals(*, session: Session, subject: str | None = None) -> list[Refusal]:
    query = select(Refusal).order_by(Refusal.id)
    if subject:
        query = query.where(Refusal.subject == subject)
    return list(session.execute(query).scalars())
