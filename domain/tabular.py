"""The one reader of tabular (CSV) files: leads, call outcomes, member registrations,
activity check-ins and campaign KPIs all come through it.

Pure: bytes (or text) in, numbered records and refused lines out.

- Encoding: UTF-8, UTF-8 with BOM, or GBK/GB18030 (Excel on Chinese Windows). It is chosen
  per file by which one decodes more lines; each line is then decoded on its own, so a
  single corrupt line is refused by number while the good rows beside it are kept.
  Splitting on b"\\n" is safe in all three: no GBK/GB18030 or UTF-8 trail byte is 0x0A.
- Header aliases: each field has the names (zh and en) a header may give it, matched without
  case or surrounding spaces; a column map (`HEADER=FIELD`, given for the file or saved for
  its source) wins over the aliases.
- Line numbers: the header is line 1; every record carries the number of its line, and every
  error names it (`line 7: phone: ...`).
- Streaming (lead files of a million rows): `line_blocks` reads a file in blocks of whole
  lines, `scan_blocks` chooses the encoding and hashes the bytes in one pass, `decode_blocks`
  and `TableStream` then number and read each block as `decode` and `iter_records` read a
  whole file: the same lines, numbers and refusals whatever the block size.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import BinaryIO

BOM = b"\xef\xbb\xbf"

Columns = Mapping[str, tuple[str, ...]]  # field → the header names that mean it


class TableError(ValueError):
    """The file as a whole cannot be read (no header, a required column missing, a bad map)."""


@dataclass(frozen=True)
class BadLine:
    """A line that could not be decoded: refused by number, the rest of the file is read."""

    line_no: int
    reason: str


@dataclass(frozen=True)
class DecodedLine:
    line_no: int
    text: str


@dataclass
class DecodedFile:
    encoding: str
    lines: list[DecodedLine]
    bad_lines: list[BadLine] = field(default_factory=list)


@dataclass
class Table:
    """A file read: its encoding, header, where each field is, and its records."""

    encoding: str
    header: list[str]
    columns: dict[str, int]  # field → index in the header
    records: list[tuple[int, dict[str, str]]]  # (line number, {field: value})
    bad_lines: list[BadLine]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def line_error(line_no: int, field_name: str | None, reason: str) -> str:
    """The one shape of a row's error: `line N: field: reason`."""
    return f"line {line_no}: {field_name}: {reason}" if field_name else f"line {line_no}: {reason}"


# ---------------------------------------------------------------- encodings


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


def _lines_of(text: str, encoding: str, *, start: int = 1) -> DecodedFile:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return DecodedFile(
        encoding=encoding,
        lines=[
            DecodedLine(number, line.removesuffix("\r"))
            for number, line in enumerate(lines, start=start)
            if line.strip()
        ],
    )


def _lines_one_by_one(data: bytes, encoding: str, codec: str, *, start: int = 1) -> DecodedFile:
    """Each line decoded on its own: an undecodable one is a bad line, the others are kept."""
    decoded = DecodedFile(encoding=encoding, lines=[])
    for number, raw in enumerate(_split(data), start=start):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            decoded.bad_lines.append(
                BadLine(number, f"line {number}: undecodable as {encoding} at byte {exc.start}")
            )
            continue
        if text.strip():
            decoded.lines.append(DecodedLine(number, text))
    return decoded


def _whole(data: bytes, encoding: str, codec: str) -> DecodedFile | None:
    """The common case, decoded in one C call: a file valid in its encoding throughout."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return _lines_of(text, encoding)


def decode(data: bytes | str) -> DecodedFile:
    """The file's non-blank lines, numbered; lines its encoding cannot decode are bad lines.
    Text already decoded is taken as it is (a leading BOM dropped)."""
    if isinstance(data, str):
        return _lines_of(data.removeprefix("\ufeff"), "text")
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
    return _lines_one_by_one(body, encoding, codec)


# ---------------------------------------------------------------- streaming


def line_blocks(stream: BinaryIO, rows: int) -> Iterator[bytes]:
    """The stream in blocks of `rows` lines; each block but the file's last ends with b"\\n"."""
    while True:
        lines = list(islice(stream, rows))
        if not lines:
            return
        yield b"".join(lines)


@dataclass(frozen=True)
class Scan:
    """A file read once through: its encoding (as `decode` would choose it) and its hash."""

    encoding: str
    digest: str


def _decodes(block: bytes, codec: str) -> bool:
    try:
        block.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def scan_blocks(open_blocks: Callable[[], Iterable[bytes]]) -> Scan:
    """The encoding `decode` would choose for the whole file, and its content hash, holding
    one block at a time. A file that decodes throughout in UTF-8 (or else in GB18030) needs
    no line vote; only when neither does (a corrupt file: rare) is `open_blocks` called
    again, and each line votes as in `detect_encoding`."""
    digest = hashlib.sha256()
    bom = None
    valid = {"utf-8": True, "gb18030": True}
    for block in open_blocks():
        digest.update(block)
        if bom is None:
            bom = block.startswith(BOM)
        for codec, ok in valid.items():
            if ok and not bom:  # checked until its first failing block
                valid[codec] = _decodes(block, codec)
    if bom:
        return Scan("utf-8-sig", digest.hexdigest())
    if valid["utf-8"] or valid["gb18030"]:
        return Scan("utf-8" if valid["utf-8"] else "gb18030", digest.hexdigest())
    counts = dict.fromkeys(valid, 0)
    for block in open_blocks():
        for codec in counts:
            if not _decodes(block, codec):  # a block that decodes whole has no failing line
                counts[codec] += _failures(_split(block), codec)
    encoding = "utf-8" if counts["utf-8"] <= counts["gb18030"] else "gb18030"
    return Scan(encoding, digest.hexdigest())


def decode_blocks(blocks: Iterable[bytes], encoding: str) -> Iterator[DecodedFile]:
    """Each block's non-blank lines and bad lines, numbered on from the blocks before it (the
    header is line 1 of the first): `decode`'s lines of the whole file, block by block."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    before = 0  # lines in the blocks before this one
    for index, block in enumerate(blocks):
        if index == 0 and encoding == "utf-8-sig":
            block = block.removeprefix(BOM)
        try:
            yield _lines_of(block.decode(codec), encoding, start=before + 1)
        except UnicodeDecodeError:
            yield _lines_one_by_one(block, encoding, codec, start=before + 1)
        before += block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)


class TableStream:
    """`iter_records` over a file's blocks: the first non-blank line read is the header
    (checked when it arrives: a missing column refuses the file before any row is taken).
    `finish()` refuses a file that had no header line at all."""

    def __init__(
        self,
        columns: Columns,
        required: tuple[str, ...],
        column_map: Mapping[str, str] | None = None,
    ) -> None:
        self.columns, self.required, self.column_map = columns, required, column_map
        self.width: int | None = None
        self.items: list[tuple[str, int]] = []

    def records(self, decoded: DecodedFile) -> Iterator[tuple[int, dict[str, str], str]]:
        lines = decoded.lines
        if self.width is None:
            if not lines:
                return
            header, mapping = check_header(decoded, self.columns, self.required, self.column_map)
            self.width, self.items = len(header), list(mapping.items())
            lines = lines[1:]
        yield from _records(lines, self.width, self.items)

    def finish(self) -> None:
        if self.width is None:
            raise TableError("the file has no header line")


# ---------------------------------------------------------------- header and columns


def parse_column_map(
    items: list[str] | Mapping[str, str] | None, columns: Columns
) -> dict[str, str]:
    """`["手机=phone", "地区=city"]` (or a dict) → {header: field}, checked: the error names
    the item and the fields there are."""
    pairs = (
        items.items()
        if isinstance(items, Mapping)
        else [i.partition("=")[::2] for i in items or []]
    )
    mapping: dict[str, str] = {}
    for header, canonical in pairs:
        header, canonical = header.strip(), canonical.strip().lower()
        if not header or canonical not in columns:
            raise TableError(
                f"column map {header}={canonical}: expected HEADER=COLUMN with COLUMN one of "
                + ", ".join(columns)
            )
        mapping[header.lower()] = canonical
    return mapping


def header_columns(
    header: list[str], columns: Columns, column_map: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Field → index of its column in `header`: the column map first, then the aliases."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        canonical = (column_map or {}).get(name.strip().lower())
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
    columns: Columns,
    required: tuple[str, ...],
    column_map: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """The header and where each field is; TableError naming what is missing and how to map
    it."""
    if not decoded.lines:
        raise TableError("the file has no header line")
    header_line = decoded.lines[0]
    header = _values(header_line.text)
    mapping = header_columns(header, columns, column_map)
    missing = [c for c in required if c not in mapping]
    if missing:
        names = ", ".join(
            f"{c} ({'/'.join(columns[c][1:3])})" if len(columns[c]) > 1 else c for c in missing
        )
        raise TableError(
            f"line {header_line.line_no}: header lacks column(s) {names}; the header is "
            f"{','.join(h.strip() for h in header)}; map a column with --map HEADER={missing[0]}"
        )
    return header, mapping


def _values(text: str) -> list[str]:
    # Most exported lines have no quotes: for them csv's answer is a plain split.
    if '"' in text or "\r" in text or "\x00" in text:
        return next(csv.reader([text]))
    return text.split(",")


def iter_records(
    decoded: DecodedFile,
    columns: Columns,
    required: tuple[str, ...],
    column_map: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line number, {field: value}, raw line) for each data line. A line with fewer values
    than the header has `_short` set (its missing fields are "")."""
    header, mapping = check_header(decoded, columns, required, column_map)
    yield from _records(decoded.lines[1:], len(header), list(mapping.items()))


def _records(
    lines: list[DecodedLine], width: int, items: list[tuple[str, int]]
) -> Iterator[tuple[int, dict[str, str], str]]:
    for line in lines:
        text = line.text
        values = _values(text)
        count = len(values)
        record = {name: values[i].strip() if i < count else "" for name, i in items}
        record["_short"] = "1" if count < width else ""
        yield line.line_no, record, text


def read_table(
    data: bytes | str,
    columns: Columns,
    required: tuple[str, ...] = (),
    column_map: Mapping[str, str] | None = None,
) -> Table:
    """A whole (small) file: its records by line number, and the lines it could not decode."""
    decoded = decode(data)
    header, mapping = check_header(decoded, columns, required, column_map)
    records = [
        (line_no, record) for line_no, record, _ in iter_records(decoded, columns, (), column_map)
    ]
    return Table(decoded.encoding, header, mapping, records, list(decoded.bad_lines))
