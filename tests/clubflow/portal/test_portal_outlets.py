"""Second-tier outlets in the portal: BE001's staff register an outlet with its three
documents (one an uploaded scan), which starts its qualification run; Beijing's specialist,
HQ finance (a low score refused at once, then a pass) and HQ legal decide the three reviews on
their gate pages, and the outlet is active on /outlets. Others are refused (recorded); phones
and registration numbers are masked; an expiring document is renewed by the dealer, which
starts the re-review."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from browser_support import open_session_cookie
from gate_runner import GateRunner
from portal_client import Clock, Portal, csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from clubflow.portal.app import create_app
from clubflow.portal.web import COOKIE
from domain.models import Decision, Gate
from domain.models_audit import Refusal
from domain.models_outlets import Outlet, OutletDocument
from domain.models_portal import PortalAudit

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=SH)
CODE = "O-BE001-01"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="session")
def _outlet_runner(prefect_server) -> GateRunner:
    return GateRunner(["outlet-qualification"])


@pytest.fixture
def runner(_outlet_runner, channels) -> GateRunner:
    _outlet_runner.reset()
    return _outlet_runner


@pytest.fixture
def portal(channels, db_url, sink, settings_env, tmp_path, world):
    from tasks.outbox import deliver_due

    settings_env(evidence_dir=tmp_path / "evidence")
    settings = get_settings()
    clock = Clock(NOW)

    def deliver() -> None:
        deliver_due(url=db_url, channels=channels, now=clock(), settings=settings)

    client = Portal(
        app=create_app(settings=settings, now=clock, deliver=deliver), clock=clock, sink=sink
    )
    client.deliver = deliver
    return client


def _as(portal, db_url, username: str):
    client = portal.client()
    client.cookies.set(
        COOKIE,
        open_session_cookie(
            portal.app, database_url=db_url, who=f"person:{username}", now=portal.clock()
        ),
    )
    return client


def _form(**values) -> dict:
    form = {
        "code": CODE,
        "name": "廊坊越野二网",
        "cities": "廊坊、固安",
        "contact_name": "刘经理",
        "contact_phone": "13912345678",
        "number_business_licence": "91110105MA01ABCD2X",
        "expires_business_licence": "2028-06-30",
        "number_tax_registration": "110105123456789",
        "expires_tax_registration": "2027-03-20",
        "link_tax_registration": "https://files.example/tax.pdf",
        "number_organisation_code": "MA01ABCD-2",
        "expires_organisation_code": "2029-01-31",
        "link_organisation_code": "https://files.example/org.pdf",
    }
    return {**form, **values}


def _register(portal, db_url, **values):
    dealer = _as(portal, db_url, "dealer.be001")
    page = dealer.get("/outlets/new")
    assert page.status_code == 200 and "登记二网" in page.text
    response = dealer.post(
        "/outlets/new",
        data={**_form(**values), "csrf": csrf_of(page.text)},
        files={"file_business_licence": ("licence.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    return dealer, response


def _gate_id(db_url, key: str) -> int:
    with session_scope(db_url) as session:
        return session.execute(
            select(Gate.id).where(Gate.subject_code == CODE, Gate.key == key, Gate.status == "open")
        ).scalar_one()


def _decide(portal, db_url, username: str, key: str, **fields):
    client = _as(portal, db_url, username)
    gate_id = _gate_id(db_url, key)
    page = client.get(f"/gates/{gate_id}")
    assert page.status_code == 200, page.text
    return page, client.post(
        f"/gates/{gate_id}/decide",
        data={"outcome": "approve", "comment": "", **fields, "csrf": csrf_of(page.text)},
    )


def _refusals(db_url, action: str) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Refusal.actor, Refusal.subject).where(Refusal.action == action)
        ).all()
    return [tuple(r) for r in rows]


def test_registered_in_the_portal_and_reviewed_on_the_gate_pages_it_becomes_active(
    portal, runner, db_url, sink, tmp_path
):
    dealer, response = _register(portal, db_url)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/outlets/{CODE}?done=registered"
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at the qualification review

    with session_scope(db_url) as session:
        outlet = session.execute(select(Outlet).where(Outlet.code == CODE)).scalar_one()
        docs = {
            d.kind: d
            for d in session.execute(
                select(OutletDocument).where(OutletDocument.outlet_id == outlet.id)
            ).scalars()
        }
    assert (outlet.registered_by, outlet.cities, outlet.status) == (
        "dealer.be001",
        ["廊坊", "固安"],
        "pending",
    )
    # The uploaded scan is stored by its content; the link is where it is.
    assert docs["business_licence"].link.startswith(str(tmp_path / "evidence" / "outlets" / CODE))
    assert docs["tax_registration"].link == "https://files.example/tax.pdf"

    page = dealer.get(f"/outlets/{CODE}?done=registered")
    assert "三项审核流程已启动" in page.text
    assert "139****5678" in page.text and "13912345678" not in page.text
    assert "**************CD2X" in page.text and "91110105MA01ABCD2X" not in page.text
    assert "待审核 (open)" in page.text and "未开始 (waiting)" in page.text
    assert f'href="/gates/{_gate_id(db_url, "qualification")}"' in page.text
    # 2027-03-01: the tax registration runs out on 03-20, 19 days left: renewable.
    assert "19 天" in page.text and 'action="/outlets/O-BE001-01/renew"' in page.text

    listing = dealer.get("/outlets")
    assert "廊坊越野二网（O-BE001-01）" in listing.text and "审核中 (pending)" in listing.text
    assert "税务登记证 至 2027-03-20（剩 19 天）" in listing.text

    # The region's specialist sees the documents on the gate page and approves.
    page, done = _decide(portal, db_url, "specialist.beijing", "qualification")
    assert "营业执照" in page.text and "**************CD2X" in page.text
    assert "13912345678" not in page.text
    assert "已提交：approve" in done.text
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at the risk assessment

    # HQ finance: a checklist below the pass mark is refused at once and recorded.
    page, low = _decide(
        portal, db_url, "finance", "risk", **{"score-credit": "50", "score-finance": "50",
                                              "score-business": "50"}
    )  # fmt: skip
    assert 'name="score-credit"' in page.text
    assert "已拒绝：risk score 50 is below the pass mark 60" in low.text
    assert runner.run_pending() == []  # nothing was sent to the run
    assert _refusals(db_url, "outlet.risk") == [("finance", f"outlet:{CODE}")]
    _, passed = _decide(
        portal, db_url, "finance", "risk", **{"score-credit": "80", "score-finance": "70",
                                              "score-business": "65"}
    )  # fmt: skip
    assert "已提交：approve" in passed.text
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at the contract review
    _decide(portal, db_url, "legal", "contract")
    [run] = runner.run_pending()
    assert run.state.name == "Completed"

    with session_scope(db_url) as session:
        outlet = session.execute(select(Outlet).where(Outlet.code == CODE)).scalar_one()
        deciders = session.execute(
            select(Decision.decider, Decision.accepted).order_by(Decision.id)
        ).all()
    assert (outlet.status, outlet.risk_score) == ("active", 72.8)
    assert [tuple(d) for d in deciders] == [
        ("specialist.beijing", True),
        ("finance", False),
        ("finance", True),
        ("legal", True),
    ]
    listing = _as(portal, db_url, "hq.manager").get("/outlets")
    assert "已生效 (active)" in listing.text and listing.text.count("已通过 (passed)") == 3
    portal.deliver()
    assert [m.title for m in sink.to("dealer/BE001")][-1] == f"二网 {CODE} 已生效"

    # A renewed document (the tax registration, 19 days left) starts its re-review.
    page = dealer.get(f"/outlets/{CODE}")
    renewed = dealer.post(
        f"/outlets/{CODE}/renew",
        data={"kind": "tax_registration", "number": "110105999999999",
              "expires_on": "2030-03-20", "link": "https://files.example/tax2.pdf",
              "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert renewed.status_code == 303, renewed.text
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at qualification_renewal1
    page = dealer.get(f"/outlets/{CODE}?done=renewed")
    assert "资质复审流程已启动" in page.text and "已暂停 (suspended)" in page.text
    assert f'href="/gates/{_gate_id(db_url, "qualification_renewal1")}"' in page.text
    assert "2030-03-20" in page.text
    assert "***********9999" in page.text and "110105999999999" not in page.text
    with session_scope(db_url) as session:
        rows = session.execute(
            select(PortalAudit.action, PortalAudit.outcome).where(
                PortalAudit.action.in_(("outlet.register", "outlet.renew"))
            )
        ).all()
    assert [tuple(r) for r in rows] == [("outlet.register", "ok"), ("outlet.renew", "ok")]


def test_others_are_refused_recorded_and_bad_input_named(portal, runner, db_url):
    # Registering is a dealer's staff's.
    finance = _as(portal, db_url, "finance")
    assert finance.get("/outlets/new").status_code == 403
    assert _refusals(db_url, "outlet.register") == [("finance", "outlets")]
    # A missing document is named in one line; nothing is stored, no run started.
    _, missing = _register(portal, db_url, number_organisation_code="")
    assert missing.status_code == 422
    assert "documents.2.number" in missing.text
    _, bad_date = _register(portal, db_url, expires_tax_registration="")
    assert bad_date.status_code == 422 and "documents.1.expires_on" in bad_date.text
    with session_scope(db_url) as session:
        assert session.execute(select(Outlet)).first() is None
    assert runner.run_pending() == []

    dealer, response = _register(portal, db_url)
    assert response.status_code == 303
    # Chengdu's specialist and CH001's staff do not see a Beijing outlet.
    other = _as(portal, db_url, "specialist.chengdu")
    assert CODE not in other.get("/outlets").text
    assert other.get(f"/outlets/{CODE}").status_code == 403
    assert _refusals(db_url, "outlets.view") == [("specialist.chengdu", f"outlet:{CODE}")]
    ch001 = _as(portal, db_url, "dealer.ch001")
    assert CODE not in ch001.get("/outlets").text
    # Beijing's specialist sees it but may not renew its documents.
    beijing = _as(portal, db_url, "specialist.beijing")
    page = beijing.get(f"/outlets/{CODE}")
    assert page.status_code == 200 and "更新并提交复审" not in page.text
    refused = beijing.post(
        f"/outlets/{CODE}/renew",
        data={"kind": "tax_registration", "number": "X1", "expires_on": "2030-01-01",
              "csrf": csrf_of(page.text)},
    )  # fmt: skip
    assert refused.status_code == 403
    assert _refusals(db_url, "outlet.renew") == [("specialist.beijing", f"outlet:{CODE}")]
    # The qualification is the region's specialist's: finance may not open its gate.
    [run] = runner.run_pending()
    assert run.state.name == "Suspended"
    gate_id = _gate_id(db_url, "qualification")
    assert finance.get(f"/gates/{gate_id}").status_code == 403
    # A file that is not a scan is refused in one line.
    page = dealer.get("/outlets/new")
    fake = dealer.post(
        "/outlets/new",
        data={**_form(code="O-BE001-02"), "csrf": csrf_of(page.text)},
        files={"file_business_licence": ("licence.pdf", b"MZ\x90\x00not a pdf", "application/pdf")},
    )
    assert fake.status_code == 422 and "licence.pdf: 文件内容不是允许的类型" in fake.text


def test_an_expired_document_shows_days_past(portal, runner, db_url):
    _register(portal, db_url)
    portal.clock.now = datetime(2027, 3, 25, 10, 0, tzinfo=SH)
    page = _as(portal, db_url, "hq.manager").get(f"/outlets/{CODE}")
    assert "已过期 5 天" in page.text
    assert date(2027, 3, 20).isoformat() in page.text
