"""Masking of phone and ID numbers for logs, artifacts and previews."""

from __future__ import annotations

import re

# Mainland mobiles (optionally +86), landlines with area code, and 18-digit resident IDs.
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
# Area codes: 010 and 02x have three digits, the rest four.
_LANDLINE = re.compile(r"(?<!\d)(\+?86[ -]?)?(0(?:10|2\d|[3-9]\d\d))[ -]?\d{3,4}(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str:
    """13812341234 → 138****1234; +8613812341234 → +86138****1234; landlines keep area code."""
    if not phone:
        return ""
    masked = mask_text(phone)
    if masked != phone:
        return masked
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


def mask_text(text: str) -> str:
    """Every phone or ID number inside a free text, masked."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}-****{m.group(3)}", text)
