"""Masking of phone and ID numbers for logs, artifacts and previews.

A masked number is never longer than what it masks and shows at most a short prefix (the
mobile network or area code) and its last 4 digits; a short number shows fewer.
"""

from __future__ import annotations

import re

# Mainland mobiles (optionally +86), landlines with area code, and 18-digit resident IDs.
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
# Area codes: 010 and 02x have three digits, the rest four. The separator is kept as written
# (none stays none), so the masked text is never longer than the number.
_LANDLINE = re.compile(r"(?<!\d)(\+?86[ -]?)?(0(?:10|2\d|[3-9]\d\d))([ -]?)(\d{3,4})(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str:
    """13812341234 → 138****1234; +8613812341234 → +86138****1234; landlines keep area code;
    any other number keeps at most its last 4 digits (fewer when it is short)."""
    if not phone:
        return ""
    masked = mask_text(phone)
    digits = re.sub(r"\D", "", phone)
    # A recognised number keeps its written form; digits around it (an odd prefix) must not
    # widen what shows beyond a 3-digit prefix, +86 and the last 4.
    if masked != phone and len(re.sub(r"\D", "", masked)) <= 9:
        return masked
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    # A short number: at least half stays hidden, and 4 digits or fewer show nothing.
    shown = 0 if len(digits) <= 4 else min(4, len(digits) // 2)
    return "*" * (len(digits) - shown) + (digits[-shown:] if shown else "")


def mask_text(text: str) -> str:
    """Every phone or ID number inside a free text, masked."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", text)
    # As many stars as hidden digits: a 3-digit exchange must not come out longer.
    return _LANDLINE.sub(
        lambda m: f"{m.group(1) or ''}{m.group(2)}{m.group(3)}{'*' * len(m.group(4))}{m.group(5)}",
        text,
    )
