"""Where a notification goes: Apprise URLs per person, per dealer and per role, kept as secrets."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import apprise
from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import ConfigDict, Field, SecretStr, field_validator

from domain.privacy import mask_phone


class UnknownRecipientError(LookupError):
    pass


class InvalidChannelError(ValueError):
    pass


def _split_urls(value: str) -> list[str]:
    return [u.strip() for u in value.replace("\n", " ").replace(",", " ").split() if u.strip()]


@lru_cache(maxsize=100_000)
def _parses(url: str) -> bool:
    # Parsing costs ~0.3 ms a URL and the block is validated on every load: remember answers.
    return apprise.Apprise.instantiate(url) is not None


def check_apprise_url(url: str, where: str) -> None:
    """Raise naming `where` when Apprise cannot parse the URL (the URL itself stays secret)."""
    if not _parses(url):
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        raise InvalidChannelError(f"{where}: not a valid Apprise URL (scheme {scheme!r})")


class NotificationChannels(Block):
    """Apprise URLs (email, SMS, DingTalk, WeCom, Feishu, JSON webhook...) by recipient.

    Keys: `people` by username, `dealers` by dealer code, `roles` by role or `role:region`
    (e.g. `regional_specialist:chengdu`). Several URLs for one key: separate with spaces.
    Members are reached by SMS: `member_sms_url` is an Apprise URL with `{phone}` in it.
    """

    _block_type_name: ClassVar[str] = "clubflow notification channels"
    _block_type_slug: ClassVar[str] = "clubflow-notification-channels"
    _description: ClassVar[str] = "Where clubflow sends notifications, by person, dealer and role."

    # A validation error must not echo the URLs (they carry tokens).
    model_config = ConfigDict(hide_input_in_errors=True)

    people: SecretDict = Field(default_factory=lambda: SecretDict({}))
    dealers: SecretDict = Field(default_factory=lambda: SecretDict({}))
    roles: SecretDict = Field(default_factory=lambda: SecretDict({}))
    member_sms_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for members' SMS, containing {phone}"
    )
    # `clubflow up` replaces only a block it wrote itself; a block without this mark is real.
    demo_inbox: bool = Field(
        default=False, description="Written by `clubflow up` for its demo inbox (it may replace it)"
    )

    @field_validator("people", "dealers", "roles", mode="after")
    @classmethod
    def _urls_parse(cls, value: SecretDict, info: Any) -> SecretDict:
        for key, urls in value.get_secret_value().items():
            if not urls or not _split_urls(str(urls)):
                raise InvalidChannelError(f"{info.field_name}[{key}]: no URL given")
            for url in _split_urls(str(urls)):
                check_apprise_url(url, f"{info.field_name}[{key}]")
        return value

    @field_validator("member_sms_url", mode="after")
    @classmethod
    def _template_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = value.get_secret_value()
            if "{phone}" not in url:
                raise InvalidChannelError("member_sms_url: must contain {phone}")
            check_apprise_url(url.replace("{phone}", "13800000000"), "member_sms_url")
        return value

    def urls_for(self, recipient: str, *, phone: str | None = None) -> list[str]:
        """The Apprise URLs of a recipient key such as `person:li.na` or `role:it`."""
        kind, _, name = recipient.partition(":")
        table = {"person": self.people, "dealer": self.dealers, "role": self.roles}.get(kind)
        if table is not None:
            urls = table.get_secret_value().get(name)
            if urls is None and kind == "role" and ":" in name:
                urls = table.get_secret_value().get(name.split(":", 1)[0])
            if urls is None:
                raise UnknownRecipientError(
                    f"no channel for {recipient!r}: add it to the {kind} entries of the "
                    f"'{self._block_type_slug}' block"
                )
            return _split_urls(str(urls))
        if kind == "member":
            if self.member_sms_url is None:
                raise UnknownRecipientError(
                    f"no channel for {recipient!r}: the block has no member_sms_url"
                )
            if not phone:
                raise UnknownRecipientError(f"no phone for {recipient!r} ({mask_phone(phone)})")
            digits = phone.removeprefix("+86")
            return [self.member_sms_url.get_secret_value().replace("{phone}", digits)]
        raise UnknownRecipientError(
            f"recipient {recipient!r} is not one of person:/dealer:/role:/member:"
        )
