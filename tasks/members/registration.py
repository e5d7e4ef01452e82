"""Registration and activation: register (merging duplicates by normalised phone), send the
activation code, activate by code or by a dealer, remind on day 3, expire at the window's end.

Every state change and the notification it causes are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy import func, select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.members import (
    MemberStatus,
    RegistrationInput,
    activation_code,
    activation_window,
    code_matches,
    move_member,
    recipient,
    zh_date,
)
from domain.models import Club, Dealer, Member
from domain.models_members import MemberActivation
from domain.phones import PhoneError, normalise_phone
from domain.privacy import mask_phone, mask_text
from tasks.common import chunks, data_task, run_logger
from tasks.outbox import NotificationRequest, queue_notifications
from tasks.retention.consent import record_registration_consent


class ActivationError(ValueError):
    """An activation that cannot be accepted; the message names the member and the reason."""


@dataclass
class RegistrationResult:
    created: list[str] = field(default_factory=list)  # member numbers
    merged: list[str] = field(default_factory=list)  # already known: details completed
    reopened: list[str] = field(default_factory=list)  # expired: a new activation round
    rejected: list[str] = field(default_factory=list)  # "row 3 (王伟): phone ... "
    warnings: list[str] = field(default_factory=list)
    queued: int = 0


@dataclass
class ActivationSweep:
    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def _secret(settings: Settings) -> str:
    return settings.signing_key.get_secret_value()


def _code_request(
    settings: Settings, no: str, name: str, round_no: int, last_day: date, *, urgent: bool
) -> NotificationRequest:
    return NotificationRequest(
        recipient=recipient(no),
        template="member_activation_code",
        context={
            "name": name,
            "member_no": no,
            "code": activation_code(_secret(settings), no, round_no),
            "last_day": zh_date(last_day),
        },
        idem_key=f"member:{no}:activation:{round_no}:code",
        # A member registering in the app or at the counter waits for the code right now; a
        # bulk import respects quiet hours.
        urgent=urgent,
    )


# ---------------------------------------------------------------- registration


def _resolve_rows(
    session: Session,
    registrations: list[RegistrationInput],
    source: str,
    result: RegistrationResult,
) -> dict[str, dict]:
    """Normalised phone → what to register; bad rows go to `result.rejected` by row number.

    One entry per phone: a later row of the same phone only fills what earlier rows lack.
    """
    clubs = dict(session.execute(select(Club.code, Club.id)).all())
    dealer_clubs = dict(
        session.execute(select(Dealer.code, Club.id).join(Club, Club.dealer_id == Dealer.id)).all()
    )
    referral_codes = {r.referral_code.strip().upper() for r in registrations if r.referral_code}
    referrers = (
        dict(
            session.execute(
                select(Member.referral_code, Member.id).where(
                    Member.referral_code.in_(referral_codes)
                )
            ).all()
        )
        if referral_codes
        else {}
    )

    wanted: dict[str, dict] = {}
    for index, reg in enumerate(registrations, start=1):
        label = f"row {index} ({reg.name})"
        try:
            phone = normalise_phone(reg.phone)
        except PhoneError as exc:
            result.rejected.append(
                f"{label}: {mask_text(f'phone {reg.phone.strip()!r} {exc.reason}')}"
            )
            continue
        club_id, row_source = None, source
        if reg.dealer_code:
            club_id = dealer_clubs.get(reg.dealer_code.strip())
            if club_id is None:
                result.rejected.append(f"{label}: dealer_code {reg.dealer_code!r} has no club")
                continue
            row_source = f"dealer:{reg.dealer_code.strip()}"
        elif reg.club_code:
            club_id = clubs.get(reg.club_code.strip())
            if club_id is None:
                result.rejected.append(f"{label}: club_code {reg.club_code!r} is unknown")
                continue
        referrer_id = None
        if reg.referral_code:
            referrer_id = referrers.get(reg.referral_code.strip().upper())
            if referrer_id is None:
                result.warnings.append(
                    f"{label}: referral_code {reg.referral_code!r} is unknown; registered "
                    "without a referrer"
                )
        entry = wanted.setdefault(
            phone,
            {
                "name": reg.name.strip(),
                "source": row_source,
                "club_id": None,
                "birthday": None,
                "referred_by_id": None,
                "marketing_consent": False,
            },
        )
        entry["marketing_consent"] = entry["marketing_consent"] or reg.marketing_consent
        for key, value in (
            ("club_id", club_id),
            ("birthday", reg.birthday),
            ("referred_by_id", referrer_id),
        ):
            if entry[key] is None and value is not None:
                entry[key] = value

    return wanted


def _lapsed_rounds(
    session: Session, member_ids: list[int], today: date
) -> dict[int, MemberActivation]:
    """The open activation rounds of these members whose window ended before `today`."""
    lapsed = {}
    for batch in chunks(member_ids):
        rows = session.execute(
            select(MemberActivation).where(
                MemberActivation.member_id.in_(batch),
                MemberActivation.activated_at.is_(None),
                MemberActivation.expired_at.is_(None),
                MemberActivation.expires_on <= today,
            )
        ).scalars()
        lapsed.update({row.member_id: row for row in rows})
    return lapsed


def register_members(
    *,
    session: Session,
    registrations: list[RegistrationInput],
    now: datetime,
    source: str = "online",
    settings: Settings,
) -> RegistrationResult:
    """Register members in one batch; a phone already known merges into its member.

    New members (and members whose earlier registration expired) get an activation round and
    their code; active or still-pending members keep theirs and only have missing details
    (club, birthday, referrer) completed. Bad rows are rejected by row, the rest go through.
    """
    result = RegistrationResult()
    today = business_date(now)
    wanted = _resolve_rows(session, registrations, source, result)
    existing = _members_by_phone(session, sorted(wanted))
    # A pending registration whose window has ended counts as expired even if the daily
    # sweep has not marked it yet: registering again starts a new round.
    lapsed = _lapsed_rounds(
        session, [m.id for m in existing.values() if m.status == MemberStatus.registered], today
    )
    for activation in lapsed.values():
        activation.expired_at = now
    reopen = _merge_into_existing(wanted, existing, set(lapsed), result)
    created = _create_members(session, wanted, existing, now)
    result.created = [m.member_no for m in created]
    for member in created:
        record_registration_consent(
            session=session,
            member_id=member.id,
            marketing=wanted[member.phone]["marketing_consent"],
            now=now,
        )
    requests = _start_activation_rounds(
        session, created + reopen, wanted, reopen, today=today, now=now, settings=settings
    )
    if requests:
        result.queued = queue_notifications(
            session=session, requests=requests, now=now, settings=settings
        ).queued
    session.flush()
    run_logger("members").info(
        "registered %s new, %s merged, %s reopened, %s rejected",
        len(result.created),
        len(result.merged),
        len(result.reopened),
        len(result.rejected),
    )
    return result


def _members_by_phone(session: Session, phones: list[str]) -> dict[str, Member]:
    existing = {}
    for batch in chunks(phones):
        for member in session.execute(select(Member).where(Member.phone.in_(batch))).scalars():
            existing[member.phone] = member
    return existing


def _merge_into_existing(
    wanted: dict[str, dict],
    existing: dict[str, Member],
    lapsed_ids: set[int],
    result: RegistrationResult,
) -> list[Member]:
    """Complete known members' missing details; the expired or lapsed ones, returned, start a
    new activation round."""
    reopen: list[Member] = []
    for phone, entry in wanted.items():
        member = existing.get(phone)
        if member is None:
            continue
        for key in ("club_id", "birthday"):
            if getattr(member, key) is None and entry[key] is not None:
                setattr(member, key, entry[key])
        if (
            member.referred_by_id is None
            and entry["referred_by_id"] not in (None, member.id)
            and member.status != MemberStatus.active  # a referral counts before joining only
        ):
            member.referred_by_id = entry["referred_by_id"]
        if member.status == MemberStatus.expired or member.id in lapsed_ids:
            if member.status != MemberStatus.registered:  # lapsed: still registered, new round
                member.status = move_member(member.status, MemberStatus.registered)
            reopen.append(member)
            result.reopened.append(member.member_no)
        else:
            result.merged.append(member.member_no)
    return reopen


def _create_members(
    session: Session, wanted: dict[str, dict], existing: dict[str, Member], now: datetime
) -> list[Member]:
    new_rows = [
        {
            # A placeholder number until the id is known (the phone keeps it unique).
            "member_no": f"new:{phone}",
            "name": entry["name"],
            "phone": phone,
            "club_id": entry["club_id"],
            "birthday": entry["birthday"],
            "referred_by_id": entry["referred_by_id"],
            "tier": "ordinary",
            "points": 0,
            "rank": "陪戎校尉",
            "service_visits": 0,
            "status": MemberStatus.registered,
            "joined_at": now,
        }
        for phone, entry in wanted.items()
        if phone not in existing
    ]
    new_ids = insert_ignoring_conflicts(session, Member, new_rows, on=["phone"])
    created: list[Member] = []
    if new_ids:
        session.execute(
            update(Member),
            [{"id": i, "member_no": f"M{i:06d}", "referral_code": f"YL{i:06d}"} for i in new_ids],
        )
        for batch in chunks(new_ids):
            created += session.execute(
                select(Member).where(Member.id.in_(batch)).order_by(Member.id)
            ).scalars()
    return created


def _start_activation_rounds(
    session: Session,
    starting: list[Member],
    wanted: dict[str, dict],
    reopen: list[Member],
    *,
    today: date,
    now: datetime,
    settings: Settings,
) -> list[NotificationRequest]:
    """Activation rounds for new and reopened members, and the messages with their codes."""
    sources = {m.id: wanted[m.phone]["source"] for m in starting}
    last_round = {}
    if reopen:
        last_round = dict(
            session.execute(
                select(MemberActivation.member_id, func.max(MemberActivation.round))
                .where(MemberActivation.member_id.in_([m.id for m in reopen]))
                .group_by(MemberActivation.member_id)
            ).all()
        )
    window = activation_window(
        today,
        window_days=settings.activation_window_days,
        reminder_day=settings.activation_reminder_day,
    )
    rounds = [
        {
            "member_id": m.id,
            "round": last_round.get(m.id, 0) + 1,
            "source": sources[m.id],
            "registered_at": now,
            "reminder_on": window.reminder_on,
            "expires_on": window.expires_on,
            "failed_attempts": 0,
        }
        for m in starting
    ]
    insert_ignoring_conflicts(session, MemberActivation, rounds, on=["member_id", "round"])
    return [
        _code_request(
            settings,
            m.member_no,
            m.name,
            row["round"],
            window.last_day,
            urgent=row["source"] != "import",
        )
        for m, row in zip(starting, rounds, strict=True)
    ]


# ---------------------------------------------------------------- activation


def activate_member(
    *,
    session: Session,
    member_no: str,
    now: datetime,
    code: str | None = None,
    dealer_code: str | None = None,
    settings: Settings,
) -> str:
    """Activate with the member's code, or by a dealer's store confirmation.

    Returns "activated" or "already active" (a repeat changes nothing); raises
    ActivationError naming the member and why otherwise.
    """
    if (code is None) == (dealer_code is None):
        raise ActivationError(f"member {member_no}: give either the code or the dealer code")
    member = session.execute(
        select(Member).where(Member.member_no == member_no)
    ).scalar_one_or_none()
    if member is None:
        raise ActivationError(f"member {member_no!r} is unknown")
    if member.status == MemberStatus.active:
        return "already active"
    current = session.execute(
        select(MemberActivation)
        .where(MemberActivation.member_id == member.id)
        .order_by(MemberActivation.round.desc())
        .limit(1)
    ).scalar_one_or_none()
    if current is None:
        raise ActivationError(f"member {member_no}: no registration is waiting for activation")
    today = business_date(now)
    if member.status == MemberStatus.expired or today >= current.expires_on:
        raise ActivationError(
            f"member {member_no}: the activation window ended on {current.expires_on}; "
            "register again for a new code"
        )
    if dealer_code is not None:
        dealer = session.execute(
            select(Dealer).where(Dealer.code == dealer_code.strip())
        ).scalar_one_or_none()
        if dealer is None or not dealer.active:
            raise ActivationError(
                f"member {member_no}: dealer {dealer_code!r} is unknown or inactive"
            )
        by = f"dealer:{dealer.code}"
    else:
        if current.failed_attempts >= settings.activation_max_attempts:
            raise ActivationError(
                f"member {member_no}: too many wrong codes; a dealer can confirm the "
                "activation at the store"
            )
        if not code_matches(_secret(settings), member_no, current.round, code or ""):
            current.failed_attempts += 1
            # Kept although the activation is refused: the caller's rollback must not undo it.
            session.commit()
            left = settings.activation_max_attempts - current.failed_attempts
            raise ActivationError(
                f"member {member_no}: the activation code is wrong ({left} attempts left)"
            )
        by = "member"
    current.activated_at = now
    current.activated_by = by
    member.status = move_member(member.status, MemberStatus.active)
    member.activated_at = now
    member.last_interaction_at = max(filter(None, [member.last_interaction_at, now]))
    session.flush()
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=recipient(member_no),
                template="member_activated",
                context={
                    "name": member.name,
                    "member_no": member_no,
                    "referral_code": member.referral_code or "",
                    "by_dealer": by != "member",
                },
                idem_key=f"member:{member_no}:activated",
            )
        ],
        now=now,
        settings=settings,
    )
    run_logger("members").info(
        "member %s activated by %s (%s)", member_no, by, mask_phone(member.phone)
    )
    return "activated"


def sweep_activations(*, session: Session, now: datetime, settings: Settings) -> ActivationSweep:
    """Remind pending registrations from their reminder day, expire them on their expiry day.

    A registration whose reminder day was missed (the sweep did not run) is reminded at the
    next sweep if its window is still open, else only expired.
    """
    today = business_date(now)
    rows = session.execute(
        select(MemberActivation, Member.member_no, Member.name)
        .join(Member, Member.id == MemberActivation.member_id)
        .where(
            MemberActivation.activated_at.is_(None),
            MemberActivation.expired_at.is_(None),
            MemberActivation.reminder_on <= today,
            Member.status == MemberStatus.registered,
        )
    ).all()
    sweep = ActivationSweep()
    to_expire, to_remind, requests = [], [], []
    for activation, no, name in rows:
        if today >= activation.expires_on:
            to_expire.append(activation)
            sweep.expired.append(no)
            requests.append(
                NotificationRequest(
                    recipient=recipient(no),
                    template="member_activation_expired",
                    context={"name": name, "member_no": no},
                    idem_key=f"member:{no}:activation:{activation.round}:expired",
                )
            )
        elif activation.reminded_at is None:
            to_remind.append(activation)
            sweep.reminded.append(no)
            last_day = activation.expires_on.toordinal() - 1
            requests.append(
                NotificationRequest(
                    recipient=recipient(no),
                    template="member_activation_reminder",
                    context={
                        "name": name,
                        "member_no": no,
                        "code": activation_code(_secret(settings), no, activation.round),
                        "last_day": zh_date(date.fromordinal(last_day)),
                        "days_left": activation.expires_on.toordinal() - today.toordinal(),
                    },
                    idem_key=f"member:{no}:activation:{activation.round}:reminder",
                )
            )
    for batch in chunks([a.id for a in to_remind]):
        session.execute(
            update(MemberActivation).where(MemberActivation.id.in_(batch)).values(reminded_at=now)
        )
    for batch in chunks(to_expire):
        session.execute(
            update(MemberActivation)
            .where(MemberActivation.id.in_([a.id for a in batch]))
            .values(expired_at=now)
        )
        session.execute(
            update(Member)
            .where(Member.id.in_([a.member_id for a in batch]))
            .values(status=move_member(MemberStatus.registered, MemberStatus.expired))
        )
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return sweep


@task(name="publish-member-registrations")
def publish_registrations(result: RegistrationResult) -> None:
    """The run's registrations as a markdown artifact (phones masked)."""
    lines = [
        f"- new members: {len(result.created)}",
        f"- merged into known members: {len(result.merged)}",
        f"- expired registrations reopened: {len(result.reopened)}",
        f"- rejected: {len(result.rejected)}",
        *[f"  - {reason}" for reason in result.rejected[:50]],
        *[f"- warning: {warning}" for warning in result.warnings[:50]],
    ]
    create_markdown_artifact(
        key="member-registrations",
        markdown="### Member registrations\n\n" + "\n".join(lines),
        description="Registrations of this run (phones masked)",
    )


@task(name="publish-activation-sweep")
def publish_activation_sweep(sweep: ActivationSweep) -> None:
    """Who was reminded and who expired, as a table artifact (none when nobody was)."""
    rows = [{"member": no, "action": "reminded"} for no in sweep.reminded]
    rows += [{"member": no, "action": "expired"} for no in sweep.expired]
    if rows:
        create_table_artifact(
            key="member-activation-sweep",
            table=rows,
            description="Registrations reminded (day 3) and expired (end of the window)",
        )


register_members_task = data_task(
    register_members, name="store-member-registrations", retries=2, retry_delay_seconds=5
)
activate_member_task = data_task(activate_member, name="activate-member-account")
sweep_activations_task = data_task(sweep_activations, retries=2, retry_delay_seconds=5)
