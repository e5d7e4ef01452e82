"""Members' contact consent: per channel and purpose, what may be sent (docs/retention.md).

- Service messages (points credited, activation, birthday care...) are allowed unless the
  member opted out of that channel's service messages.
- Marketing messages (offers, reactivation and activity invitations) need an explicit yes for
  that channel: never consented is refused like an opt-out.
- The templates that are marketing are named here, in one place; a request may also say
  `purpose="marketing"` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Purpose(StrEnum):
    service = "service"
    marketing = "marketing"


class ContactChannel(StrEnum):
    """How the programme reaches a member: the outbox sends SMS; call-backs are phone calls."""

    sms = "sms"
    phone = "phone"


# The outbox reaches members only by SMS (blocks/channels.py member_sms_url).
OUTBOX_MEMBER_CHANNEL = ContactChannel.sms

MARKETING_TEMPLATES = frozenset({"member_reactivation", "member_offer", "activity_warmup"})

PURPOSE_LABELS = {Purpose.service: "服务通知", Purpose.marketing: "营销推广"}
CHANNEL_LABELS = {ContactChannel.sms: "短信", ContactChannel.phone: "电话"}

# (channel, purpose) → allowed; a missing pair means "never asked".
Consents = Mapping[tuple[str, str], bool]


def purpose_of(template: str, requested: str = Purpose.service) -> Purpose:
    """A request's purpose: marketing when it says so or its template is a marketing one."""
    if Purpose(requested) == Purpose.marketing or template in MARKETING_TEMPLATES:
        return Purpose.marketing
    return Purpose.service


def consent_refusal(consents: Consents, *, channel: str, purpose: str) -> str | None:
    """Why a message of `purpose` may not go to the member by `channel`, or None."""
    channel, purpose = ContactChannel(channel), Purpose(purpose)
    given = consents.get((channel.value, purpose.value))
    label = f"{CHANNEL_LABELS[channel]}{PURPOSE_LABELS[purpose]}"
    if given is False:
        return f"member opted out of {purpose} by {channel} (已退订{label})"
    if given is None and purpose == Purpose.marketing:
        return f"member never consented to {purpose} by {channel} (未同意{label})"
    return None


def registration_consents(*, marketing: bool) -> dict[tuple[str, str], bool]:
    """What a registration records: service allowed on every channel, marketing only if the
    member said yes."""
    out = {}
    for channel in ContactChannel:
        out[(channel.value, Purpose.service.value)] = True
        out[(channel.value, Purpose.marketing.value)] = marketing
    return out


# Staff who may change a member's consent on the member's behalf (a call, a form at the store).
CONSENT_STAFF_ROLES = ("call_agent", "call_supervisor", "club_admin", "campaign_manager")


def parse_consent_pair(channel: str, purpose: str) -> tuple[ContactChannel, Purpose]:
    """(channel, purpose) from user text, ValueError naming the field."""
    try:
        ch = ContactChannel(channel.strip().lower())
    except ValueError:
        raise ValueError(
            f"channel {channel!r}: expected one of {', '.join(c.value for c in ContactChannel)}"
        ) from None
    try:
        pu = Purpose(purpose.strip().lower())
    except ValueError:
        raise ValueError(
            f"purpose {purpose!r}: expected one of {', '.join(p.value for p in Purpose)}"
        ) from None
    return ch, pu
