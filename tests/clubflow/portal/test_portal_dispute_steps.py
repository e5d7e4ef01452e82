"""/disputes and /incidents: the follow-up steps on the portal, as the people who take them.

A dispute filed by dealer staff is acknowledged, mediated and settled (or taken to court, and
legal told) by HQ; each step a row and an audit line; others are refused and the refusal
recorded; the lists show each viewer their scope. An incident is handled and closed by the
region's specialist."""

from __future__ import annotations

import re

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Dealer, Notification
from domain.models_audit import Refusal
from domain.models_disputes import Dispute, DisputeStep, Incident, IncidentAction
from domain.models_outlets import Outlet
from domain.models_portal import PortalAudit

PHONE = "13812345678"


def _file(portal, **extra) -> tuple[object, str]:
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get("/disputes/new")
    data = {
        "csrf": csrf_of(page.text),
        "kind": "customer_dealer",
        "claimant": f"张先生 {PHONE}",
        "respondent": "CH001",
        "dealer": "CH001",
        "outlet": "",
        "summary": f"保养费用争议，回电 {PHONE}",
        **extra,
    }
    done = client.post("/disputes/new", data=data)
    assert done.status_code == 200, done.text
    code = re.search(r"/disputes/(DSP-\d{8}-\d{3})", str(done.url)).group(1)
    return client, code


def _post(client, path: str, **data):
    page = client.get(path.rsplit("/", 1)[0])
    return client.post(path, data={"csrf": csrf_of(page.text), **data})


def _audit(db_url, action: str) -> list[tuple[str, str, str, str]]:
    with session_scope(db_url) as session:
        return [
            (r.actor, r.subject, r.outcome, r.path)
            for r in session.execute(
                select(PortalAudit).where(PortalAudit.action == action, PortalAudit.path != "")
            ).scalars()
        ]


def test_hq_drives_a_filed_dispute_to_settled_every_step_on_the_timeline(portal, db_url):
    dealer, code = _file(portal)
    page = dealer.get(f"/disputes/{code}")
    assert f"已提交：{code}" in dealer.get(f"/disputes/{code}?done=file").text
    assert "待受理" in page.text and "受理，截止 2026-12-02 23:59" in page.text
    assert PHONE not in page.text and "138****5678" in page.text
    assert "/acknowledge" not in page.text  # dealer staff follow it; HQ takes the steps

    hq = portal.sign_in("hq.manager", "person/hq.manager")
    listing = hq.get("/disputes")
    assert code in listing.text and "待受理" in listing.text and PHONE not in listing.text
    assert _post(hq, f"/disputes/{code}/acknowledge").status_code == 200
    assert (
        _post(
            hq,
            f"/disputes/{code}/mediate",
            kind="meeting",
            held_on="2026-12-03",
            what="双方到店面谈",
        ).status_code
        == 200
    )
    legal = portal.sign_in("legal.counsel", "person/legal.counsel")
    assert (
        _post(
            legal,
            f"/disputes/{code}/mediate",
            kind="proposal",
            held_on="2026-12-04",
            what=f"减免工时费一半，联系 {PHONE}",
        ).status_code
        == 200
    )
    done = _post(legal, f"/disputes/{code}/settle", agreement="减免工时费 300 元，双方签字")
    assert done.status_code == 200 and "已和解结案。" in done.text

    with session_scope(db_url) as session:
        row = session.execute(select(Dispute)).scalar_one()
        assert (row.status, row.acknowledged_by, row.closed_by) == (
            "settled",
            "hq.manager",
            "legal.counsel",
        )
        assert row.agreement == "减免工时费 300 元，双方签字"
        steps = [
            (s.kind, str(s.held_on), s.recorded_by, s.what)
            for s in session.execute(select(DisputeStep).order_by(DisputeStep.id)).scalars()
        ]
    assert steps == [
        ("meeting", "2026-12-03", "hq.manager", "双方到店面谈"),
        ("proposal", "2026-12-04", "legal.counsel", "减免工时费一半，联系 138****5678"),
    ]
    for action, actor in [
        ("dispute.file", "person:dealer.ch001"),
        ("dispute.acknowledge", "person:hq.manager"),
        ("dispute.settle", "person:legal.counsel"),
    ]:
        assert [(a, s, o) for a, s, o, _p in _audit(db_url, action)] == [(actor, code, "ok")]
    assert [(a, s, o) for a, s, o, _p in _audit(db_url, "dispute.mediate")] == [
        ("person:hq.manager", code, "ok"),
        ("person:legal.counsel", code, "ok"),
    ]
    timeline = dealer.get(f"/disputes/{code}").text.split("<h2>进度</h2>")[1]
    assert [
        step for step in re.findall(r"<td>(登记|受理|调解会谈|调解方案|和解)</td>", timeline)
    ] == [
        "登记",
        "受理",
        "调解会谈",
        "调解方案",
        "和解",
    ]
    assert "legal.counsel" in timeline and PHONE not in timeline
    assert "已和解" in dealer.get("/disputes").text


def test_litigation_records_the_case_and_tells_legal_at_once(portal, db_url):
    _dealer, code = _file(portal)
    hq = portal.sign_in("hq.manager", "person/hq.manager")
    _post(hq, f"/disputes/{code}/acknowledge")
    done = _post(
        hq,
        f"/disputes/{code}/litigate",
        court="成都市武侯区人民法院",
        case_number="(2026)川0107民初123号",
        filed_on="2026-12-10",
    )
    assert done.status_code == 200 and "已转诉讼，法务已收到通知。" in done.text
    assert "案号 (2026)川0107民初123号" in done.text
    with session_scope(db_url) as session:
        assert session.execute(select(Dispute.status)).scalar_one() == "litigation"
        note = session.execute(
            select(Notification).where(Notification.template == "dispute_litigation")
        ).scalar_one()
        assert (note.recipient, note.status) == ("role:legal", "sent")
        assert f"纠纷 {code}（customer_dealer）调解未果，已进入诉讼。" in note.body
        assert "法院：成都市武侯区人民法院；案号：(2026)川0107民初123号；立案日期：2026-12-10" in (
            note.body
        )
        assert "申请方：张先生 138****5678" in note.body and PHONE not in note.body


def test_dealer_staff_may_not_acknowledge_refusal_recorded(portal, db_url):
    dealer, code = _file(portal)
    refused = _post(dealer, f"/disputes/{code}/acknowledge")
    assert refused.status_code == 403 and "无权操作" in refused.text
    with session_scope(db_url) as session:
        refusal = session.execute(select(Refusal)).scalar_one()
        assert (refusal.action, refusal.subject, refusal.actor) == (
            "dispute.acknowledge",
            code,
            "dealer.ch001",
        )
        assert session.execute(select(Dispute.status)).scalar_one() == "filed"
    assert [(a, o) for a, _s, o, _p in _audit(db_url, "dispute.acknowledge")] == [
        ("person:dealer.ch001", "refused")
    ]
    finance = portal.sign_in("finance", "person/finance")
    assert finance.get("/disputes").status_code == 403
    with session_scope(db_url) as session:
        assert (
            session.execute(
                select(Refusal.actor).where(Refusal.action == "disputes.list")
            ).scalar_one()
            == "finance"
        )


def test_bad_input_is_one_line_and_nothing_is_stored(portal, db_url):
    _dealer, code = _file(portal)
    hq = portal.sign_in("hq.manager", "person/hq.manager")
    _post(hq, f"/disputes/{code}/acknowledge")
    bad = _post(hq, f"/disputes/{code}/mediate", kind="meeting", held_on="03/12", what="面谈")
    assert bad.status_code == 400 and "held_on: &#39;03/12&#39; is not a date" in bad.text
    with session_scope(db_url) as session:
        assert session.execute(select(DisputeStep)).first() is None
    assert [o for _a, _s, o, _p in _audit(db_url, "dispute.mediate")] == ["rejected"]


def test_each_viewer_sees_their_scope_and_overdue_is_marked(portal, db_url):
    dealer, code = _file(portal)  # sign-ins are rate-limited: one client per person
    with session_scope(db_url) as session:  # an outlet of CH001's, named by a call agent
        dealer_id = session.execute(select(Dealer.id).where(Dealer.code == "CH001")).scalar()
        session.add(
            Outlet(
                code="OUT-CH001-1",
                name="武侯二网",
                dealer_id=dealer_id,
                registered_by="dealer.ch001",
                registered_at=portal.clock(),
            )
        )
    agent = portal.sign_in("agent1", "person/agent1")
    page = agent.get("/disputes/new")
    agent.post(
        "/disputes/new",
        data={
            "csrf": csrf_of(page.text),
            "kind": "customer_outlet",
            "claimant": "李女士",
            "respondent": "武侯二网",
            "outlet": "武侯二网",
            "summary": "二手车过户延误",
        },
    )
    with session_scope(db_url) as session:
        outlet_code = session.execute(
            select(Dispute.code).where(Dispute.outlet == "武侯二网")
        ).scalar_one()

    mine = dealer.get("/disputes").text
    assert code in mine and outlet_code in mine  # their own and their outlet's
    assert outlet_code in agent.get("/disputes").text and code not in agent.get("/disputes").text
    assert (
        code
        in portal.sign_in("specialist.chengdu", "person/specialist.chengdu").get("/disputes").text
    )
    other = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    assert code not in other.get("/disputes").text
    assert other.get(f"/disputes/{code}").status_code == 403
    with session_scope(db_url) as session:
        assert [
            (r.action, r.actor)
            for r in session.execute(select(Refusal).order_by(Refusal.id)).scalars()
        ] == [("disputes.view", "specialist.beijing")]

    hq = portal.sign_in("hq.manager", "person/hq.manager")
    assert "逾期" not in hq.get("/disputes").text
    portal.clock.advance(days=2)  # past the end of the next working day (a new session)
    late = portal.sign_in("hq.manager", "person/hq.manager").get("/disputes").text
    assert late.count('<span class="overdue">逾期</span>') == 2


def test_an_incident_is_handled_and_closed_by_the_regions_specialist(portal, db_url):
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = admin.get("/incidents/new")
    done = admin.post(
        "/incidents/new",
        data={
            "csrf": csrf_of(page.text),
            "kind": "storm",
            "activity": "",
            "outlet": "CH001 展厅",
            "place": "成都武侯",
            "what": f"暴雨积水，展厅停电，值班 {PHONE}",
        },
    )
    assert done.status_code == 200 and "总部与大区专员已立即收到通知" in done.text
    code = re.search(r"/incidents/(INC-\d{8}-\d{3})", str(done.url)).group(1)
    assert PHONE not in done.text and "138****5678" in done.text
    assert code in admin.get("/incidents").text  # the reporter follows it

    refused = _post(admin, f"/incidents/{code}/act", action="疏散", responsible="admin.ch001")
    assert refused.status_code == 403 and "无权操作" in refused.text

    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    assert code in specialist.get("/incidents").text
    acted = _post(
        specialist,
        f"/incidents/{code}/act",
        action="切断电源，转移试驾车",
        responsible="dealer.ch001",
    )
    assert acted.status_code == 200 and "已记录处置。" in acted.text
    assert "<td>CH001经销商销售顾问 dealer.ch001</td>" in acted.text  # the responsible person
    bad = _post(specialist, f"/incidents/{code}/close", recovery="恢复供电", lessons="")
    assert bad.status_code == 400 and "lessons: a lessons-learned summary is required" in bad.text
    closed = _post(
        specialist,
        f"/incidents/{code}/close",
        recovery="次日恢复供电，车辆无损",
        lessons="雨季前检查排水与备用电源",
    )
    assert closed.status_code == 200 and "已关闭事件。" in closed.text
    assert "雨季前检查排水与备用电源" in closed.text

    with session_scope(db_url) as session:
        incident = session.execute(select(Incident)).scalar_one()
        assert (incident.status, incident.closed_by, incident.lessons) == (
            "closed",
            "specialist.chengdu",
            "雨季前检查排水与备用电源",
        )
        actions = [
            (a.action, a.responsible, a.recorded_by)
            for a in session.execute(select(IncidentAction)).scalars()
        ]
        assert actions == [("切断电源，转移试驾车", "dealer.ch001", "specialist.chengdu")]
        refusal = session.execute(select(Refusal)).scalar_one()
        assert (refusal.action, refusal.actor) == ("incident.act", "admin.ch001")
    assert [(a, o) for a, _s, o, _p in _audit(db_url, "incident.act")] == [
        ("person:admin.ch001", "refused"),
        ("person:specialist.chengdu", "ok"),
    ]
    assert [o for _a, _s, o, _p in _audit(db_url, "incident.close")] == ["rejected", "ok"]
    other = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    assert code not in other.get("/incidents").text
    assert other.get(f"/incidents/{code}").status_code == 403
