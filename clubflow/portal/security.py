"""Secrets of the portal: one-time codes, password hashes, signed session cookies and deep
links, CSRF tokens. Codes and session tokens are stored only as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer

_hasher = PasswordHasher()


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def keyed_hash(secret: str, value: str) -> str:
    """What is stored of a code or a session token: useless without the signing key."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class Signer:
    """The signed session cookie. The cookie holds a random token; its row in the store says
    whether it is still open, so sign-out and expiry end it on the server too."""

    def __init__(self, secret: str) -> None:
        self._cookies = URLSafeSerializer(secret, salt="clubflow-portal-session")

    def cookie(self, token: str) -> str:
        return self._cookies.dumps(token)

    def read_cookie(self, value: str) -> str | None:
        try:
            token = self._cookies.loads(value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None
