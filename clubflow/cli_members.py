"""`clubflow members ...`: import registrations, activate a member, show a member's card.

Phones are always shown masked.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy import select

from clubflow.cli_common import console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import BUSINESS_TZ
from domain.privacy import mask_phone, mask_text

app = typer.Typer(help="Members: registration, activation, points.", no_args_is_help=True)

# CSV headers accepted for each field (English or the Chinese a dealer's sheet uses).
COLUMNS = {
    "name": ("name", "姓名"),
    "phone": ("phone", "手机", "手机号"),
    "club_code": ("club", "club_code", "俱乐部"),
    "dealer_code": ("dealer", "dealer_code", "经销商"),
    "birthday": ("birthday", "生日"),
    "referral_code": ("referral_code", "推荐码"),
    "marketing_consent": ("marketing_consent", "营销同意"),
}
# Yes answers of the marketing consent column; anything else (or empty) is no.
CONSENT_YES = {"yes", "y", "true", "1", "是", "同意"}


def read_registrations(file: Path, column_map: list[str] | None = None) -> tuple[list, list[str]]:
    """Rows of a registration CSV (UTF-8 or GBK) as inputs, and the rows refused with line and
    field. `column_map`: HEADER=FIELD for headers the known names miss."""
    from domain.members import RegistrationInput
    from domain.tabular import TableError, line_error, parse_column_map, read_table

    try:
        table = read_table(
            file.read_bytes(), COLUMNS, ("name", "phone"), parse_column_map(column_map, COLUMNS)
        )
    except TableError as exc:
        fail(f"{file}: {exc}")
    rows, refused = [], [mask_text(bad.reason) for bad in table.bad_lines]
    for line, record in table.records:
        values = {f: record.get(f) or None for f in table.columns}
        try:
            if values.get("birthday"):
                try:
                    values["birthday"] = date.fromisoformat(values["birthday"])
                except ValueError as exc:
                    raise ValueError(f"birthday {values['birthday']!r}: {exc}") from exc
            if "marketing_consent" in values:
                answer = (values["marketing_consent"] or "").strip().lower()
                values["marketing_consent"] = answer in CONSENT_YES
            rows.append(RegistrationInput(**{k: v for k, v in values.items() if v is not None}))
        except ValidationError as exc:
            reason = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            refused.append(line_error(line, None, mask_text(reason)))
        except ValueError as exc:
            refused.append(line_error(line, None, mask_text(str(exc))))
    return rows, refused


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Registration CSV"),
    source: str = typer.Option("import", help="Source recorded on the registrations"),
    now: str | None = typer.Option(None, help="Business time, e.g. 2027-03-01T10:00"),
    column: list[str] = typer.Option(
        [], "--map", help="HEADER=FIELD for a header the known names miss, e.g. 联系方式=phone"
    ),
) -> None:
    """Register the members of a CSV (name, phone, club or dealer, birthday, referral_code);
    a phone already known merges into its member. Activation codes are queued for sending."""
    from tasks.members.registration import register_members

    registrations, refused = read_registrations(file, column)
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        result = register_members(
            session=session,
            registrations=registrations,
            now=parse_now(now),
            source=source,
            settings=settings,
        )
    console.print(
        f"{len(result.created)} new, {len(result.merged)} merged, {len(result.reopened)} "
        f"reopened, {len(result.rejected) + len(refused)} rejected; "
        f"{result.queued} activation codes queued"
    )
    for reason in refused + result.rejected:
        console.print(f"  [yellow]rejected[/yellow] {reason}")
    for warning in result.warnings:
        console.print(f"  [yellow]warning[/yellow] {warning}")


@app.command("activate")
def activate(
    member_no: str = typer.Argument(..., help="Member number, e.g. M000061"),
    code: str | None = typer.Option(None, help="The activation code the member received"),
    dealer: str | None = typer.Option(None, help="Dealer code confirming at the store"),
    now: str | None = typer.Option(None, help="Business time, e.g. 2027-03-01T10:00"),
) -> None:
    """Activate a member by code or by a dealer's store confirmation."""
    from tasks.members.registration import ActivationError, activate_member

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            outcome = activate_member(
                session=session,
                member_no=member_no,
                code=code,
                dealer_code=dealer,
                now=parse_now(now),
                settings=settings,
            )
    except ActivationError as exc:
        fail(str(exc))
    console.print(f"member {member_no}: {outcome}")


@app.command("show")
def show(member_no: str = typer.Argument(..., help="Member number, e.g. M000061")) -> None:
    """A member's card: status, tier, rank, points, segment, and the last ledger rows."""
    from rich.table import Table

    from domain.models import Club, Member, PointsEntry

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        member = session.execute(
            select(Member).where(Member.member_no == member_no)
        ).scalar_one_or_none()
        if member is None:
            fail(f"member {member_no!r} is unknown")
        club = session.get(Club, member.club_id) if member.club_id else None
        rows = session.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member.id)
            .order_by(PointsEntry.occurred_at.desc(), PointsEntry.id.desc())
            .limit(10)
        ).scalars()
        card = Table(title=f"member {member.member_no}", show_header=False)
        card.add_column("field")
        card.add_column("value")
        for field, value in (
            ("name", member.name),
            ("phone", mask_phone(member.phone)),
            ("club", club.name if club else "—"),
            ("status", member.status),
            ("tier", str(member.tier)),
            ("rank", member.rank),
            ("points", str(member.points)),
            ("service visits", str(member.service_visits)),
            ("segment", f"{member.segment or '—'} since {member.segment_since or '—'}"),
            ("birthday", member.birthday.strftime("%m-%d") if member.birthday else "—"),
            ("referral code", member.referral_code or "—"),
        ):
            card.add_row(field, value)
        console.print(card)
        ledger = Table(title="last points")
        for column in ("when", "amount", "reason", "expires"):
            ledger.add_column(column)
        for row in rows:
            ledger.add_row(
                row.occurred_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d"),
                f"{row.amount:+d}",
                row.reason,
                row.expires_on.isoformat() if row.expires_on else "",
            )
        console.print(ledger)
