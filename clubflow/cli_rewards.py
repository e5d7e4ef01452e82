"""`clubflow rewards ...`: the rewards catalogue (HQ), redeeming for a member, writing a
voucher off at the dealer.

Every change names its actor with `--as`; a refusal is recorded and printed as one line
(exit 2). Voucher codes are shown whole only to the member (in their message) and in the
answer to the redeeming or writing-off command; lists show them masked.
"""

from __future__ import annotations

from pathlib import Path

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(
    help="Rewards: the catalogue, redemption, voucher write-off.", no_args_is_help=True
)

AS_HQ = "The campaign manager's username"


def _terms_values(code: str, **options: object) -> dict[str, str]:
    values = {"code": code}
    for name, value in options.items():
        if value is not None:
            values[name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return values


def _save(values: dict[str, str], as_user: str, now: str | None, *, existing: bool) -> None:
    from domain.models_rewards import Reward
    from domain.rewards import TermsError, parse_terms
    from tasks.members.rewards_catalogue import FIELDS, save_reward

    settings = get_settings()
    moment = parse_now(now)
    with session_scope(settings.database_url) as session:
        if existing:
            from sqlalchemy import select

            stored = session.execute(
                select(Reward).where(Reward.code == values["code"].upper())
            ).scalar_one_or_none()
            if stored is None:
                fail(f"no reward {values['code']!r}: add it first")
            merged = {f: getattr(stored, f) for f in FIELDS}
            merged["refund_on_expiry"] = "yes" if stored.refund_on_expiry else "no"
            merged = {k: str(v) for k, v in merged.items()}
            values = {**merged, **values}
        try:
            terms = parse_terms(values, default_voucher_days=settings.rewards_voucher_days)
        except TermsError as exc:
            fail(f"reward {values['code']}: {exc}")
        outcome = save_reward(
            session=session, terms=terms, by=as_user, now=moment, settings=settings
        )
    if outcome.refused:
        fail(outcome.refused)
    verb = "added" if outcome.created else "updated" if outcome.changed else "unchanged"
    r = outcome.reward
    console.print(
        f"reward {r.code} {verb}: {r.name} ({r.kind}) {r.points} points, stock {r.stock}, "
        f"{r.valid_from}–{r.valid_to}, vouchers {r.voucher_days} days, "
        f"refund on expiry: {'yes' if r.refund_on_expiry else 'no'}",
        soft_wrap=True,
    )


@app.command("add")
def add(
    code: str = typer.Argument(..., help="The reward's code, e.g. WASH-1"),
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option(..., "--kind", help="car_wash, maintenance, labour_credit, ..."),
    points: int = typer.Option(..., "--points", help="Its price in points"),
    stock: int = typer.Option(..., "--stock", help="Vouchers that may be issued"),
    valid_from: str = typer.Option(..., "--from", help="Redeemable from (YYYY-MM-DD)"),
    valid_to: str = typer.Option(..., "--to", help="Redeemable until (YYYY-MM-DD)"),
    voucher_days: int | None = typer.Option(None, "--voucher-days", help="A voucher works N days"),
    refund: bool = typer.Option(False, "--refund/--no-refund", help="Points back on expiry"),
    as_user: str = typer.Option(..., "--as", "--actor", help=AS_HQ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Add a reward to the catalogue (the same row again changes nothing)."""
    values = _terms_values(
        code,
        name=name,
        kind=kind,
        points=points,
        stock=stock,
        valid_from=valid_from,
        valid_to=valid_to,
        voucher_days=voucher_days,
        refund_on_expiry=refund,
    )
    _save(values, as_user, now, existing=False)


@app.command("update")
def update(
    code: str = typer.Argument(..., help="The reward's code"),
    name: str | None = typer.Option(None, "--name"),
    kind: str | None = typer.Option(None, "--kind"),
    points: int | None = typer.Option(None, "--points"),
    stock: int | None = typer.Option(None, "--stock", help="Vouchers left to issue"),
    valid_from: str | None = typer.Option(None, "--from"),
    valid_to: str | None = typer.Option(None, "--to"),
    voucher_days: int | None = typer.Option(None, "--voucher-days"),
    refund: bool | None = typer.Option(None, "--refund/--no-refund"),
    as_user: str = typer.Option(..., "--as", "--actor", help=AS_HQ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Change what is given of a reward; the rest stays."""
    values = _terms_values(
        code,
        name=name,
        kind=kind,
        points=points,
        stock=stock,
        valid_from=valid_from,
        valid_to=valid_to,
        voucher_days=voucher_days,
        refund_on_expiry=refund,
    )
    _save(values, as_user, now, existing=True)


@app.command("withdraw")
def withdraw(
    code: str = typer.Argument(..., help="The reward's code"),
    as_user: str = typer.Option(..., "--as", "--actor", help=AS_HQ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Take a reward out of the catalogue (vouchers already issued stay valid)."""
    from tasks.members.rewards_catalogue import withdraw_reward

    with session_scope(get_settings().database_url) as session:
        outcome = withdraw_reward(
            session=session, code=code.upper(), by=as_user, now=parse_now(now)
        )
    if outcome.refused:
        fail(outcome.refused)
    console.print(f"reward {outcome.reward.code} withdrawn")


@app.command("import")
def import_catalogue(
    path: Path = typer.Argument(..., help="A CSV: code,name,kind,points,stock,valid_from,..."),
    as_user: str = typer.Option(..., "--as", "--actor", help=AS_HQ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Add or update rewards from a CSV; a bad row is named by line and field (exit 2), the
    good rows beside it are kept."""
    from domain.rewards import CATALOGUE_COLUMNS, CATALOGUE_REQUIRED, TermsError, parse_terms
    from domain.tabular import TableError, line_error, read_table
    from tasks.members.rewards_catalogue import save_reward

    try:
        table = read_table(path.read_bytes(), CATALOGUE_COLUMNS, CATALOGUE_REQUIRED)
    except (OSError, TableError) as exc:
        fail(f"{path}: {exc}")
    settings = get_settings()
    moment = parse_now(now)
    errors = [line_error(b.line_no, None, b.reason) for b in table.bad_lines]
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with session_scope(settings.database_url) as session:
        for line_no, record in table.records:
            try:
                terms = parse_terms(record, default_voucher_days=settings.rewards_voucher_days)
            except TermsError as exc:
                errors.append(line_error(line_no, exc.field, exc.reason))
                continue
            outcome = save_reward(
                session=session, terms=terms, by=as_user, now=moment, settings=settings
            )
            if outcome.refused:
                errors.append(line_error(line_no, None, outcome.refused))
                continue
            key = "added" if outcome.created else "updated" if outcome.changed else "unchanged"
            counts[key] += 1
    console.print(
        f"rewards: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {len(errors)} refused",
        soft_wrap=True,
    )
    for error in sorted(errors, key=lambda e: int(e.split()[1].rstrip(":"))):
        console.print(f"error: {error}", soft_wrap=True)
    if errors:
        raise typer.Exit(code=2)


@app.command("list")
def list_catalogue(
    on: str | None = typer.Option(None, "--on", help="Only what can be redeemed that day"),
) -> None:
    """The catalogue: price, stock, redemption window, voucher days, expiry policy."""
    from datetime import date

    from rich.table import Table

    from tasks.members.rewards_catalogue import list_rewards

    day = None
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            fail(f"--on {on!r}: not a date (YYYY-MM-DD)")
    with session_scope(get_settings().database_url) as session:
        rewards = list_rewards(session=session, on=day)
    table = Table("code", "name", "kind", "points", "stock", "redeem", "voucher", "refund")
    for r in rewards:
        table.add_row(
            r.code,
            r.name,
            r.kind,
            str(r.points),
            str(r.stock),
            f"{r.valid_from}–{r.valid_to}" + ("" if r.active else " (withdrawn)"),
            f"{r.voucher_days} d",
            "yes" if r.refund_on_expiry else "no",
        )
    console.print(table)


@app.command("redeem")
def redeem(
    member_no: str = typer.Argument(..., help="The member's number, e.g. M000002"),
    reward: str = typer.Argument(..., help="The reward's code"),
    as_user: str = typer.Option(
        ..., "--as", "--actor", help="Staff redeeming on the member's behalf (or member:<no>)"
    ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Redeem a reward for a member: a voucher, its points taken from the balance; the member
    gets the code by message."""
    from domain.rewards import mask_code
    from tasks.members.redemption import redeem_reward

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        outcome = redeem_reward(
            session=session,
            member_no=member_no,
            reward_code=reward.upper(),
            by=as_user,
            now=parse_now(now),
            settings=settings,
        )
    if outcome.refused:
        fail(f"{member_no} {reward}: {outcome.refused}")
    v = outcome.voucher
    # Staff see the code masked: the member has it in their message.
    shown = v.code if as_user == f"member:{member_no}" else mask_code(v.code)
    console.print(
        f"{member_no}: voucher {shown} for {reward.upper()}, {v.points} points, valid until "
        f"{v.valid_until}; balance {outcome.balance}",
        soft_wrap=True,
    )


@app.command("write-off")
def write_off(
    code: str = typer.Argument(..., help="The voucher's code as the member shows it"),
    as_user: str = typer.Option(..., "--as", "--actor", help="dealer:<code> or dealer staff"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Write a voucher off at the dealer: once, within its validity."""
    from domain.rewards import mask_code, mask_holder, normalise_code
    from tasks.members.voucher_writeoff import write_off_voucher

    with session_scope(get_settings().database_url) as session:
        outcome = write_off_voucher(session=session, code=code, by=as_user, now=parse_now(now))
    if outcome.refused:
        fail(f"voucher {mask_code(normalise_code(code))}: {outcome.refused}")
    v, r, m = outcome.voucher, outcome.reward, outcome.member
    console.print(
        f"voucher {mask_code(v.code)} written off: {r.name} for {mask_holder(m.name, m.phone)}",
        soft_wrap=True,
    )
