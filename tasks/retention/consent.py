"""Members' contact consent: read it (the outbox asks before queueing and before sending),
record it at registration, and change it (the member on the portal, staff with --as)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain.consent import (
    CONSENT_STAFF_ROLES,
    ContactChannel,
    Purpose,
    consent_refusal,
    registration_consents,
)
from domain.models import Member
from domain.models_retention import MemberConsent, MemberConsentChange
from domain.permissions import role_refusal
from tasks.audit import Refused, actor_of, record_refusal
from tasks.common import chunks


def member_consents(
    *, session: Session, member_nos: set[str]
) -> dict[str, dict[tuple[str, str], bool]]:
    """member number → {(channel, purpose): allowed} for the members named."""
    out: dict[str, dict[tuple[str, str], bool]] = {no: {} for no in member_nos}
    for batch in chunks(sorted(member_nos)):
        rows = session.execute(
            select(
                Member.member_no,
                MemberConsent.channel,
                MemberConsent.purpose,
                MemberConsent.allowed,
            )
            .join(MemberConsent, MemberConsent.member_id == Member.id)
            .where(Member.member_no.in_(batch))
        ).all()
        for no, channel, purpose, allowed in rows:
            out[no][(channel, purpose)] = allowed
    return out


def record_registration_consent(
    *, session: Session, member_id: int, marketing: bool, now: datetime
) -> None:
    """Registration's answers (service yes, marketing as asked); a re-run adds nothing."""
    rows = [
        {
            "member_id": member_id,
            "channel": channel,
            "purpose": purpose,
            "allowed": allowed,
            "changed_at": now,
            "changed_by": "registration",
        }
        for (channel, purpose), allowed in registration_consents(marketing=marketing).items()
    ]
    ids = insert_ignoring_conflicts(
        session, MemberConsent, rows, on=["member_id", "channel", "purpose"]
    )
    if ids:
        session.add_all(MemberConsentChange(**row) for row in rows)


def set_consent(
    *,
    session: Session,
    member_no: str,
    channel: ContactChannel,
    purpose: Purpose,
    allowed: bool,
    actor: str,
    now: datetime,
) -> MemberConsent:
    """Change one consent, by the member themself (`member:<no>`) or by staff (their username).

    Refused (and recorded) for another member or a person without a staff role."""
    member = session.execute(
        select(Member).where(Member.member_no == member_no)
    ).scalar_one_or_none()
    if member is None:
        raise LookupError(f"member {member_no!r} does not exist")
    if actor != f"member:{member_no}":
        reason = None
        if actor.startswith("member:"):
            reason = f"{actor} may change only their own consent"
        else:
            reason = role_refusal(
                actor_of(session=session, username=actor),
                username=actor,
                roles=CONSENT_STAFF_ROLES,
                action="changing a member's consent",
            )
        if reason:
            record_refusal(
                session=session,
                action="member.consent",
                subject=f"member:{member_no}",
                actor=actor,
                reason=reason,
                now=now,
            )
            session.commit()  # the refusal stays, whatever the caller does next
            raise Refused(reason)
    row = session.execute(
        select(MemberConsent).where(
            MemberConsent.member_id == member.id,
            MemberConsent.channel == channel.value,
            MemberConsent.purpose == purpose.value,
        )
    ).scalar_one_or_none()
    if row is None:
        row = MemberConsent(
            member_id=member.id,
            channel=channel.value,
            purpose=purpose.value,
            allowed=allowed,
            changed_at=now,
            changed_by=actor,
        )
    elif row.allowed == allowed:
        return row  # nothing changes: no history row
    row.allowed, row.changed_at, row.changed_by = allowed, now, actor
    session.add(row)
    session.add(
        MemberConsentChange(
            member_id=member.id,
            channel=channel.value,
            purpose=purpose.value,
            allowed=allowed,
            changed_at=now,
            changed_by=actor,
        )
    )
    session.flush()
    return row


def consent_table(*, session: Session, member_no: str) -> list[dict]:
    """Every (channel, purpose) of a member with the answer in force (defaults included)."""
    consents = member_consents(session=session, member_nos={member_no})[member_no]
    rows = {
        (r.channel, r.purpose): r
        for r in session.execute(
            select(MemberConsent)
            .join(Member, Member.id == MemberConsent.member_id)
            .where(Member.member_no == member_no)
        ).scalars()
    }
    out = []
    for channel in ContactChannel:
        for purpose in Purpose:
            row = rows.get((channel.value, purpose.value))
            out.append(
                {
                    "channel": channel.value,
                    "purpose": purpose.value,
                    "allowed": consent_refusal(consents, channel=channel, purpose=purpose) is None,
                    "changed_at": row.changed_at if row else None,
                    "changed_by": row.changed_by if row else "",
                }
            )
    return out
