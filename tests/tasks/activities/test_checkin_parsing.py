"""Check-in files through the one tabular reader and the one phone rule: any encoding, zh or
en headers, a mapped column, and a member found however their phone is written."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from clock import WORLD_NOW
from sqlalchemy import select

from clubflow.core.db import migrate, session_scope
from clubflow.world import WorldSize, seed_demo_world
from domain.models import Member
from tasks.activities.checkin import CheckinError, CheckinRow, _resolve_members, parse_checkin_csv

SH = ZoneInfo("Asia/Shanghai")
TEXT = "会员号,手机号,签到时间,组织者\nM000001,,2026-10-11T08:00:00,是\n,138 0013 8000,,\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT,
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("gbk"),
        TEXT.replace("\n", "\r\n").encode("gb18030"),
    ],
)
def test_a_check_in_file_reads_the_same_in_every_encoding_and_header_language(data):
    rows = parse_checkin_csv(data)
    assert [(r.line, r.member_no, r.phone, r.organiser) for r in rows] == [
        (2, "M000001", None, True),
        (3, None, "138 0013 8000", False),
    ]
    assert rows[0].checked_in_at == datetime(2026, 10, 11, 8, tzinfo=SH)


def test_a_mapped_column_is_read():
    rows = parse_checkin_csv("编号,到场\nM000001,1\n", {"编号": "member_no", "到场": "organiser"})
    assert [(r.member_no, r.organiser) for r in rows] == [("M000001", True)]


def test_an_undecodable_line_names_its_row():
    data = b"member_no\nM000001\n" + b"\xff\xfe\n"
    with pytest.raises(CheckinError, match="row 3: undecodable"):
        parse_checkin_csv(data)


@pytest.fixture
def members(any_db_url) -> str:
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=1, members=5, leads=0), now=WORLD_NOW
        )
    return any_db_url


def _spellings(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return [national, spaced, f"+86 {spaced}", f"0086 {spaced}", f"86{national}", f"+86-{national}"]


def test_check_in_finds_a_member_by_any_spelling_of_their_phone(members):
    with session_scope(members) as session:
        member_id, phone = session.execute(
            select(Member.id, Member.phone).order_by(Member.id).limit(1)
        ).one()
        assert phone.startswith("+86") and len(phone) == 14
        rows = [CheckinRow(phone=spelling, line=n) for n, spelling in enumerate(_spellings(phone))]
        assert set(_resolve_members(session=session, rows=rows).values()) == {member_id}


def test_check_in_of_an_unknown_or_foreign_number_names_the_row(members):
    with session_scope(members) as session:
        for raw in ("+1 415 555 2671", "010-12345678", "not a number"):
            with pytest.raises(CheckinError, match="row 7: phone .* is not a member"):
                _resolve_members(session=session, rows=[CheckinRow(phone=raw, line=7)])


def test_a_column_map_given_as_items_is_read_and_a_bad_one_refused():
    rows = parse_checkin_csv("编号\nM000001\n", ["编号=member_no"])
    assert [r.member_no for r in rows] == ["M000001"]
    with pytest.raises(CheckinError, match="check-in file: column map 编号=fax"):
        parse_checkin_csv("编号\nM000001\n", ["编号=fax"])
