"""The weekly revisit list and its results: who is listed (over two months unconverted, once a
week, never once converted or closed), what each result does, who may record one, and what
waits on "my tasks"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from support_revisit import SH, list_week, record, revisits_of, seed_lead

from clubflow.core.db import session_scope
from domain.models import Lead, Notification
from domain.models_leads import LeadRevisit
from tasks.gates.inbox import waiting_on
from tasks.leads.common import LeadsError

WEEK1 = datetime(2026, 12, 7, 9, 0, tzinfo=SH)  # Mondays, 09:00 as the schedule runs
WEEK2 = WEEK1 + timedelta(days=7)
WEEK3 = WEEK2 + timedelta(days=7)
WEEK4 = WEEK3 + timedelta(days=7)
OLD = datetime(2026, 9, 1, 15, 0, tzinfo=SH)


def _notifications(db_url) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Notification.recipient, Notification.title)).all()
    return sorted(tuple(r) for r in rows)


def test_the_list_holds_leads_unconverted_for_over_two_months_once_a_week(lead_world, db_url):
    old = seed_lead(db_url, 1, agent="agent1", valid_since=WEEK2 - timedelta(days=61))
    seed_lead(db_url, 2, agent="agent1", valid_since=OLD, converted_at=OLD + timedelta(days=9))
    exactly = seed_lead(db_url, 3, agent="agent1", valid_since=WEEK2 - timedelta(days=60))
    over = seed_lead(db_url, 4, agent="agent2", valid_since=WEEK2 - timedelta(days=60, minutes=1))
    waiting = seed_lead(db_url, 5, agent=None, arrived_at=WEEK2 - timedelta(days=65))
    seed_lead(db_url, 6, agent="agent2", valid_since=OLD, outcome="not_interested")
    closed = seed_lead(db_url, 7, agent="agent2", valid_since=OLD)

    first = list_week(db_url, WEEK1)
    assert sorted(revisits_of(db_url, WEEK1.date())) == [closed]
    record(db_url, revisits_of(db_url, WEEK1.date())[closed], "已购竞品", "agent2", WEEK1)

    second = list_week(db_url, WEEK2)
    # Exactly 60 days is not yet "over two months"; converted, closed and not interested never.
    assert sorted(revisits_of(db_url, WEEK2.date())) == [old, over, waiting]
    assert second.by_recipient == {
        "person:agent1": 1,
        "person:agent2": 1,
        "role:call_supervisor": 1,
    }
    assert (first.listed, second.listed, second.added) == (1, 3, 3)
    assert (second.carried_over, second.newly_due, second.closed_last_week) == (0, 3, 1)

    # Run again in the same week (a retry): nothing listed twice, nobody told twice.
    again = list_week(db_url, WEEK2)
    assert (again.listed, again.added) == (3, 0)
    assert _notifications(db_url) == [
        ("person:agent1", "本周回访名单（2026-12-14）：1 条"),
        ("person:agent2", "本周回访名单（2026-12-07）：1 条"),
        ("person:agent2", "本周回访名单（2026-12-14）：1 条"),
        ("role:call_supervisor", "本周回访名单（2026-12-14）：1 条"),
    ]
    # The boundary lead comes due the next week, beside the ones carried over.
    third = list_week(db_url, WEEK3)
    assert sorted(revisits_of(db_url, WEEK3.date())) == [old, exactly, over, waiting]
    assert (third.carried_over, third.newly_due, third.closed_last_week) == (3, 1, 0)


def test_the_message_links_the_page_and_the_csv_names_each_revisit(lead_world, db_url, tmp_path):
    lead = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    list_week(db_url, WEEK1)
    revisit = revisits_of(db_url, WEEK1.date())[lead]
    with session_scope(db_url) as session:
        body = session.execute(select(Notification.body)).scalar_one()
    assert "以下 1 条线索已超过 60 天未转化，请本周回访。" in body
    assert "处理：http" in body and "/go/" in body
    csv_file = tmp_path / "exports" / "2026-12-07" / "revisit_person_agent1.csv"
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines == [
        "revisit_id,lead_id,name,phone,city,outcome,last_result",
        f"{revisit},{lead},回访客户1,+8613900000001,成都,interested,",
    ]
    record(db_url, revisit, "considering", "agent1", WEEK1 + timedelta(hours=2))
    list_week(db_url, WEEK2)
    with session_scope(db_url) as session:
        newest = session.execute(select(Notification.body).order_by(Notification.id.desc())).first()
    assert "（其中 1 条为上周延续）" in newest[0]
    csv_file = tmp_path / "exports" / "2026-12-14" / "revisit_person_agent1.csv"
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[1].endswith(",仍在考虑")


def test_each_result_converts_closes_or_keeps_the_lead(lead_world, db_url):
    leads = {
        result: seed_lead(db_url, n, agent="agent1", valid_since=OLD)
        for n, result in enumerate(
            ["ordered", "bought_competitor", "not_buying", "considering", "unreachable"], 1
        )
    }
    list_week(db_url, WEEK1)
    ids = revisits_of(db_url, WEEK1.date())
    at = WEEK1 + timedelta(hours=3)
    lines = {
        result: record(db_url, ids[lead], result, "agent1", at, note="客户说：13812345678").line()
        for result, lead in leads.items()
    }
    o = ids[leads["ordered"]]
    assert lines["ordered"] == (
        f"revisit {o} (lead {leads['ordered']}): recorded 已在本品牌下订; "
        f"lead {leads['ordered']} converted (已转化), off the revisit list"
    )
    assert lines["not_buying"].endswith(f"lead {leads['not_buying']} closed (结束回访)")
    assert lines["considering"].endswith("stays on next week's list (下周继续回访)")
    assert lines["unreachable"].endswith("stays on next week's list (下周继续回访)")
    with session_scope(db_url) as session:
        converted = {lead.id: lead.converted_at for lead in session.execute(select(Lead)).scalars()}
        row = session.get(LeadRevisit, o)
        assert (row.result, row.result_by, row.result_at, row.closed_lead) == (
            "ordered", "agent1", at, True,
        )  # fmt: skip
        assert row.note == "客户说：13812345678"
    assert converted[leads["ordered"]] == at
    assert [lead for lead, when in converted.items() if when] == [leads["ordered"]]

    nxt = list_week(db_url, WEEK2)
    assert sorted(revisits_of(db_url, WEEK2.date())) == [leads["considering"], leads["unreachable"]]
    assert (nxt.closed_last_week, nxt.converted_last_week, nxt.carried_over) == (3, 1, 2)


def test_three_unreachable_weeks_in_a_row_close_the_lead(lead_world, db_url):
    lead = seed_lead(db_url, 1, agent="agent2", valid_since=OLD)
    lines = []
    for monday in (WEEK1, WEEK2, WEEK3):
        list_week(db_url, monday)
        revisit = revisits_of(db_url, monday.date())[lead]
        lines.append(record(db_url, revisit, "联系不上", "agent2", monday + timedelta(hours=1)))
    assert [r.closed for r in lines] == [False, False, True]
    assert (
        lines[2].line().endswith(f"(3 weeks in a row); lead {lead} closed (连续联系不上，结束回访)")
    )
    assert list_week(db_url, WEEK4).listed == 0


def test_a_result_is_recorded_once_and_not_after_the_lead_left_the_list(lead_world, db_url):
    lead = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    other = seed_lead(db_url, 2, agent="agent1", valid_since=OLD)
    list_week(db_url, WEEK1)
    week1 = revisits_of(db_url, WEEK1.date())
    list_week(db_url, WEEK2)  # last week's results were never reported: listed again
    week2 = revisits_of(db_url, WEEK2.date())
    record(db_url, week2[lead], "considering", "agent1", WEEK2 + timedelta(hours=1))
    with pytest.raises(LeadsError) as again:
        record(db_url, week2[lead], "ordered", "call.supervisor", WEEK2 + timedelta(hours=2))
    assert str(again.value) == (
        f"revisit {week2[lead]} (lead {lead}): result already recorded: 仍在考虑 by agent1 at "
        "2026-12-14 10:00 (回访结果已记录)"
    )
    # A late result for last week still counts while the lead is on the list...
    assert record(db_url, week1[lead], "not_buying", "agent1", WEEK2 + timedelta(hours=3)).closed
    # ...but not once another result took the lead off it.
    record(db_url, week2[other], "ordered", "agent1", WEEK2 + timedelta(hours=3))
    with pytest.raises(LeadsError) as late:
        record(db_url, week1[other], "considering", "agent1", WEEK2 + timedelta(hours=4))
    assert str(late.value) == (
        f"revisit {week1[other]}: lead {other} is already off the revisit list (converted or "
        "closed) (线索已结束回访)"
    )
    assert list_week(db_url, WEEK3).listed == 0
    with pytest.raises(LeadsError, match=r"^revisit 9999: no such revisit \(回访记录不存在\)$"):
        record(db_url, 9999, "ordered", "agent1", WEEK3)
    with pytest.raises(LeadsError, match=r"unknown revisit result '下订了'"):
        record(db_url, week1[other], "下订了", "agent1", WEEK3)


def test_only_the_revisits_agent_or_the_supervisor_may_record(lead_world, db_url):
    mine = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    nobodys = seed_lead(db_url, 2, agent=None, arrived_at=OLD)
    list_week(db_url, WEEK1)
    ids = revisits_of(db_url, WEEK1.date())
    with pytest.raises(LeadsError) as other:
        record(db_url, ids[mine], "considering", "agent2", WEEK1)
    assert str(other.value) == (
        f"revisit {ids[mine]}: user 'agent2' (call_agent) may not record this revisit's "
        "result: that is for its agent 'agent1' or the call supervisor"
    )
    with pytest.raises(LeadsError, match="user 'agent1' .* that is for the call supervisor"):
        record(db_url, ids[nobodys], "considering", "agent1", WEEK1)
    with pytest.raises(LeadsError, match="user 'dealer:CH001' \\(dealer\\) may not"):
        record(db_url, ids[mine], "ordered", "dealer:CH001", WEEK1)
    assert record(db_url, ids[mine], "considering", "call.supervisor", WEEK1).closed is False
    assert record(db_url, ids[nobodys], "not_buying", "call.supervisor", WEEK1).closed is True


def test_revisits_waiting_for_a_result_are_on_my_tasks(lead_world, db_url):
    first = seed_lead(db_url, 1, agent="agent1", valid_since=OLD)
    second = seed_lead(db_url, 2, agent="agent1", valid_since=OLD)
    seed_lead(db_url, 3, agent=None, arrived_at=OLD)
    list_week(db_url, WEEK1)
    ids = revisits_of(db_url, WEEK1.date())

    def items(username: str, today: date):
        with session_scope(db_url) as session:
            found = waiting_on(session=session, username=username, today=today)
        return [(i.title, i.link, i.due_on, i.overdue) for i in found if i.kind == "revisit"]

    link = "/revisits?week_of=2026-12-07"
    assert items("agent1", WEEK1.date()) == [
        ("回访待反馈结果：2 条（2026-12-07 周）", link, date(2026, 12, 13), False)
    ]
    assert items("call.supervisor", WEEK1.date()) == [
        ("回访待反馈结果：1 条（2026-12-07 周）", link, date(2026, 12, 13), False)
    ]
    assert items("agent2", WEEK1.date()) == []
    assert items("dealer.ch001", WEEK1.date()) == []
    record(db_url, ids[first], "ordered", "agent1", WEEK1 + timedelta(hours=1))
    assert items("agent1", date(2026, 12, 14)) == [
        ("回访待反馈结果：1 条（2026-12-07 周）", link, date(2026, 12, 13), True)
    ]
    # Next Monday's list supersedes the unanswered one: the new week waits instead.
    list_week(db_url, WEEK2)
    assert items("agent1", WEEK2.date()) == [
        ("回访待反馈结果：1 条（2026-12-14 周）", "/revisits?week_of=2026-12-14",
         date(2026, 12, 20), False)
    ]  # fmt: skip
    record(db_url, revisits_of(db_url, WEEK2.date())[second], "considering", "agent1", WEEK2)
    assert items("agent1", WEEK2.date()) == []
