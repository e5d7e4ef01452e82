"""Complaints and the satisfaction survey in the portal: a member files and confirms, the call
centre receives, handles and answers, a handler without the role is refused with the reason
on the page (recorded), another member's complaint or survey is refused, a survey is scored
once."""

from __future__ import annotations

from datetime import date

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Activity, Club, Member, Notification
from domain.models_audit import Refusal
from domain.models_complaints import Complaint, ComplaintAction, SatisfactionCall

MEMBER = ("+8613900000001", "sms/13900000001")  # M000001 of C-BJ001


def _refusals(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_a_member_files_staff_receive_handle_answer_and_the_member_confirms(portal, db_url):
    member = portal.sign_in(*MEMBER)
    form = member.get("/me/complaints/new")
    assert form.status_code == 200 and 'name="subject"' in form.text
    filed = member.post(
        "/me/complaints/new",
        data={"csrf": csrf_of(form.text), "subject": "保养等待太久", "body": "等了三小时"},
    )
    assert filed.status_code == 200 and "已提交投诉" in filed.text
    assert "保养等待太久" in filed.text and "已提交，待受理" in filed.text
    with session_scope(db_url) as session:
        c = session.execute(select(Complaint)).scalar_one()
        cid = c.id
        assert (c.source, c.filed_by, c.status) == ("member", "member:M000001", "filed")

    # Chengdu's dealer does not see a Beijing member's complaint: refused and recorded.
    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    assert "保养等待太久" not in dealer.get("/complaints").text
    assert dealer.get(f"/complaints/{cid}").status_code == 403
    assert _refusals(db_url) == [("complaints.view", f"complaint:{cid}", "dealer:CH001")]

    # Beijing's specialist sees it but may not receive it: the task's reason is on the page.
    specialist = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    page = specialist.get(f"/complaints/{cid}")
    assert page.status_code == 200 and "受理</button>" in page.text
    refused = specialist.post(
        f"/complaints/{cid}/receive",
        data={
            "csrf": csrf_of(page.text),
            "category": "after_sales",
            "severity": "low",
            "handler": "agent1",
        },
    )
    assert refused.status_code == 403 and "无权操作" in refused.text
    assert ("complaints.receive", f"complaint:{cid}", "specialist.beijing") in _refusals(db_url)

    agent = portal.sign_in("agent1", "person/agent1")
    listed = agent.get("/complaints")
    assert f'href="/complaints/{cid}"' in listed.text and "M000001" in listed.text
    page = agent.get(f"/complaints/{cid}")
    csrf = csrf_of(page.text)
    received = agent.post(
        f"/complaints/{cid}/receive",
        data={"csrf": csrf, "category": "after_sales", "severity": "low", "handler": "agent1"},
    )
    assert received.status_code == 200 and "已受理。" in received.text
    assert "after_sales / low" in received.text and "记录处理</button>" in received.text
    empty = agent.post(f"/complaints/{cid}/handle", data={"csrf": csrf, "note": ""})
    assert empty.status_code == 409 and "note: empty" in empty.text
    handled = agent.post(
        f"/complaints/{cid}/handle", data={"csrf": csrf, "note": "已联系门店加急", "done": "1"}
    )
    assert handled.status_code == 200 and "发送反馈</button>" in handled.text
    answered = agent.post(
        f"/complaints/{cid}/answer", data={"csrf": csrf, "note": "门店已致歉并赠送保养券"}
    )
    assert answered.status_code == 200 and "已发送反馈。" in answered.text

    mine = member.get(f"/me/complaints/{cid}")
    assert "门店已致歉并赠送保养券" in mine.text and "确认已解决</button>" in mine.text
    assert "<td>受理</td><td>agent1</td>" in mine.text
    done = member.post(
        f"/me/complaints/{cid}/confirm", data={"csrf": csrf_of(mine.text), "note": "满意"}
    )
    assert done.status_code == 200 and "已确认" in done.text and "已关闭" in done.text
    with session_scope(db_url) as session:
        c = session.get(Complaint, cid)
        assert (c.status, c.closed_by) == ("closed", "member:M000001")
        kinds = session.execute(
            select(ComplaintAction.kind)
            .where(ComplaintAction.complaint_id == cid)
            .order_by(ComplaintAction.id)
        ).scalars()
        assert list(kinds) == ["file", "receive", "handle", "answer", "confirm"]
        assert (
            session.execute(
                select(Notification.id).where(Notification.template == "complaint_answer")
            ).scalar_one_or_none()
            is not None
        )

    # Another member may not open it.
    other = portal.sign_in("+8613900000002", "sms/13900000002")
    assert other.get(f"/me/complaints/{cid}").status_code == 403
    assert ("complaints.view", f"complaint:{cid}", "member:M000002") in _refusals(db_url)


def test_a_call_agent_files_for_a_member_by_number(portal, db_url):
    agent = portal.sign_in("agent1", "person/agent1")
    form = agent.get("/complaints/new")
    csrf = csrf_of(form.text)
    bad = agent.post(
        "/complaints/new", data={"csrf": csrf, "member_no": "M999999", "subject": "x", "body": ""}
    )
    assert bad.status_code == 400 and "no member &#39;M999999&#39;" in bad.text
    filed = agent.post(
        "/complaints/new",
        data={"csrf": csrf, "member_no": "M000002", "subject": "积分未到账", "body": ""},
    )
    assert filed.status_code == 200 and "已登记投诉。" in filed.text
    with session_scope(db_url) as session:
        c = session.execute(select(Complaint)).scalar_one()
        member = session.get(Member, c.member_id)
        assert (c.source, c.filed_by, member.member_no) == ("call", "agent1", "M000002")
    finance = portal.sign_in("finance", "person/finance")
    assert finance.get("/complaints/new").status_code == 403


def _survey(db_url) -> tuple[str, str]:
    """A satisfaction call each for M000001 and M000002 after an ended activity."""
    with session_scope(db_url) as session:
        club = session.execute(select(Club).order_by(Club.id)).scalars().first()
        activity = Activity(
            code="SAT-P1",
            title="雨林穿越",
            klass="C",
            region_code=club.region_code,
            club_id=club.id,
            starts_on=date(2026, 11, 28),
            ends_on=date(2026, 11, 29),
            status="announced",
            proposed_by="x",
        )
        session.add(activity)
        session.flush()
        tokens = []
        for no in ("M000001", "M000002"):
            member = session.execute(select(Member).where(Member.member_no == no)).scalar_one()
            token = f"tok{no}"
            session.add(
                SatisfactionCall(
                    activity_id=activity.id,
                    member_id=member.id,
                    club_id=club.id,
                    token=token,
                    created_at=portal_now(),
                )
            )
            tokens.append(token)
        session.commit()
    return tokens[0], tokens[1]


def portal_now():
    from clock import WORLD_NOW

    return WORLD_NOW


def test_the_survey_records_a_score_once(portal, db_url):
    mine, theirs = _survey(db_url)
    member = portal.sign_in(*MEMBER)
    page = member.get(f"/me/survey/{mine}")
    assert page.status_code == 200 and "雨林穿越" in page.text and 'value="5"' in page.text
    csrf = csrf_of(page.text)
    done = member.post(f"/me/survey/{mine}", data={"csrf": csrf, "score": "4", "comment": "很好"})
    assert done.status_code == 200 and "谢谢您的评价" in done.text and "4 分" in done.text
    assert "提交评价</button>" not in done.text
    again = member.post(f"/me/survey/{mine}", data={"csrf": csrf, "score": "1"})
    assert again.status_code == 409 and "already answered" in again.text
    with session_scope(db_url) as session:
        call = session.execute(
            select(SatisfactionCall).where(SatisfactionCall.token == mine)
        ).scalar_one()
        assert (call.score, call.comment, call.answered_by) == (4, "很好", "member:M000001")
    assert member.get("/me/survey/nosuchtoken").status_code == 404
    refused = member.get(f"/me/survey/{theirs}")
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert ("satisfaction.view", "satisfaction:2", "member:M000001") in _refusals(db_url)
