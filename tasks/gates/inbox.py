"""What waits on a person: every open gate they may decide, and what other areas register
(`@inbox_source`: claims, leads...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from domain.gates import InboxItem
from domain.models import Gate, GateStatus, Person
from tasks.gates.discovery import discover_hooks

InboxSource = Callable[..., list[InboxItem]]
_INBOX_SOURCES: dict[str, InboxSource] = {}


def inbox_source(name: str) -> Callable[[InboxSource], InboxSource]:
    """Register `fn(*, session, person, today) -> list[InboxItem]` (claims, leads, ...)."""

    def register(fn: InboxSource) -> InboxSource:
        _INBOX_SOURCES[name] = fn
        return fn

    return register


def gates_waiting_on(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    query = select(Gate).where(Gate.status == GateStatus.open, Gate.owner_role == person.role)
    items = []
    for gate in session.execute(query).scalars():
        if gate.owner_region and gate.owner_region != person.region_code:
            continue
        subject = f"{gate.subject_type}:{gate.subject_code}"
        items.append(
            InboxItem(
                kind="gate",
                subject=subject,
                title=f"{gate.title} · {gate.subject_title}".strip(" ·"),
                due_on=gate.due_on,
                overdue=gate.due_on < today,
                command=f"clubflow decide {subject} {gate.key} --as {person.username} ...",
                link=f"/gates/{gate.id}",
            )
        )
    return items


def waiting_on(*, session: Session, username: str, today: date) -> list[InboxItem]:
    """Everything waiting on `username`, overdue first, then by due date."""
    person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None:
        raise LookupError(f"unknown user {username!r}")
    discover_hooks()
    items = gates_waiting_on(session=session, person=person, today=today)
    for source in _INBOX_SOURCES.values():
        items.extend(source(session=session, person=person, today=today))
    return sorted(items, key=lambda i: (not i.overdue, i.due_on or date.max, i.subject))
