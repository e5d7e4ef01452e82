"""Small helpers shared by the members tasks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TypeVar

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from domain.models import MemberTier

T = TypeVar("T")
CHUNK = 5000  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits

TIER_ZH = {
    MemberTier.ordinary: "普通会员",
    MemberTier.silver: "银卡会员",
    MemberTier.gold: "金卡会员",
}


def recipient(member_no: str) -> str:
    return f"member:{member_no}"


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("clubflow.members")
