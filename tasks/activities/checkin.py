"""Registration and check-in (报名, 签到). Only checked-in members are participants.

A check-in of a member who never registered registers them; a member checked in twice
counts once (one registration row per activity and member; the first check-in time stays).
Set-based: one import of thousands of rows is a handful of statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain import calendar
from domain.activities import CheckinRow
from domain.instants import parse_instant
from domain.models import Activity, Member, Registration
from domain.permissions import club_refusal
from domain.phones import phone_key
from domain.privacy import mask_phone
from domain.tabular import TableError, parse_column_map, read_table
from domain.tiers import tier_refusal
from tasks.activities.refusals import RETRY, ActivityError, CheckinError
from tasks.activities.store import get_activity
from tasks.audit import actor_of, club_owners, record_refusal
from tasks.common import data_task, run_logger

OPEN_FOR_CHECKIN = ("approved", "announced")
TRUE_WORDS = {"1", "true", "yes", "y", "是", "组织者", "organiser", "organizer"}


@dataclass
class CheckinReport:
    rows: int = 0
    participants: int = 0  # checked-in members of the activity after this import
    newly_registered: int = 0  # checked in without having registered
    newly_checked_in: int = 0
    already_checked_in: int = 0


# Header names (en and zh) of each check-in field, read by domain.tabular.
CHECKIN_COLUMNS = {
    "member_no": ("member_no", "会员号", "会员编号"),
    "phone": ("phone", "mobile", "手机", "手机号", "电话"),
    "checked_in_at": ("checked_in_at", "签到时间"),
    "organiser": ("organiser", "organizer", "组织者"),
}


def parse_checkin_csv(
    data: str | bytes, column_map: list[str] | dict[str, str] | None = None
) -> list[CheckinRow]:
    """Columns: member_no or phone (one is required), checked_in_at (ISO, optional),
    organiser (optional: 1/true/yes/是). UTF-8 (with or without BOM) or GBK. `column_map`
    (HEADER=FIELD items, or a dict) names headers the known names miss."""
    try:
        mapping = parse_column_map(column_map, CHECKIN_COLUMNS)
        table = read_table(data, CHECKIN_COLUMNS, column_map=mapping)
    except TableError as exc:
        raise CheckinError(f"check-in file: {exc}") from None
    if not table.columns.keys() & {"member_no", "phone"}:
        raise CheckinError("check-in file: needs a member_no or phone column")
    if table.bad_lines:
        raise CheckinError(table.bad_lines[0].reason.replace("line", "row", 1))
    rows = []
    for number, row in table.records:  # line 1 is the header
        if not row.get("member_no") and not row.get("phone"):
            raise CheckinError(f"row {number}: member_no and phone are both empty")
        at = None
        if row.get("checked_in_at"):
            try:
                at = parse_instant(row["checked_in_at"])  # no zone: Beijing time
            except ValueError:
                raise CheckinError(
                    f"row {number}: checked_in_at {row['checked_in_at']!r} is not an ISO time"
                ) from None
        rows.append(
            CheckinRow(
                member_no=row.get("member_no") or None,
                phone=row.get("phone") or None,
                checked_in_at=at,
                organiser=row.get("organiser", "").lower() in TRUE_WORDS,
                line=number,
            )
        )
    return rows


def _normalise_phone(phone: str) -> str:
    # Members are stored under domain.phones' form; a value that is no number finds nobody.
    return phone_key(phone) or phone.strip()


def _resolve_members(*, session: Session, rows: list[CheckinRow]) -> dict[int, int]:
    """Row index → member id; an unknown member is refused naming its row (masked phone)."""
    numbers = {r.member_no for r in rows if r.member_no}
    phones = {_normalise_phone(r.phone) for r in rows if r.phone and not r.member_no}
    by_no = dict(
        session.execute(
            select(Member.member_no, Member.id).where(Member.member_no.in_(numbers))
        ).all()
    )
    by_phone = dict(
        session.execute(select(Member.phone, Member.id).where(Member.phone.in_(phones))).all()
    )
    out = {}
    for index, row in enumerate(rows):
        where = f"row {row.line}" if row.line else f"check-in #{index + 1}"
        if row.member_no:
            member_id = by_no.get(row.member_no)
            if member_id is None:
                raise CheckinError(f"{where}: member_no {row.member_no!r} is not a member")
        else:
            member_id = by_phone.get(_normalise_phone(row.phone))
            if member_id is None:
                raise CheckinError(f"{where}: phone {mask_phone(row.phone)} is not a member")
        out[index] = member_id
    return out


def club_actor_refusal(*, session: Session, activity: Activity, by: str, action: str) -> str | None:
    """Why `by` may not do `action` for this activity's club (its admins and its dealer may)."""
    dealer_id, club = club_owners(session=session, club_id=activity.club_id)
    return club_refusal(
        actor_of(session=session, username=by),
        username=by,
        club_id=activity.club_id,
        dealer_id=dealer_id,
        club=club,
        action=action,
    )


def checkin_refusal(
    *, session: Session, code: str, rows: list[CheckinRow], by: str, now: datetime
) -> str | None:
    """Everything that refuses a check-in import before it writes: the actor, the activity's
    state and day, and every row's member (the first bad one, by row). Records the refusal."""
    try:
        activity = get_activity(session=session, code=code)
        reason = club_actor_refusal(session=session, activity=activity, by=by, action="check-in")
        if reason is None and activity.status not in OPEN_FOR_CHECKIN:
            reason = f"activity {code} is {activity.status}; check-in is not open"
        if reason is None and calendar.business_date(now) < activity.starts_on:
            reason = f"activity {code} starts on {activity.starts_on}; check-in opens then"
        if reason is None:
            _resolve_members(session=session, rows=rows)
    except (LookupError, CheckinError) as exc:
        reason = str(exc)
    if reason is not None:
        record_refusal(
            session=session,
            action="activity.checkin",
            subject=f"activity:{code}",
            actor=by,
            reason=reason,
            now=now,
            details={"rows": len(rows)},
        )
    return reason


class TierRefusedError(ActivityError):
    """A tier-only activity refuses a member of another tier (the caller records it)."""


def _refuse_other_tiers(*, session: Session, activity, member_ids) -> None:
    """Nobody is registered when one member's tier is not allowed: the reason names the
    member, their tier and the allowed tiers."""
    rows = session.execute(
        select(Member.member_no, Member.tier)
        .where(Member.id.in_(sorted(set(member_ids))))
        .order_by(Member.member_no)
    ).all()
    for member_no, tier in rows:
        reason = tier_refusal(tier, activity.tiers)
        if reason is not None:
            raise TierRefusedError(f"activity {activity.code}: member {member_no}: {reason}")


def register_members(*, session: Session, code: str, member_nos: list[str], now: datetime) -> int:
    """报名: register members for an activity; returns how many were new."""
    activity = get_activity(session=session, code=code)
    if activity.status not in OPEN_FOR_CHECKIN:
        raise ActivityError(f"activity {code} is {activity.status}; registration is closed")
    rows = [CheckinRow(member_no=no) for no in member_nos]
    members = _resolve_members(session=session, rows=rows)
    if activity.tiers:
        _refuse_other_tiers(session=session, activity=activity, member_ids=members.values())
    new = insert_ignoring_conflicts(
        session,
        Registration,
        [
            {
                "activity_id": activity.id,
                "member_id": member_id,
                "registered_at": now,
                "is_organiser": False,
                "source": "app",
            }
            for member_id in sorted(set(members.values()))
        ],
        on=["activity_id", "member_id"],
    )
    return len(new)


def check_in(
    *, session: Session, code: str, rows: list[CheckinRow], now: datetime, source: str = "csv"
) -> CheckinReport:
    """签到: record check-ins (from the start day on); importing a file again changes nothing."""
    activity = get_activity(session=session, code=code)
    if activity.status not in OPEN_FOR_CHECKIN:
        raise ActivityError(f"activity {code} is {activity.status}; check-in is not open")
    if calendar.business_date(now) < activity.starts_on:
        raise ActivityError(f"activity {code} starts on {activity.starts_on}; check-in opens then")
    members = _resolve_members(session=session, rows=rows)

    # The earliest time per member, and whether any row names them organiser.
    first: dict[int, datetime] = {}
    organisers: set[int] = set()
    for index, row in enumerate(rows):
        member_id = members[index]
        at = row.checked_in_at or now
        if member_id not in first or at < first[member_id]:
            first[member_id] = at
        if row.organiser:
            organisers.add(member_id)

    report = CheckinReport(rows=len(rows))
    ids = sorted(first)
    report.already_checked_in = session.execute(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.activity_id == activity.id,
            Registration.member_id.in_(ids),
            Registration.checked_in_at.is_not(None),
        )
    ).scalar_one()
    report.newly_registered = len(
        insert_ignoring_conflicts(
            session,
            Registration,
            [
                {
                    "activity_id": activity.id,
                    "member_id": member_id,
                    "registered_at": first[member_id],
                    "is_organiser": False,
                    "source": source,
                }
                for member_id in ids
            ],
            on=["activity_id", "member_id"],
        )
    )
    # Only rows not yet checked in get a time: the first check-in stays the record.
    if ids:
        table = Registration.__table__
        session.connection().execute(
            update(table)
            .where(
                table.c.activity_id == activity.id,
                table.c.member_id == bindparam("member"),
                table.c.checked_in_at.is_(None),
            )
            .values(checked_in_at=bindparam("at")),
            [{"member": member_id, "at": first[member_id]} for member_id in ids],
        )
    if organisers:
        session.execute(
            update(Registration)
            .where(
                Registration.activity_id == activity.id,
                Registration.member_id.in_(sorted(organisers)),
            )
            .values(is_organiser=True)
        )
    report.newly_checked_in = len(ids) - report.already_checked_in
    report.participants = participant_count(session=session, activity_id=activity.id)
    run_logger("activities").info(
        "activity %s: %s rows, %s new check-ins (%s registered on the spot), %s participants",
        code,
        report.rows,
        report.newly_checked_in,
        report.newly_registered,
        report.participants,
    )
    return report


def participant_count(*, session: Session, activity_id: int) -> int:
    return session.execute(
        select(func.count())
        .select_from(Registration)
        .where(Registration.activity_id == activity_id, Registration.checked_in_at.is_not(None))
    ).scalar_one()


# A refused check-in is recorded and returned: an answer, not a failed run.
checkin_refusal_task = data_task(
    checkin_refusal, name="check-checkin", retries=2, retry_delay_seconds=[2, 10]
)
register_members_task = data_task(register_members, name="register-activity-members", **RETRY)
check_in_task = data_task(check_in, name="check-in-members", **RETRY)
