"""Reading a moment given as text: the one rule for every `now` a person or a file gives.

An ISO time with a zone is that instant; a time without a zone is business time
(Asia/Shanghai), because that is what a campaign manager or a spreadsheet means by "18:00".
"""

from __future__ import annotations

from datetime import datetime

from domain.calendar import BUSINESS_TZ


def parse_instant(value: str | datetime) -> datetime:
    """An aware datetime; ValueError for text that is not an ISO time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)
