"""Lead and outcome files: their columns and row checks. Reading them (encodings, header
aliases, column maps, line numbers) is domain.tabular's, as for every other file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from domain.calendar import BUSINESS_TZ
from domain.instants import parse_instant
from domain.phones import PhoneError, mainland_phone
from domain.tabular import (
    BadLine,
    TableStream,
    decode,
    decode_blocks,
    iter_records,
    scan_blocks,
)

LEAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "mobile", "电话", "手机", "手机号", "联系电话"),
    "name": ("name", "姓名", "客户姓名"),
    "model": ("model", "车型", "意向车型"),
    "city": ("city", "城市", "所在城市"),
    "source": ("source", "来源", "线索来源"),
    "time": ("time", "arrived_at", "时间", "留资时间", "提交时间"),
    "ref": ("ref", "id", "线索编号"),
}
REQUIRED_LEAD_COLUMNS = ("phone", "city")

OUTCOME_COLUMNS: dict[str, tuple[str, ...]] = {
    "lead_id": ("lead_id", "线索id", "线索编号"),
    "call_no": ("call_no", "呼叫次数", "第几次"),
    "outcome": ("outcome", "结果", "呼叫结果"),
    "called_at": ("called_at", "呼叫时间"),
    "agent": ("agent", "客服"),
    "appointment_at": ("appointment_at", "预约时间"),
}
REQUIRED_OUTCOME_COLUMNS = ("lead_id", "call_no", "outcome")


class LeadRowError(ValueError):
    """One row refused: "line N: field: reason". `pending` when the reason can change (the
    city has no dealer yet): such a row is kept and tried again, never dropped."""

    def __init__(self, message: str, *, field: str | None = None, pending: bool = False):
        super().__init__(message)
        self.field = field
        self.pending = pending


@dataclass(frozen=True)
class Reject:
    line_no: int
    reason: str
    raw: str = ""
    pending: bool = False
    field: str | None = None
    # The row's values by canonical column, kept for a pending row so it can be tried again.
    record: dict[str, str] | None = None


def _bad(lines: list[BadLine]) -> list[Reject]:
    return [Reject(line.line_no, line.reason) for line in lines]


def parse_time(text: str, *, default: datetime) -> datetime:
    """A time as the tools write it; naive times are Asia/Shanghai."""
    text = text.strip()
    if not text:
        return default
    return _parse_time(text)


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> datetime:
    # A day's file shares a few hundred distinct minutes: parse each once.
    value = text.replace("/", "-")
    try:
        return parse_instant(value)  # C-fast for "2026-09-30 10:00[:00]"
    except ValueError:
        pass
    value = value.replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=BUSINESS_TZ)
        except ValueError:
            pass
    raise ValueError(f"invalid time {text!r}")


# ---------------------------------------------------------------- leads


@dataclass(frozen=True)
class LeadRow:
    line_no: int
    phone: str  # E.164
    name: str
    model: str
    city: str
    source: str
    arrived_at: datetime
    ref: str  # the source's own id of the lead, or the line number


@dataclass
class ParsedLeads:
    encoding: str
    rows: list[LeadRow]
    rejects: list[Reject]


def check_lead(
    line_no: int,
    record: dict[str, Any],
    *,
    known_cities: set[str] | frozenset[str],
    default_source: str,
    received_at: datetime,
    normalise: Callable[[str], str] = mainland_phone,
) -> LeadRow:
    """One lead record checked: ValueError with "line N: field: reason" when it is bad."""
    if record.get("_short") and not (record.get("phone") and record.get("city")):
        raise LeadRowError(
            f"line {line_no}: missing column (缺少字段): row has too few fields", field="row"
        )
    try:
        phone = normalise(record.get("phone") or "")
    except PhoneError as exc:
        raise LeadRowError(f"line {line_no}: phone: {exc}", field="phone") from None
    city = (record.get("city") or "").strip()
    if not city:
        raise LeadRowError(f"line {line_no}: city: missing (缺少城市)", field="city")
    try:
        arrived_at = parse_time(record.get("time") or "", default=received_at)
    except ValueError as exc:
        raise LeadRowError(f"line {line_no}: time: {exc}", field="time") from None
    if city not in known_cities:
        city_short = city.removesuffix("市")
        if city_short not in known_cities:
            # The network may not serve the city *yet*: the row waits for its dealer.
            raise LeadRowError(
                f"line {line_no}: city: unknown city {city!r} (未知城市): no dealer serves it yet",
                field="city",
                pending=True,
            )
        city = city_short
    return LeadRow(
        line_no=line_no,
        phone=phone,
        name=(record.get("name") or "")[:64],
        model=(record.get("model") or "")[:64],
        city=city,
        source=(record.get("source") or default_source)[:64],
        arrived_at=arrived_at,
        ref=record.get("ref") or f"line{line_no}",
    )


def reject_of(line_no: int, exc: ValueError, raw: str, record: dict[str, Any]) -> Reject:
    """The reject of a refused row; a pending one keeps its record to be tried again."""
    pending = bool(getattr(exc, "pending", False))
    kept = {k: str(v) for k, v in record.items() if not k.startswith("_")} if pending else None
    return Reject(line_no, str(exc), raw, pending, getattr(exc, "field", None), kept)


def parse_leads(
    data: bytes,
    *,
    known_cities: set[str] | frozenset[str],
    default_source: str,
    received_at: datetime,
    column_map: dict[str, str] | None = None,
) -> ParsedLeads:
    """Every good row and every reject (line number and reason) of a lead CSV file.
    `column_map` ({header: column}) names columns the known aliases do not."""
    encoding = scan_blocks(lambda: [data]).encoding
    parsed = ParsedLeads(encoding=encoding, rows=[], rejects=[])
    for chunk in parse_lead_chunks(
        [data],
        encoding=encoding,
        known_cities=known_cities,
        default_source=default_source,
        received_at=received_at,
        column_map=column_map,
    ):
        parsed.rows.extend(chunk.rows)
        parsed.rejects.extend(chunk.rejects)
    return parsed


def parse_lead_chunks(
    blocks: Iterable[bytes],
    *,
    encoding: str,
    known_cities: set[str] | frozenset[str],
    default_source: str,
    received_at: datetime,
    column_map: dict[str, str] | None = None,
) -> Iterator[ParsedLeads]:
    """`parse_leads` block by block (domain.tabular.line_blocks): each block's good rows and
    rejects (sorted by line), numbered as in the whole file. A header missing a column refuses
    the file at the first block, before any row is yielded."""
    table = TableStream(LEAD_COLUMNS, REQUIRED_LEAD_COLUMNS, column_map)
    for decoded in decode_blocks(blocks, encoding):
        parsed = ParsedLeads(encoding=encoding, rows=[], rejects=_bad(decoded.bad_lines))
        for line_no, record, raw in table.records(decoded):
            try:
                parsed.rows.append(
                    check_lead(
                        line_no,
                        record,
                        known_cities=known_cities,
                        default_source=default_source,
                        received_at=received_at,
                    )
                )
            except ValueError as exc:
                parsed.rejects.append(reject_of(line_no, exc, raw, record))
        parsed.rejects.sort(key=lambda r: r.line_no)
        yield parsed
    table.finish()


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class OutcomeRow:
    line_no: int
    lead_id: int
    call_no: int
    outcome: str  # still text: the state machine parses and may reject it
    called_at: datetime
    agent: str
    appointment_at: datetime | None


def check_outcome(line_no: int, record: dict[str, Any], *, received_at: datetime) -> OutcomeRow:
    try:
        lead_id = int(str(record.get("lead_id") or "").strip())
    except ValueError:
        raise ValueError(f"line {line_no}: lead_id: not a number") from None
    try:
        call_no = int(str(record.get("call_no") or "").strip())
    except ValueError:
        raise ValueError(f"line {line_no}: call_no: not a number") from None
    if call_no < 1:
        raise ValueError(f"line {line_no}: call_no: must be 1 or more")
    outcome = str(record.get("outcome") or "").strip()
    if not outcome:
        raise ValueError(f"line {line_no}: outcome: missing (缺少结果)")
    try:
        called_at = parse_time(str(record.get("called_at") or ""), default=received_at)
        raw_appointment = str(record.get("appointment_at") or "").strip()
        appointment_at = (
            parse_time(raw_appointment, default=received_at) if raw_appointment else None
        )
    except ValueError as exc:
        raise ValueError(f"line {line_no}: {exc}") from None
    return OutcomeRow(
        line_no,
        lead_id,
        call_no,
        outcome,
        called_at,
        str(record.get("agent") or ""),
        appointment_at,
    )


def parse_outcomes(data: bytes, *, received_at: datetime) -> tuple[list[OutcomeRow], list[Reject]]:
    decoded = decode(data)
    rows: list[OutcomeRow] = []
    rejects = _bad(decoded.bad_lines)
    for line_no, record, raw in iter_records(decoded, OUTCOME_COLUMNS, REQUIRED_OUTCOME_COLUMNS):
        try:
            rows.append(check_outcome(line_no, record, received_at=received_at))
        except ValueError as exc:
            rejects.append(Reject(line_no, str(exc), raw))
    return rows, rejects
