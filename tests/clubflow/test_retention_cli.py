"""`clubflow members callbacks / callback-outcome / consent`: the agent records calls, staff
change a member's consent with --as (who and when recorded); bad input is one line."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from cli_support import one_line_error
from sqlalchemy import select, update
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Member, Person
from domain.models_audit import Refusal
from domain.models_retention import MemberCallback, MemberConsentChange
from tasks.retention.callbacks import open_callbacks

runner = CliRunner()
SH = ZoneInfo("Asia/Shanghai")
AT = ["--now", "2026-12-01T10:00"]


def _members(*args: str):
    return runner.invoke(app, ["members", *args], catch_exceptions=False)


@pytest.fixture
def callback(world, db_url) -> str:
    """M000001 lost, its call-back opened; the assigned agent's username."""
    with session_scope(db_url) as session:
        session.execute(
            update(Member)
            .where(Member.member_no == "M000001")
            .values(segment="lost", segment_since=date(2026, 9, 2))
        )
        open_callbacks(
            session=session, now=datetime(2026, 12, 1, 9, tzinfo=SH), settings=get_settings()
        )
        return session.execute(
            select(Person.username).join(MemberCallback, MemberCallback.agent_id == Person.id)
        ).scalar_one()


def test_the_agent_lists_and_records_calls_until_closed(callback, db_url):
    listed = _members("callbacks", "--agent", callback)
    assert listed.exit_code == 0, listed.output
    assert "M000001" in listed.output and "1 call-backs" in listed.output
    assert "13900000001" not in listed.output  # phones masked

    first = _members("callback-outcome", "M000001", "--call", "1", "--outcome", "关机",
                     "--as", callback, *AT)  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "M000001: call 1 recorded; 继续清洗, call 2 due 2026-12-01" in first.output
    done = _members("callback-outcome", "M000001", "--call", "2", "--outcome", "无意购车",
                    "--reason", "搬迁", "--as", callback, *AT)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "closed 有效-无意购车" in done.output
    with session_scope(db_url) as session:
        row = session.execute(select(MemberCallback)).scalar_one()
    assert (row.status, row.churn_reason) == ("valid", "moved")


def test_bad_input_and_a_wrong_agent_are_one_line(callback, db_url):
    one_line_error(
        _members(
            "callback-outcome", "M000001", "--call", "1", "--outcome", "很好", "--as", callback, *AT
        ),  # fmt: skip
        "M000001 call 1: unknown outcome code '很好'",
    )
    one_line_error(
        _members(
            "callback-outcome",
            "M000001",
            "--call",
            "1",
            "--outcome",
            "有意购车",
            "--reason",
            "天气",
            "--as",
            callback,
            *AT,
        ),  # fmt: skip
        "unknown churn reason '天气'",
    )
    one_line_error(
        _members(
            "callback-outcome",
            "M000001",
            "--call",
            "1",
            "--outcome",
            "关机",
            "--as",
            "admin.ch001",
            *AT,
        ),  # fmt: skip
        "refused:",
        "recording a member call-back is for call_agent or call_supervisor",
    )
    with session_scope(db_url) as session:
        assert session.execute(select(Refusal.action)).scalars().all() == ["member.callback"]


def test_staff_change_a_members_consent_with_who_and_when(world, db_url):
    shown = _members("consent", "M000002")
    assert shown.exit_code == 0, shown.output
    assert "registration" in shown.output

    changed = _members("consent", "M000002", "--channel", "sms", "--purpose", "marketing",
                       "--deny", "--as", "agent1", *AT)  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "agent1" in changed.output
    with session_scope(db_url) as session:
        last = session.execute(
            select(MemberConsentChange).order_by(MemberConsentChange.id.desc()).limit(1)
        ).scalar_one()
    assert (last.channel, last.purpose, last.allowed, last.changed_by) == (
        "sms", "marketing", False, "agent1"
    )  # fmt: skip
    assert last.changed_at == datetime(2026, 12, 1, 10, tzinfo=SH)

    one_line_error(
        _members(
            "consent",
            "M000002",
            "--channel",
            "fax",
            "--purpose",
            "marketing",
            "--allow",
            "--as",
            "agent1",
            *AT,
        ),  # fmt: skip
        "channel 'fax': expected one of sms, phone",
    )
    one_line_error(
        _members(
            "consent",
            "M000002",
            "--channel",
            "sms",
            "--purpose",
            "marketing",
            "--allow",
            "--as",
            "finance",
            *AT,
        ),  # fmt: skip
        "refused:",
        "changing a member's consent is for",
    )


def test_an_import_reads_the_marketing_consent_column(world, db_url, tmp_path):
    from tasks.retention.consent import member_consents

    sheet = tmp_path / "members.csv"
    sheet.write_text(
        "姓名,手机,俱乐部,营销同意\n赵一,13700000011,C-CH001,是\n钱二,13700000012,C-CH001,\n",
        encoding="utf-8",
    )
    result = _members("import", str(sheet), *AT)
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    with session_scope(db_url) as session:
        numbers = dict(
            session.execute(
                select(Member.phone, Member.member_no).where(
                    Member.phone.in_(["+8613700000011", "+8613700000012"])
                )
            ).all()
        )
        consents = member_consents(session=session, member_nos=set(numbers.values()))
    assert consents[numbers["+8613700000011"]][("sms", "marketing")] is True
    assert consents[numbers["+8613700000012"]][("sms", "marketing")] is False
