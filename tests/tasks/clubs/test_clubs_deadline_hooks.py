"""Onboarding's deadlines and messages in the store: a returned item tells the dealer why, an
overdue review reminds the specialist then escalates to HQ, the official account is reminded
before its date and reported late after it, the active club is announced; a second sweep
adds nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Club, Notification
from domain.models_clubs import ClubChecklistItem
from tasks.clubs.hooks import remind_official_accounts, remind_overdue_reviews
from tasks.clubs.onboarding import (
    add_dealer,
    add_person,
    register_club,
    review_item,
    submit_evidence,
)
from tasks.gates.dated_steps import registered_steps, run_dated_step

SH = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 10, tzinfo=SH)  # a Monday; November 2026 has no holiday
NAME = "坦克·羽林·300·成都·越野俱乐部"
OFFICERS = {"会长": "o.head", "军师": "o.adviser", "长史": "o.clerk"}
SPECIALIST = "role:regional_specialist:chengdu"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+08:00")


def _setup(session) -> None:
    hq = {"session": session, "username": "hq.manager", "now": MON}
    add_dealer(**hq, code="CH900", name="成都新店", city="成都", region_code="chengdu")
    add_person(**hq, person="staff.ch900", name="店员", role="dealer", phone="13800001111",
               dealer_code="CH900")  # fmt: skip
    for n, who in enumerate(OFFICERS.values()):
        add_person(**hq, person=who, name=f"官{n}", role="club_admin",
                   phone=f"1390000{n:04d}", region_code="chengdu")  # fmt: skip
    register_club(session=session, username="staff.ch900", dealer_code="CH900", code="C-CH900",
                  name=NAME, grade="营", officers=OFFICERS, settings=get_settings(),
                  now=MON)  # fmt: skip


def _submit(session, items: dict[str, str], now: datetime) -> list[str]:
    return submit_evidence(
        session=session, username="staff.ch900", club_code="C-CH900", evidence=items, now=now
    )


def _review(session, item: str, now: datetime, reason: str = "") -> str:
    return review_item(session=session, username="specialist.chengdu", club_code="C-CH900",
                       item=item, approve=not reason, reason=reason, now=now)  # fmt: skip


def _sweep(db_url: str, day: str) -> list[str]:
    """Both onboarding steps as the hourly sweep runs them; what they did."""
    done = []
    for step in (remind_overdue_reviews, remind_official_accounts):
        with session_scope(db_url) as session:
            runs = run_dated_step(session=session, step=step, now=at(day), settings=get_settings())
        done += [f"{r.subject} {r.detail}" for r in runs]
    return done


def _messages(db_url: str, template: str) -> list[Notification]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Notification).where(Notification.template == template).order_by(Notification.id)
        ).scalars()
        return [r.model_copy() for r in rows]


def test_the_steps_are_discovered_by_the_sweep():
    assert {"club-review-ladder", "club-official-account"} <= set(registered_steps())


def test_a_return_an_overdue_review_and_activation_are_told_once(db_url, world):
    required = get_settings().club_required_items
    with session_scope(db_url) as session:
        _setup(session)
        _submit(session, {i: f"https://pan.example/{i}" for i in required}, MON)
        _review(session, "logo", MON, reason="队标分辨率太低，请提供矢量图")

    [returned] = _messages(db_url, "club_item_returned")
    assert returned.recipient == "dealer:CH900"
    assert returned.title == f"{NAME}：队标(待审批)被退回"
    assert "被 specialist.chengdu 退回，原因：队标分辨率太低，请提供矢量图" in returned.body
    assert "/go/" in returned.body  # a signed link to the club's page, not a bare path

    # Submitted Monday: due Thursday (3 working days), escalated 3 working days later.
    assert _sweep(db_url, "2026-11-04") == []
    assert _sweep(db_url, "2026-11-05") == ["club:C-CH900 reminder"]
    assert _sweep(db_url, "2026-11-05") == []  # the second sweep of the day adds nothing
    [reminder] = _messages(db_url, "club_review_reminder")
    assert reminder.recipient == SPECIALIST
    assert reminder.title == f"待您审核：{NAME} 6 项资质（2026-11-05 到期）"
    assert "队标" not in reminder.body  # returned: the dealer's turn, not the specialist's
    assert "会员车号贴" in reminder.body and "/go/" in reminder.body

    assert _sweep(db_url, "2026-11-09") == []
    assert _sweep(db_url, "2026-11-10") == ["club:C-CH900 escalation"]
    assert _sweep(db_url, "2026-11-11") == []
    [escalation] = _messages(db_url, "club_review_escalation")
    assert escalation.recipient == "role:campaign_manager"
    assert escalation.title == f"审核逾期：成都卫 {NAME} 6 项资质（2026-11-05 到期）"

    # The resubmitted logo starts its own deadline: reminded alone, three working days on.
    with session_scope(db_url) as session:
        assert _submit(session, {"logo": "https://pan.example/logo-v2"}, at("2026-11-10")) == [
            "logo"
        ]
    assert _sweep(db_url, "2026-11-12") == []
    assert _sweep(db_url, "2026-11-13") == ["club:C-CH900 reminder"]
    assert len(_messages(db_url, "club_review_reminder")) == 2

    with session_scope(db_url) as session:
        statuses = [_review(session, item, at("2026-11-13")) for item in required]
    assert statuses[-1] == "active" and set(statuses[:-1]) == {"pending"}
    active = _messages(db_url, "club_active")
    assert sorted(m.recipient for m in active) == [
        "dealer:CH900",
        "person:o.adviser",
        "person:o.clerk",
        "person:o.head",
        SPECIALIST,
    ]
    assert active[0].title == f"{NAME} 已激活"
    assert "所有必备资质已审核通过" in active[0].body
    assert _sweep(db_url, "2026-11-20") == []  # nothing waits for review any more
    assert len(_messages(db_url, "club_item_returned")) == 1


def test_the_official_account_is_reminded_before_its_date_and_reported_late(db_url, world):
    with session_scope(db_url) as session:
        _setup(session)
    # Registered 2026-11-02: due 30 days later, the dealer reminded 7 days before.
    assert _sweep(db_url, "2026-11-24") == []
    assert _sweep(db_url, "2026-11-25") == ["club:C-CH900 reminder"]
    assert _sweep(db_url, "2026-11-26") == []
    [reminder] = _messages(db_url, "club_official_account_reminder")
    assert reminder.recipient == "dealer:CH900"
    assert reminder.title == f"{NAME}：公众号 2026-12-02 前提交"
    assert "还有 7 天" in reminder.body

    assert _sweep(db_url, "2026-12-02") == []  # due today: not late yet
    assert _sweep(db_url, "2026-12-04") == ["club:C-CH900 late"]
    assert _sweep(db_url, "2026-12-05") == []
    [late] = _messages(db_url, "club_official_account_late")
    assert late.recipient == SPECIALIST
    assert late.title == f"公众号逾期：成都卫 {NAME}（2026-12-02 到期）"
    assert "经销商 CH900" in late.body and "已逾期 2 天仍未提交" in late.body
    with session_scope(db_url) as session:
        row = session.execute(
            select(ClubChecklistItem)
            .join(Club, Club.id == ClubChecklistItem.club_id)
            .where(Club.code == "C-CH900", ClubChecklistItem.item == "official_account")
        ).scalar_one()
        assert row.due_reminded_at is not None and row.due_escalated_at is not None


def test_an_official_account_submitted_in_time_is_not_chased(db_url, world):
    with session_scope(db_url) as session:
        _setup(session)
        _submit(session, {"official_account": "gh_tank_chengdu"}, at("2026-11-20"))
    _sweep(db_url, "2026-11-25")
    _sweep(db_url, "2026-12-10")
    # It waits for review: the dealer did their part; only the specialist's review is late.
    assert _messages(db_url, "club_official_account_reminder") == []
    assert _messages(db_url, "club_official_account_late") == []
    [reminder] = _messages(db_url, "club_review_reminder")
    assert reminder.title == f"待您审核：{NAME} 1 项资质（2026-11-25 到期）"
