"""`clubflow leads roster ...`: the call agents' roster (days off, night cover on peak dates).

Only the call supervisor changes it; a refusal is recorded. Everyone is on duty every day
unless a day off is recorded.
"""

from __future__ import annotations

from datetime import date

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(help="The call agents' roster: days off, night cover.", no_args_is_help=True)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: not a date (YYYY-MM-DD)")


@app.command("set")
def set_days(
    agent: str = typer.Argument(..., help="The agent's username"),
    off: list[str] = typer.Option([], "--off", help="A day off, e.g. 2026-12-05 (repeatable)"),
    on: list[str] = typer.Option([], "--on", help="Back on duty that day (repeatable)"),
    night: list[str] = typer.Option([], "--night", help="Night cover on a peak date (repeatable)"),
    as_user: str = typer.Option(..., "--as", "--actor", help="The call supervisor's username"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record an agent's days off, days back on duty and nights covered."""
    from tasks.leads.common import LeadsError
    from tasks.leads.roster import NIGHT, OFF, ON, set_roster

    days: dict[date, str] = {}
    for state, values, option in ((OFF, off, "--off"), (ON, on, "--on"), (NIGHT, night, "--night")):
        for value in values:
            day = _day(value, option)
            if day in days and days[day] != state:
                fail(f"{option} {value}: the day is also given as {days[day]}")
            days[day] = state
    if not days:
        fail("give at least one --off, --on or --night day")
    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            change = set_roster(session=session, agent=agent, days=days, by=as_user, now=moment)
    except LeadsError as exc:
        from clubflow.cli_leads import _refused

        _refused("leads.roster", f"roster:{agent}", as_user, exc, moment)
    for day, state in change.days.items():
        console.print(f"{agent} {day.isoformat()}: {state}")


@app.command("show")
def show(
    week_of: str | None = typer.Option(None, "--week-of", help="A day of the week to show"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The week's roster (Monday to Sunday): 班 on duty, 休 off, 夜 night cover; peak dates
    marked, with their night cover against the minimum."""
    from domain.calendar import business_date
    from tasks.leads.roster import LABELS, roster_week

    day = _day(week_of, "--week-of") if week_of else business_date(parse_now(now))
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        week = roster_week(session=session, week_of=day, settings=settings)
    # Plain lines, not a table: a week of columns must not wrap on a narrow terminal.
    console.print(
        f"roster {week.days[0].isoformat()} – {week.days[-1].isoformat()}", soft_wrap=True
    )
    heads = [
        f"{d:%m-%d}{'一二三四五六日'[d.weekday()]}{'*' if d in week.peak else ''}"
        for d in week.days
    ]
    console.print("agent " + " ".join(heads), soft_wrap=True)
    for (username, name), states in week.agents.items():
        cells = " ".join(LABELS[states[d]] for d in week.days)
        console.print(f"{username} {name}: {cells}", soft_wrap=True)
    for d in sorted(week.peak):
        short = " (short)" if week.short(d) else ""
        console.print(
            f"peak {d.isoformat()}: night cover {week.night_cover(d)}/{week.min_agents}{short}",
            soft_wrap=True,
        )
