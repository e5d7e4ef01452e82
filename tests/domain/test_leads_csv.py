"""Encoding detection and row checks of lead files (phones: tests/domain/test_phones.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.leads_csv import parse_leads
from domain.tabular import TableError, detect_encoding

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
CITIES = {"成都", "北京", "广州"}


HEADER = "姓名,电话,意向车型,城市,来源,留资时间\n"
ROWS = (
    "王伟,13800138000,越野SUV,成都,汽车之家,2026-09-30 09:15\n"
    "李娜,+86 139 0013 9000,皮卡,北京,懂车帝,\n"
)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        ((HEADER + ROWS).encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + (HEADER + ROWS).encode("utf-8"), "utf-8-sig"),
        ((HEADER + ROWS).encode("gbk"), "gb18030"),
        ((HEADER + ROWS).encode("gb18030"), "gb18030"),
        ((HEADER + ROWS).replace("\n", "\r\n").encode("gbk"), "gb18030"),
    ],
)
def test_each_encoding_is_detected_and_reads_the_same_rows(encoded, encoding):
    assert detect_encoding(encoded) == encoding
    parsed = parse_leads(encoded, known_cities=CITIES, default_source="csv", received_at=NOW)
    assert parsed.rejects == []
    assert [(r.name, r.phone, r.city, r.source) for r in parsed.rows] == [
        ("王伟", "+8613800138000", "成都", "汽车之家"),
        ("李娜", "+8613900139000", "北京", "懂车帝"),
    ]
    assert parsed.rows[0].arrived_at == datetime(2026, 9, 30, 9, 15, tzinfo=SH)
    assert parsed.rows[1].arrived_at == NOW  # no time given: when it was received


def test_bad_rows_are_rejected_by_line_and_reason_and_good_rows_kept():
    data = (
        HEADER.encode("gbk")
        + "张三,,SUV,成都,官网,\n".encode("gbk")  # line 2: no phone
        + "李四,12345,SUV,成都,官网,\n".encode("gbk")  # line 3: invalid phone
        + "王五,13800138001,SUV,火星,官网,\n".encode("gbk")  # line 4: unknown city
        + b"\xff\xfe\xff,13800138002\n"  # line 5: undecodable
        + "赵六,13800138003\n".encode("gbk")  # line 6: too few fields
        + "钱七,13800138004,SUV,广州市,官网,2026-13-01\n".encode("gbk")  # line 7: bad time
        + "孙八,13800138005,SUV,广州市,官网,\n".encode("gbk")  # line 8: good (广州市 → 广州)
    )
    parsed = parse_leads(data, known_cities=CITIES, default_source="csv", received_at=NOW)
    reasons = {r.line_no: r.reason for r in parsed.rejects}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "phone: no phone" in reasons[2]
    assert "phone: invalid" in reasons[3]
    assert "unknown city '火星'" in reasons[4]
    assert "undecodable as gb18030" in reasons[5]
    assert "missing column" in reasons[6]
    assert "time: invalid time" in reasons[7]
    assert [(r.line_no, r.city) for r in parsed.rows] == [(8, "广州")]


def test_one_corrupt_line_in_a_utf8_file_does_not_turn_the_file_into_gbk():
    data = (HEADER + ROWS).encode("utf-8").replace(b"\xe6\x9d\x8e", b"\xe6\x9d")  # 李, cut
    parsed = parse_leads(data, known_cities=CITIES, default_source="csv", received_at=NOW)
    assert parsed.encoding == "utf-8"
    assert [r.name for r in parsed.rows] == ["王伟"]
    assert [(r.line_no, r.reason.split(" at ")[0]) for r in parsed.rejects] == [
        (3, "line 3: undecodable as utf-8")
    ]


def test_a_file_without_a_phone_column_is_refused_naming_it():
    with pytest.raises(TableError, match="lacks column.*phone"):
        parse_leads(
            "姓名,城市\n王伟,成都\n".encode(),
            known_cities=CITIES,
            default_source="x",
            received_at=NOW,
        )
