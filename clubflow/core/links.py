"""Deep links: the signed, expiring link a notification carries to its task page in the
portal. The link only finds the page; the page still asks for sign-in and checks the role.
Here in core because notifications are built in tasks/, below the portal."""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from clubflow.core.settings import Settings

_SALT = "clubflow-portal-link"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key.get_secret_value(), salt=_SALT)


def portal_link(path: str, *, settings: Settings, now: datetime) -> str:
    """`<portal_url>/go/<token>` for the portal path `path` (e.g. /gates/12), valid for
    `portal_link_days` from `now`."""
    expires = now + timedelta(days=settings.portal_link_days)
    token = _serializer(settings).dumps({"p": path, "exp": int(expires.timestamp())})
    return f"{settings.portal_url.rstrip('/')}/go/{token}"


def read_link(token: str, *, settings: Settings, now: datetime) -> tuple[str | None, str]:
    """(path, "") for a good link, or (None, why): "expired" or "invalid"."""
    try:
        data = _serializer(settings).loads(token)
    except BadSignature:
        return None, "invalid"
    path = data.get("p") if isinstance(data, dict) else None
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None, "invalid"
    if now.timestamp() > float(data.get("exp", 0)):
        return None, "expired"
    return path, ""
