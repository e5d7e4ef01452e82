"""Signing in: a one-time code sent through the person's own channel, or a password they set;
the attempts that are rate-limited; the sessions that follow. Data functions: each takes the
session and `now`, and the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from clubflow.core.settings import Settings
from clubflow.portal.security import (
    hash_password,
    keyed_hash,
    new_code,
    new_token,
    password_matches,
    same,
)
from domain.models import Person
from domain.models_portal import PortalSession, SignInAttempt, SignInCode
from tasks.outbox import NotificationRequest

# Wrong codes allowed per code before it stops working (a new one must be asked for).
CODE_TRIES = 5
MIN_PASSWORD = 10


class SignInRefused(ValueError):
    """Why signing in did not work, in words fit to show on the page."""


def _secret(settings: Settings) -> str:
    return settings.signing_key.get_secret_value()


def too_many_attempts(*, session: Session, keys: list[str], now: datetime, settings: Settings):
    """The first key (who:<name> or ip:<address>) that spent its attempts in the window."""
    since = now - timedelta(minutes=settings.portal_signin_window_minutes)
    for key in keys:
        count = session.execute(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.key == key, SignInAttempt.at >= since)
        ).scalar_one()
        if count >= settings.portal_signin_limit:
            return key
    return None


def record_attempt(*, session: Session, keys: list[str], now: datetime, ok: bool) -> None:
    session.add_all(SignInAttempt(key=key[:128], at=now, ok=ok) for key in keys)
    session.flush()


def issue_signin_code(
    *, session: Session, who: str, now: datetime, settings: Settings
) -> NotificationRequest:
    """A new code for `who`, and the urgent message that carries it to their channel."""
    code = new_code()
    row = SignInCode(
        who=who,
        code_hash=keyed_hash(_secret(settings), f"{who}:{code}"),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.portal_code_minutes),
    )
    session.add(row)
    session.flush()
    return NotificationRequest(
        recipient=who,
        template="portal_signin_code",
        context={"code": code, "minutes": settings.portal_code_minutes},
        idem_key=f"portal-signin:{row.id}",
        urgent=True,
    )


def check_signin_code(
    *, session: Session, who: str, code: str, now: datetime, settings: Settings
) -> None:
    """Accept `code` for `who` (and spend it), or raise SignInRefused saying why."""
    rows = session.execute(
        select(SignInCode)
        .where(SignInCode.who == who, SignInCode.used_at.is_(None), SignInCode.expires_at > now)
        .order_by(SignInCode.id.desc())
        .limit(3)
    ).scalars()
    wanted = keyed_hash(_secret(settings), f"{who}:{code.strip()}")
    live = [r for r in rows if r.attempts < CODE_TRIES]
    if not live:
        raise SignInRefused("验证码已失效，请重新获取 (the code expired: ask for a new one)")
    for row in live:
        if same(row.code_hash, wanted):
            row.used_at = now
            session.flush()
            return
    for row in live:
        row.attempts += 1
    session.flush()
    raise SignInRefused("验证码不正确 (wrong code)")


def check_password(*, session: Session, username: str, password: str) -> str:
    """`person:<username>` when the password is theirs; SignInRefused otherwise (the same
    words whether the user exists or not)."""
    person = session.execute(
        select(Person).where(Person.username == username.strip())
    ).scalar_one_or_none()
    if person is None or not person.active or not password_matches(person.password_hash, password):
        raise SignInRefused("用户名或密码不正确 (wrong username or password)")
    return f"person:{person.username}"


def set_password(*, session: Session, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SignInRefused(f"密码至少 {MIN_PASSWORD} 位 (at least {MIN_PASSWORD} characters)")
    person = session.execute(select(Person).where(Person.username == username)).scalar_one()
    person.password_hash = hash_password(password)
    session.flush()


@dataclass(frozen=True)
class OpenSession:
    token: str  # goes into the signed cookie; only its hash is stored
    csrf: str
    who: str


def open_session(
    *, session: Session, who: str, now: datetime, settings: Settings, ip: str = ""
) -> OpenSession:
    token = new_token()
    csrf = new_token()[:43]
    session.add(
        PortalSession(
            token_hash=keyed_hash(_secret(settings), token),
            who=who,
            csrf=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=settings.portal_session_hours),
            ip=ip[:64],
        )
    )
    session.flush()
    return OpenSession(token=token, csrf=csrf, who=who)


def read_session(
    *, session: Session, token: str, now: datetime, settings: Settings
) -> PortalSession | None:
    """The open session of `token`: not signed out, not expired."""
    return session.execute(
        select(PortalSession).where(
            PortalSession.token_hash == keyed_hash(_secret(settings), token),
            PortalSession.signed_out_at.is_(None),
            PortalSession.expires_at > now,
        )
    ).scalar_one_or_none()


def close_session(*, session: Session, token: str, now: datetime, settings: Settings) -> None:
    session.execute(
        update(PortalSession)
        .where(PortalSession.token_hash == keyed_hash(_secret(settings), token))
        .values(signed_out_at=now)
    )
