"""Materials and competitors in the portal: the organiser hands in links and the specialist
returns then confirms them; the operator records competitor activities and submits the
month's report, HQ reads it, a club admin is refused (recorded)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from gate_runner import GateRunner
from portal_client import csrf_of
from quarter_support import draft_quarter
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain import calendar
from domain.models import Activity, Club, Gate
from domain.models_audit import Refusal
from domain.models_quarter import (
    ActivityMaterials,
    CompetitorActivity,
    CompetitorReport,
    QuarterConfirmation,
)
from tasks.quarter.materials import ensure_materials

CODE = "C-CH001-QUARTER"


def _activity(portal, db_url) -> None:
    """An approved class C activity of C-CH001, five weeks after the portal's today."""
    today = calendar.business_date(portal.clock())
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(
                code=CODE,
                title="龙泉山 秋季穿越",
                klass="C",
                region_code="chengdu",
                club_id=club.id,
                starts_on=today + timedelta(weeks=5),
                ends_on=today + timedelta(weeks=5, days=1),
                status="approved",
                proposed_by="admin.ch001",
            )
        )
        session.flush()
        ensure_materials(session=session, today=today, settings=get_settings())


def test_the_organiser_submits_materials_and_the_specialist_returns_then_confirms(portal, db_url):
    _activity(portal, db_url)
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = admin.get(f"/materials/{CODE}")
    assert page.status_code == 200 and "待提交" in page.text and "提交物料" in page.text
    tasks = admin.get("/")
    assert "提交活动手册与运营物料：龙泉山 秋季穿越" in tasks.text
    done = admin.post(
        f"/materials/{CODE}/submit",
        data={"csrf": csrf_of(page.text), "handbook": "https://pan.example.com/h.pdf",
              "operations": "https://pan.example.com/o.xlsx"},
    )  # fmt: skip
    assert done.status_code == 200 and "已提交，等待确认" in done.text
    [ask] = [m for m in portal.sink.to("role/regional_specialist/chengdu") if "活动物料" in m.title]
    assert f"/materials/{CODE}" in ask.body or "/go/" in ask.body

    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    page = specialist.get(f"/materials/{CODE}")
    assert "确认或退回" in page.text and "https://pan.example.com/h.pdf" in page.text
    bad = specialist.post(
        f"/materials/{CODE}/decide", data={"csrf": csrf_of(page.text), "outcome": "return"}
    )
    assert bad.status_code == 400 and "needs a reason" in bad.text
    back = specialist.post(
        f"/materials/{CODE}/decide",
        data={"csrf": csrf_of(page.text), "outcome": "return", "reason": "缺少安全预案"},
    )
    assert "已退回组织者" in back.text
    [returned] = [m for m in portal.sink.to("person/admin.ch001") if "被退回" in m.title]
    assert "缺少安全预案" in returned.body

    # Another region's specialist may see nothing of it; the refusal is recorded.
    other = portal.sign_in("specialist.beijing", "person/specialist.beijing")
    assert other.get(f"/materials/{CODE}").status_code == 403
    with session_scope(db_url) as session:
        row = session.execute(select(ActivityMaterials)).scalar_one()
        refused = session.execute(select(Refusal.action, Refusal.actor)).all()
    assert (row.status, row.round, row.return_reason) == ("returned", 2, "缺少安全预案")
    assert refused == [("materials.view", "specialist.beijing")]


def test_the_operator_records_competitors_and_submits_the_report_hq_reads_it(portal, db_url):
    today = calendar.business_date(portal.clock())
    month = f"{today:%Y-%m}"
    agency = portal.sign_in("agency.lead", "person/agency.lead")
    page = agency.get("/competitors")
    assert page.status_code == 200 and f'竞品活动 <span class="muted">{month}</span>' in page.text
    entry = {
        "brand": "坦克",
        "activity_type": "冰雪试驾",
        "features": "冰面漂移",
        "region": "shenyang",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=1)).isoformat(),
        "assessment": "声量大",
    }
    bad = agency.post(
        "/competitors/add", data={"csrf": csrf_of(page.text), **entry, "brand": "大众"}
    )
    assert (
        bad.status_code == 400
        and "不是" not in bad.text
        and "is not a tracked competitor" in bad.text
    )
    assert 'value="冰雪试驾"' in bad.text  # what was typed is kept
    added = agency.post("/competitors/add", data={"csrf": csrf_of(page.text), **entry})
    assert added.status_code == 200 and "<td>冰雪试驾</td>" in added.text
    done = agency.post("/competitors/submit", data={"csrf": csrf_of(added.text), "month": month})
    assert f"{month} 竞品月报已提交（1 条）" in done.text
    [told] = [m for m in portal.sink.to("role/campaign_manager") if "竞品活动月报" in m.title]
    assert told.title == f"竞品活动月报 {month} 已提交（1 条）"

    hq = portal.sign_in("hq.manager", "person/hq.manager")
    read = hq.get(f"/competitors?month={month}")
    assert (
        read.status_code == 200 and "<td>坦克</td>" in read.text and "记录竞品活动" not in read.text
    )
    club = portal.sign_in("admin.ch001", "person/admin.ch001")
    assert club.get("/competitors").status_code == 403
    with session_scope(db_url) as session:
        assert session.execute(select(CompetitorActivity.brand)).scalars().all() == ["坦克"]
        report = session.execute(select(CompetitorReport)).scalar_one()
        refused = session.execute(select(Refusal.action, Refusal.actor)).all()
    assert (report.month, report.entries, report.submitted_by) == (
        date(today.year, today.month, 1), 1, "agency.lead"
    )  # fmt: skip
    assert refused == [("competitors.view", "admin.ch001")]


@pytest.fixture(scope="session")
def _quarter_gate(prefect_server) -> GateRunner:
    return GateRunner(["plan-quarter"])


def test_hq_confirms_the_draft_in_the_portal_with_another_host_and_a_reason(
    _quarter_gate, channels, portal, db_url, tmp_path
):
    _quarter_gate.reset()
    # 1 December: the 2027Q1 draft, with the January snow gathering.
    draft_quarter(_quarter_gate, now=portal.clock(), ics_dir=tmp_path, quarter="2027Q1")
    with session_scope(db_url) as session:
        gate_id = session.execute(select(Gate.id)).scalar_one()
    hq = portal.sign_in("hq.manager", "person/hq.manager")
    assert f'href="/gates/{gate_id}"' in hq.get("/").text
    page = hq.get(f"/gates/{gate_id}")
    assert "总部确认季度计划" in page.text and "年度集结令 · 冰雪集结" in page.text
    assert 'value="revise"' not in page.text and 'name="host_region"' in page.text
    done = hq.post(
        f"/gates/{gate_id}/decide",
        data={
            "csrf": csrf_of(page.text),
            "outcome": "approve",
            "host_region": "guangzhou",
            "comment": "广州车展联动",
        },
    )
    assert "已提交：approve" in done.text
    [run] = _quarter_gate.run_pending()
    assert run.state.name == "Completed"
    with session_scope(db_url) as session:
        row = session.execute(select(QuarterConfirmation)).scalar_one()
    assert (row.host, row.reason, row.confirmed_by) == ("guangzhou", "广州车展联动", "hq.manager")
    assert row.changes[0] == f"host {row.drafted_host} → guangzhou"
