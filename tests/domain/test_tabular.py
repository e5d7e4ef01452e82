"""The one tabular reader (domain.tabular): encodings, header aliases, column maps, and line
numbers in every error."""

from __future__ import annotations

import pytest

from domain.tabular import (
    TableError,
    decode,
    detect_encoding,
    line_error,
    parse_column_map,
    read_table,
)

COLUMNS = {
    "phone": ("phone", "手机", "手机号"),
    "name": ("name", "姓名"),
    "city": ("city", "城市"),
}
TEXT = '姓名,手机号,城市\n王伟,13800138000,成都\n李娜,"139 0013 9000",北京\n'
RECORDS = [
    (2, {"name": "王伟", "phone": "13800138000", "city": "成都", "_short": ""}),
    (3, {"name": "李娜", "phone": "139 0013 9000", "city": "北京", "_short": ""}),
]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.replace("\n", "\r\n").encode("gbk"), "gb18030"),
        (TEXT, "text"),
        ("\ufeff" + TEXT, "text"),
    ],
)
def test_every_encoding_reads_the_same_records(data, encoding):
    table = read_table(data, COLUMNS, ("phone",))
    assert table.encoding == encoding
    assert table.records == RECORDS
    assert table.bad_lines == []
    if isinstance(data, bytes) and encoding != "text":
        assert detect_encoding(data) == encoding


def test_aliases_match_without_case_or_spaces_and_a_map_wins():
    table = read_table(" Name ,PHONE,联系城市\nx,13800138000,成都\n", COLUMNS)
    assert table.columns == {"name": 0, "phone": 1}
    mapped = read_table(
        "姓名,手机,联系城市\nx,1,成都\n",
        COLUMNS,
        ("city",),
        parse_column_map(["联系城市=city"], COLUMNS),
    )
    assert mapped.records[0][1]["city"] == "成都"


def test_a_missing_column_is_one_line_naming_it_and_how_to_map_it():
    with pytest.raises(TableError) as err:
        read_table("姓名,城市\n王伟,成都\n", COLUMNS, ("phone",))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("line 1: header lacks column(s) phone (手机/手机号)")
    assert "the header is 姓名,城市" in message and "--map HEADER=phone" in message


@pytest.mark.parametrize(
    ("items", "message"),
    [(["手机"], "column map 手机="), (["手机=fax"], "COLUMN one of phone, name, city")],
)
def test_a_bad_column_map_is_refused_naming_the_item(items, message):
    with pytest.raises(TableError, match=message):
        parse_column_map(items, COLUMNS)


def test_an_empty_file_has_no_header():
    with pytest.raises(TableError, match="no header line"):
        read_table(b"", COLUMNS)


def test_a_corrupt_line_is_refused_by_number_and_the_rest_is_read():
    data = TEXT.encode("utf-8").replace("李".encode(), "李".encode()[:2])
    table = read_table(data, COLUMNS)
    assert table.encoding == "utf-8"
    assert [line for line, _ in table.records] == [2]
    assert [(b.line_no, b.reason.split(" at ")[0]) for b in table.bad_lines] == [
        (3, "line 3: undecodable as utf-8")
    ]


def test_blank_lines_keep_the_numbering_and_short_rows_are_marked():
    decoded = decode("phone,name\n\n13800138000\n")
    assert [(line.line_no, line.text) for line in decoded.lines] == [
        (1, "phone,name"),
        (3, "13800138000"),
    ]
    [(line, record)] = read_table("phone,name\n\n13800138000\n", COLUMNS).records
    assert (line, record["name"], record["_short"]) == (3, "", "1")


def test_a_row_error_names_the_line_and_the_field():
    assert line_error(7, "phone", "invalid") == "line 7: phone: invalid"
    assert line_error(7, None, "too few fields") == "line 7: too few fields"
