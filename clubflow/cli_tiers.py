"""`clubflow members privileges ...` and `clubflow members renew-points`: tier privileges
(HQ edits them) and the renewal of expiring points (docs/tiers.md)."""

from __future__ import annotations

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

privileges_app = typer.Typer(help="Tier privileges: list, HQ sets.", no_args_is_help=True)


def _refused(action: str, subject: str, actor: str, exc: Exception, now) -> None:
    """A refused change is recorded (its own transaction: the change itself rolled back)."""
    from tasks.audit import record_refusal

    with session_scope(get_settings().database_url) as session:
        record_refusal(
            session=session,
            action=action,
            subject=subject[:128],
            actor=actor,
            reason=str(exc),
            now=now,
        )
    fail(str(exc))


@privileges_app.command("list")
def list_cmd(
    tier: str | None = typer.Option(None, "--tier", help="ordinary, silver or gold"),
) -> None:
    """Every tier's privileges (the points multiplier is the setting, read-only)."""
    from domain.tiers import TierError, parse_tiers
    from tasks.members.privileges import list_privileges

    if tier is not None:
        try:
            [tier] = parse_tiers(tier)
        except (TierError, ValueError) as exc:
            fail(f"--tier {tier!r}: {exc}")
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        lines = list_privileges(session=session, settings=settings, tier=tier)
    for line in lines:
        note = "" if line.editable else "  (setting tier_points_multiplier)"
        console.print(f"{line.tier} {line.code} {line.name}: {line.value}{note}", soft_wrap=True)


@privileges_app.command("set")
def set_cmd(
    tier: str = typer.Argument(..., help="ordinary, silver or gold"),
    code: str = typer.Argument(..., help="The privilege code, e.g. extra_maintenance"),
    value: str = typer.Argument(..., help="The new value"),
    as_user: str = typer.Option(..., "--as", help="HQ's username"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """HQ sets a privilege's value; anyone else is refused (recorded)."""
    from domain.tiers import TierError, parse_tiers
    from tasks.members.privileges import set_privilege

    try:
        [tier] = parse_tiers(tier)
    except (TierError, ValueError) as exc:
        fail(f"tier {tier!r}: {exc}")
    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            set_privilege(
                session=session, tier=tier, code=code, value=value, by=as_user, now=moment
            )
    except TierError as exc:
        _refused("members.privileges.set", f"privilege:{tier}:{code}", as_user, exc, moment)
    console.print(f"{tier} {code}: {value} (set by {as_user})")


def renew_points_cmd(
    member_no: str = typer.Argument(..., help="The member number, e.g. M000001"),
    as_user: str = typer.Option(..., "--as", help="HQ's username, or member:<MEMBER_NO>"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Renew the member's points expiring soon (tiers and months by policy; once a grant)."""
    from domain.tiers import TierError
    from tasks.members.renewal import renew_points

    moment = parse_now(now)
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            report = renew_points(
                session=session, member_no=member_no, by=as_user, now=moment, settings=settings
            )
    except TierError as exc:
        _refused("members.renew-points", f"member:{member_no}", as_user, exc, moment)
    if not report.renewed:
        console.print(f"{member_no}: no points to renew")
    for r in report.renewed:
        console.print(
            f"{member_no}: {r.amount} points expiring {r.expires_on} now expire {r.new_expires_on}"
        )
