"""The monthly return in the portal: the dealer's staff follow the message's link, read the
report, answer (numbers checked, each error naming its field), correct until the due date; the
task leaves "我的任务"; another dealer is refused and recorded; the operator sees who answered;
a club admin submits the club's content."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Club, Dealer
from domain.models_audit import Refusal
from domain.models_planning import ClubContent, DealerFeedback, DealerReturn
from tasks.planning.returns import send_monthly_returns

NOVEMBER = date(2026, 11, 1)
GOOD = {
    "feedback": "11 月活动参与度高",
    "suggestions": "下期增加亲子营地",
    "sales_units": "12",
    "referral_sales_units": "3",
    "service_revenue": "80000",
    "member_service_revenue": "12000",
    "wechat_groups": "2",
    "wechat_members": "430",
}


def _send(portal, db_url) -> None:
    """The operator's send on 1 December (the world's clock): November's returns."""
    with session_scope(db_url) as session:
        send_monthly_returns(
            session=session, month=NOVEMBER, now=portal.clock(), settings=get_settings()
        )
    portal.app.state.portal.deliver()


def _post(client, page, **values):
    return client.post("/returns", data={"csrf": csrf_of(page.text), **values})


def _answer(db_url, code: str) -> DealerFeedback | None:
    with session_scope(db_url) as session:
        dealer_id = session.execute(select(Dealer.id).where(Dealer.code == code)).scalar_one()
        row = session.execute(
            select(DealerFeedback).where(DealerFeedback.dealer_id == dealer_id)
        ).scalar_one_or_none()
        if row is not None:
            session.expunge(row)
        return row


def test_the_dealer_answers_the_return_from_the_link_and_corrects_it_until_due(portal, db_url):
    _send(portal, db_url)
    [message] = portal.sink.to("dealer/CH001")
    link = re.search(r"处理：(\S+)", message.body).group(1)
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    home = client.get("/")
    assert "月度回执待提交：2026-11 会员报告与问卷" in home.text
    page = client.get(urlsplit(link).path)
    assert str(page.url).endswith("/returns?month=2026-11")
    assert "2026-11 会员报告" in page.text and "2026-12-10 前回复" in page.text
    assert "俱乐部：成都卫·成都车友会（成都卫）" in page.text  # the report as it was sent

    done = _post(client, page, dealer="CH001", month="2026-11", **GOOD)
    assert done.status_code == 200 and "已提交 2026-11 月度回执" in done.text
    row = _answer(db_url, "CH001")
    assert (row.sales_units, row.referral_sales_units) == (12, 3)
    assert (row.service_revenue, row.member_service_revenue) == (80000, 12000)
    assert (row.wechat_groups, row.wechat_members, row.submitted_by) == (2, 430, "dealer:CH001")
    assert (row.feedback, row.suggestions) == ("11 月活动参与度高", "下期增加亲子营地")
    assert row.corrected_at is None
    with session_scope(db_url) as session:
        answered = session.execute(select(DealerReturn.answered_at)).scalars().all()
    assert sum(1 for a in answered if a is not None) == 1
    assert "月度回执待提交" not in client.get("/").text

    # A correction on the due date replaces the figures.
    portal.clock.advance(days=9)  # 10 December (a session lasts hours: sign in again)
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get("/returns?month=2026-11")
    assert "更正回执" in page.text and 'value="12"' in page.text
    _post(client, page, dealer="CH001", month="2026-11", **{**GOOD, "sales_units": "15"})
    row = _answer(db_url, "CH001")
    assert row.sales_units == 15 and row.corrected_at is not None

    # After the due date the answer stands.
    portal.clock.advance(days=1)
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get("/returns?month=2026-11")
    assert "截止日已过，回执不再更正。" in page.text and "更正回执" not in page.text
    late = _post(client, page, dealer="CH001", month="2026-11", **{**GOOD, "sales_units": "20"})
    assert late.status_code == 409 and "due date 2026-12-10 has passed" in late.text
    assert _answer(db_url, "CH001").sales_units == 15
    with session_scope(db_url) as session:
        refusal = session.execute(select(Refusal)).scalars().one()
    assert (refusal.action, refusal.subject) == ("returns.answer", "dealer:CH001")


def test_each_wrong_number_is_named_and_what_was_typed_is_kept(portal, db_url):
    _send(portal, db_url)
    client = portal.sign_in("admin.ch001", "person/admin.ch001")  # the dealer's club admin
    page = client.get("/returns")
    assert "成都" in page.text and 'name="dealer" value="CH001"' in page.text

    more = _post(
        client, page, dealer="CH001", month="2026-11", **{**GOOD, "referral_sales_units": "13"}
    )
    assert more.status_code == 400
    assert "其中俱乐部转介绍（台） (referral_sales_units): 13 is more than" in more.text
    assert 'value="13"' in more.text

    revenue = {**GOOD, "member_service_revenue": "90000"}
    wrong = _post(client, page, dealer="CH001", month="2026-11", **revenue)
    assert "其中会员售后产值（元） (member_service_revenue): 90000 is more than" in wrong.text

    negative = _post(
        client, page, dealer="CH001", month="2026-11", **{**GOOD, "service_revenue": "-5"}
    )
    assert "售后产值（元） (service_revenue): Input should be greater than or equal to 0" in (
        negative.text
    )
    missing = {k: v for k, v in GOOD.items() if k != "sales_units"}
    blank = _post(client, page, dealer="CH001", month="2026-11", **missing)
    assert "本月销量（台） (sales_units): Field required" in blank.text
    assert _answer(db_url, "CH001") is None

    ok = _post(client, page, dealer="CH001", month="2026-11", **GOOD)
    assert ok.status_code == 200 and _answer(db_url, "CH001").submitted_by == "admin.ch001"


def test_another_dealer_is_refused_and_the_operator_sees_who_answered(portal, db_url):
    _send(portal, db_url)
    other = portal.sign_in("dealer.be001", "person/dealer.be001")
    page = other.get("/returns")
    assert 'name="dealer" value="BE001"' in page.text
    refused = _post(other, page, dealer="CH001", month="2026-11", **GOOD)
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert _answer(db_url, "CH001") is None
    with session_scope(db_url) as session:
        [refusal] = session.execute(select(Refusal)).scalars().all()
    assert (refusal.action, refusal.subject, refusal.actor) == (
        "returns.answer",
        "dealer:CH001",
        "dealer:BE001",
    )
    assert "neither staff of dealer CH001 nor the admin of its club" in refusal.reason
    _post(other, page, dealer="BE001", month="2026-11", **GOOD)  # its own is fine

    agency = portal.sign_in("agency.lead", "person/agency.lead")
    overview = agency.get("/returns")
    assert overview.status_code == 200 and "已回复 1 / 14" in overview.text
    assert "未提交" in overview.text and "dealer:BE001" in overview.text

    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    assert specialist.get("/returns").status_code == 403


def test_the_club_admin_submits_content_once_per_link(portal, db_url):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get("/content")
    assert page.status_code == 200 and "2026-12" in page.text and "本月尚无内容。" in page.text
    item = {
        "kind": "self_media",
        "external_id": "https://mp.weixin.qq.com/s/abc",
        "published_on": "2026-12-01",
        "title": "雨林穿越回顾",
        "channel": "公众号",
        "reads": "1800",
    }
    added = client.post("/content", data={"csrf": csrf_of(page.text), **item})
    assert "已添加：自媒体文章 https://mp.weixin.qq.com/s/abc" in added.text
    again = client.post("/content", data={"csrf": csrf_of(page.text), **item})
    assert "已存在：https://mp.weixin.qq.com/s/abc" in again.text
    bad = client.post(
        "/content", data={"csrf": csrf_of(page.text), **item, "external_id": "x2", "reads": "-1"}
    )
    assert bad.status_code == 400 and "阅读量 (reads): Input should be greater" in bad.text
    with session_scope(db_url) as session:
        club_id = session.execute(select(Club.id).where(Club.code == "C-CH001")).scalar_one()
        rows = session.execute(select(ClubContent)).scalars().all()
    assert [(r.club_id, r.kind, r.reads, r.count, r.submitted_by) for r in rows] == [
        (club_id, "self_media", 1800, 1, "admin.ch001")
    ]
    assert portal.sign_in("agency.lead", "person/agency.lead").get("/content").status_code == 403
