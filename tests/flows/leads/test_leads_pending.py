"""The lead-import trap: a file imported before the dealers exist must not lose its leads.
Rows whose city has no dealer yet stay pending; once the dealers exist, the next intake run
brings them in, once each, and only rows bad for good are final."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.world import WorldSize, seed_demo_world
from domain.models import Lead
from domain.models_leads import LeadReject

pytestmark = pytest.mark.slow
runner = CliRunner()

FILE = (
    "姓名,电话,意向车型,城市,来源,留资时间\n"
    "王伟,13812345678,越野SUV,成都,汽车之家,2026-10-12 09:00\n"
    "李娜,10012345678,皮卡,成都,汽车之家,2026-10-12 09:05\n"  # bad phone: final
    "赵强,13912345678,越野SUV,北京市,汽车之家,2026-10-12 09:10\n"
    "钱多,13712345678,越野SUV,成都,懂车帝,2026-10-12 09:20\n"
)


def _count(db_url, *where) -> int:
    with session_scope(db_url) as session:
        return session.execute(select(func.count()).select_from(Lead).where(*where)).scalar_one()


def _cell(out: str, key: str) -> int:
    found = re.search(rf"{key}\s+│\s+(\d+) │", out)
    assert found, out
    return int(found.group(1))


def test_no_dealers_then_dealers_appear_every_lead_comes_in_once(
    prefect_server, db_url, settings_env, tmp_path
):
    settings_env(
        database_url=db_url,
        leads_export_dir=tmp_path / "exports",
        leads_inbox_dir=tmp_path / "inbox",
    )
    path = tmp_path / "leads.csv"
    path.write_bytes(FILE.encode("gbk"))
    args = ["leads", "import", str(path), "--now", "2026-10-12T10:00"]

    # -- a migrated database with no dealers: nothing is stored, nothing is lost
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert (_cell(first.output, "created"), _cell(first.output, "pending")) == (0, 3)
    assert _cell(first.output, "rejected") == 1
    assert "3 row(s) pending" in first.output
    assert "100****5678" in first.output and "10012345678" not in first.output
    assert _count(db_url) == 0
    with session_scope(db_url) as session:
        kept = session.execute(select(LeadReject).order_by(LeadReject.line_no)).scalars().all()
        assert [(r.line_no, r.pending, r.field) for r in kept] == [
            (2, True, "city"),
            (3, False, "phone"),
            (4, True, "city"),
            (5, True, "city"),
        ]

    # -- the dealers appear; the same file again is "already imported", yet its leads come in
    with session_scope(db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert _cell(second.output, "created") == 3 and _cell(second.output, "pending") == 0
    assert _cell(second.output, "from_pending") == 3
    with session_scope(db_url) as session:
        leads = session.execute(select(Lead).order_by(Lead.phone)).scalars().all()
        assert [(lead.phone, lead.city, lead.region_code) for lead in leads] == [
            ("+8613712345678", "成都", "chengdu"),
            ("+8613812345678", "成都", "chengdu"),
            ("+8613912345678", "北京", "beijing"),
        ]
        # Called from when they could be called, not from a day already past.
        assert all(lead.call_day is not None and lead.agent_id is not None for lead in leads)
        resolved = (
            session.execute(select(LeadReject).where(LeadReject.pending.is_(True))).scalars().all()
        )
        assert {r.lead_id for r in resolved} == {lead.id for lead in leads}
        assert all(r.resolved_at is not None for r in resolved)

    # -- nothing twice: another run (and the file once more) adds nothing
    third = runner.invoke(app, args)
    assert third.exit_code == 0, third.output
    assert _cell(third.output, "created") == 0 and _cell(third.output, "from_pending") == 0
    assert _count(db_url) == 3


def test_a_later_file_with_the_same_phone_merges_into_the_recovered_lead(
    prefect_server, db_url, settings_env, tmp_path
):
    from flows.leads.intake import leads_intake

    settings_env(database_url=db_url, leads_export_dir=tmp_path / "exports")
    early = tmp_path / "early.csv"
    early.write_bytes(FILE.encode("utf-8"))
    got = leads_intake(files=[str(early)], pull_source=False, now="2026-10-12T10:00:00+08:00")
    assert (got["created"], got["pending"], got["rejected"]) == (0, 3, 1)

    with session_scope(db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
    later = tmp_path / "later.csv"
    later.write_bytes("phone,city,source\n13812345678,成都,官网\n13612345678,广州,官网\n".encode())
    got = leads_intake(files=[str(later)], pull_source=False, now="2026-10-13T10:00:00+08:00")
    # The pending rows came first (they arrived first); the later copy of one merged into it.
    assert (got["from_pending"], got["created"], got["merged"]) == (3, 4, 1)
    with session_scope(db_url) as session:
        lead = session.execute(select(Lead).where(Lead.phone == "+8613812345678")).scalar_one()
        assert lead.sources == ["汽车之家", "官网"]
    assert _count(db_url) == 4
