"""Phone numbers of leads: mainland mobiles and landlines, normalised to E.164 (+86...).

Two leads are the same person when their normalised numbers are equal, so every source's
spelling (138 0013 8000, +86-138..., 010-12345678, 0086...) must land on one string.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

_ACCEPTED_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
_SEPARATORS = re.compile(r"[\s\-().]")


class PhoneError(ValueError):
    """The value is not a usable mainland phone number; the message says why (zh and en)."""


@lru_cache(maxsize=1)
def _mobile_pattern() -> re.Pattern[str]:
    # phonenumbers' own metadata for CN mobiles: the fast path agrees with the slow one.
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return re.compile(metadata.mobile.national_number_pattern)


def normalise_phone(raw: str | None) -> str:
    """The E.164 form of a mainland mobile or landline, or PhoneError naming the problem.

    The common case (11 digits of a mobile, maybe with +86/0086/86 and separators) is checked
    against phonenumbers' CN mobile pattern directly: parsing 20,000 numbers with
    `phonenumbers.parse` costs half a second, the pattern a tenth of that.
    """
    text = (raw or "").strip()
    if not text:
        raise PhoneError("no phone (缺少电话)")
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if len(digits) == 11 and digits.isdigit() and digits[0] == "1":
        if _mobile_pattern().fullmatch(digits):
            return "+86" + digits
        raise PhoneError(f"invalid mobile number {_shown(text)} (无效手机号)")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise PhoneError(f"not a phone number: {_shown(text)} (无效号码)") from None
    if number.country_code != 86:
        raise PhoneError(f"not a mainland number: +{number.country_code} (非大陆号码)")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"invalid phone number {_shown(text)} (无效号码)")
    if phonenumbers.number_type(number) not in _ACCEPTED_TYPES:
        raise PhoneError(f"{_shown(text)} is not a mobile or landline (非手机或固话)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _shown(text: str) -> str:
    """The value as a reject reason may show it: masked, since reasons reach artifacts."""
    from domain.privacy import mask_phone

    return repr(mask_phone(text)[:40])
