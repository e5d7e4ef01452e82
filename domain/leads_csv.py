"""Lead and outcome CSV files as Chinese tools export them: encoding detection and row checks.

Files come as UTF-8, UTF-8 with BOM, or GBK/GB18030 (Excel on Chinese Windows). The encoding
is chosen per file by which one decodes more lines; each line is then decoded on its own so a
single corrupt line is rejected by number while the good rows beside it are kept.
Splitting on b"\\n" is safe in all three: no GBK/GB18030 or UTF-8 trail byte is 0x0A.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from domain.calendar import BUSINESS_TZ
from domain.leads_phone import PhoneError, normalise_phone

BOM = b"\xef\xbb\xbf"

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


class LeadFileError(ValueError):
    """The file as a whole cannot be read (no header, a required column missing)."""


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


@dataclass(frozen=True)
class DecodedLine:
    line_no: int
    text: str


@dataclass
class DecodedFile:
    encoding: str
    lines: list[DecodedLine]
    rejects: list[Reject] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _failures(lines: list[bytes], encoding: str) -> int:
    bad = 0
    for line in lines:
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            bad += 1
    return bad


def detect_encoding(data: bytes) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030' (a superset of GBK and GB2312)."""
    if data.startswith(BOM):
        return "utf-8-sig"
    lines = _split(data)
    # UTF-8 wins ties: Chinese UTF-8 text often also "decodes" as GB18030 mojibake.
    return "utf-8" if _failures(lines, "utf-8") <= _failures(lines, "gb18030") else "gb18030"


def _whole(text_bytes: bytes, encoding: str, codec: str) -> DecodedFile | None:
    """The common case, decoded in one C call: a file valid in its encoding throughout."""
    try:
        text = text_bytes.decode(codec)
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return DecodedFile(
        encoding=encoding,
        lines=[
            DecodedLine(number, line.removesuffix("\r"))
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ],
    )


def decode_file(data: bytes) -> DecodedFile:
    if data.startswith(BOM):
        whole = _whole(data[len(BOM) :], "utf-8-sig", "utf-8")
    else:
        whole = _whole(data, "utf-8", "utf-8")
        # Not UTF-8 throughout: a file valid as GB18030 throughout would win detect_encoding's
        # line vote anyway (0 failures against at least 1), so the vote is skipped for it.
        if whole is None:
            whole = _whole(data, "gb18030", "gb18030")
    if whole is not None:
        return whole
    encoding = detect_encoding(data)
    body = data[len(BOM) :] if encoding == "utf-8-sig" else data
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    decoded = DecodedFile(encoding=encoding, lines=[])
    for number, raw in enumerate(_split(body), start=1):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            decoded.rejects.append(
                Reject(number, f"line {number}: undecodable as {encoding} at byte {exc.start}")
            )
            continue
        if text.strip():
            decoded.lines.append(DecodedLine(number, text))
    return decoded


def parse_column_map(items: list[str] | dict[str, str] | None, columns=None) -> dict[str, str]:
    """`["手机=phone", "地区=city"]` (or a dict) → {header: canonical column}, checked: the
    error names the item and the columns there are."""
    columns = columns or LEAD_COLUMNS
    pairs = (
        items.items() if isinstance(items, dict) else [i.partition("=")[::2] for i in items or []]
    )
    mapping: dict[str, str] = {}
    for header, canonical in pairs:
        header, canonical = header.strip(), canonical.strip().lower()
        if not header or canonical not in columns:
            raise LeadFileError(
                f"column map {header}={canonical}: expected HEADER=COLUMN with COLUMN one of "
                + ", ".join(columns)
            )
        mapping[header.lower()] = canonical
    return mapping


def _header_map(
    header: list[str],
    columns: dict[str, tuple[str, ...]],
    extra: dict[str, str] | None = None,
) -> dict[str, int]:
    found: dict[str, int] = {}
    # A mapping given for this file (or saved for its source) wins over the known aliases.
    for index, name in enumerate(header):
        canonical = (extra or {}).get(name.strip().lower())
        if canonical and canonical not in found:
            found[canonical] = index
    for index, name in enumerate(header):
        key = name.strip().lower()
        for canonical, aliases in columns.items():
            if key in aliases and canonical not in found:
                found[canonical] = index
    return found


def check_header(
    decoded: DecodedFile,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    extra: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """The header and where each column is; LeadFileError naming what is missing."""
    if not decoded.lines:
        raise LeadFileError("the file has no header line")
    header_line = decoded.lines[0]
    header = next(csv.reader([header_line.text]))
    mapping = _header_map(header, columns, extra)
    missing = [c for c in required if c not in mapping]
    if missing:
        names = ", ".join(f"{c} ({'/'.join(columns[c][1:3])})" for c in missing)
        raise LeadFileError(
            f"line {header_line.line_no}: header lacks column(s) {names}; the header is "
            f"{','.join(h.strip() for h in header)}; map a column with --map HEADER={missing[0]}"
        )
    return header, mapping


def iter_records(
    decoded: DecodedFile,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    extra: dict[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line number, {column: value}, raw line) for each data line; the header is line 1."""
    header, mapping = check_header(decoded, columns, required, extra)
    width = len(header)
    items = list(mapping.items())
    for line in decoded.lines[1:]:
        text = line.text
        # Most exported lines have no quotes: for them csv's answer is a plain split.
        if '"' in text or "\r" in text or "\x00" in text:
            values = next(csv.reader([text]))
        else:
            values = text.split(",")
        count = len(values)
        record = {name: values[i].strip() if i < count else "" for name, i in items}
        record["_short"] = "1" if count < width else ""
        yield line.line_no, record, text


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
        moment = datetime.fromisoformat(value)  # C-fast for "2026-09-30 10:00[:00]"
    except ValueError:
        pass
    else:
        return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)
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
    normalise: Callable[[str], str] = normalise_phone,
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
    decoded = decode_file(data)
    parsed = ParsedLeads(encoding=decoded.encoding, rows=[], rejects=list(decoded.rejects))
    records = iter_records(decoded, LEAD_COLUMNS, REQUIRED_LEAD_COLUMNS, column_map)
    for line_no, record, raw in records:
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
    return parsed


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
    decoded = decode_file(data)
    rows: list[OutcomeRow] = []
    rejects = list(decoded.rejects)
    for line_no, record, raw in iter_records(decoded, OUTCOME_COLUMNS, REQUIRED_OUTCOME_COLUMNS):
        try:
            rows.append(check_outcome(line_no, record, received_at=received_at))
        except ValueError as exc:
            rejects.append(Reject(line_no, str(exc), raw))
    return rows, rejects
