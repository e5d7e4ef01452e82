"""A lead file read in many small chunks stores exactly what it stores read in one: the same
leads, merges (also across chunks and with open leads), rejects with their line numbers,
counts and rejects file; and the same file again adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from support_leads import lead_file, mobile

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import Settings
from clubflow.world import WorldSize, seed_demo_world
from domain.models import Dealer, Lead, LeadImport, LeadStatus, Person
from domain.models_leads import LeadReject
from tasks.leads.intake import import_lead_bytes

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 30, 11, 0, tzinfo=SH)
TIMES = ("2026-09-30 09:00", "2026-09-29 23:30")


def _store(tmp_path: Path, name: str) -> Settings:
    url = f"sqlite:///{tmp_path / name}.db"
    migrate(url)
    with session_scope(url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=2, members=0, leads=0))
        # An open lead the file's row 2 (the first good row) merges into.
        session.add(
            Lead(
                phone="+86" + mobile(0),
                city="成都",
                region_code="chengdu",
                source="官网",
                sources=["官网"],
                arrived_at=NOW - timedelta(days=2),
                business_day=(NOW - timedelta(days=2)).date(),
                status=LeadStatus.open,
            )
        )
    return Settings(database_url=url, leads_export_dir=str(tmp_path / name / "exports"))


def _cities(settings: Settings) -> tuple[str, ...]:
    with session_scope(settings.database_url) as session:
        return tuple(sorted(set(session.execute(select(Dealer.city)).scalars())))[:3]


def _snapshot(settings: Settings, summary) -> dict:
    with session_scope(settings.database_url) as session:
        leads = session.execute(
            select(
                Lead.phone,
                Lead.name,
                Lead.city,
                Lead.sources,
                Lead.source_ref,
                Lead.call_day,
                Lead.third_call_due,
                Lead.status,
            ).order_by(Lead.source_ref)
        ).all()
        rejects = session.execute(
            select(
                LeadReject.line_no,
                LeadReject.reason,
                LeadReject.pending,
                LeadReject.field,
                LeadReject.source_ref,
            ).order_by(LeadReject.line_no)
        ).all()
        counts = session.execute(
            select(LeadImport.rows, LeadImport.created, LeadImport.merged, LeadImport.rejected)
        ).all()
        loads = Counter(
            session.execute(
                select(Person.username).join(Lead, Lead.agent_id == Person.id)
            ).scalars()
        )
    return {
        "leads": [tuple(row) for row in leads],
        "rejects": [tuple(row) for row in rejects],
        "import": counts,
        "loads": sorted(loads.values()),
        "summary": (
            summary.rows,
            summary.created,
            summary.merged,
            summary.rejected,
            summary.pending,
            summary.assigned,
            summary.reject_samples,
        ),
        "rejects_csv": Path(summary.rejects_csv).read_text(encoding="utf-8-sig"),
    }


def _import(settings: Settings, data: bytes):
    with session_scope(settings.database_url) as session:
        return import_lead_bytes(
            data, session=session, source="csv", filename="leads.csv", now=NOW, settings=settings
        )


def test_a_file_in_chunks_of_seven_lines_stores_what_it_stores_in_one(tmp_path):
    one = _store(tmp_path, "one")
    many = _store(tmp_path, "many").model_copy(update={"leads_intake_chunk_rows": 7})
    generated = lead_file(good=60, duplicates=15, bad=10, cities=_cities(one), times=TIMES)
    # A blank line inside a chunk: skipped, and the lines after it keep their numbers.
    lines = generated.data.split(b"\r\n")
    data = b"\r\n".join([*lines[:30], b"", *lines[30:]])
    bad_lines = {n if n <= 30 else n + 1: reason for n, reason in generated.bad_lines.items()}

    whole = _snapshot(one, _import(one, data))
    chunked = _snapshot(many, _import(many, data))

    assert chunked == whole
    # What a user checks: every lead once, every merge counted, each bad row by its line.
    assert len(whole["leads"]) == 1 + 59  # the open lead, and 60 phones less its own
    assert whole["summary"][:5] == (85, 59, 16, 8, 2)  # rows, created, merged, final, pending
    assert [line for line, *_ in whole["rejects"]] == sorted(bad_lines)
    for line, reason, *_ in whole["rejects"]:
        assert reason.startswith(f"line {line}:") and bad_lines[line] in reason
    assert len(whole["rejects_csv"].splitlines()) == 1 + 10
    # Each merge adds its source: 14 duplicates inside the file (across chunks), and the open
    # lead takes the file's first row and that row's duplicate.
    assert sorted(len(row[3]) for row in whole["leads"]) == [1] * 45 + [2] * 14 + [3]


def test_the_same_file_in_chunks_again_adds_nothing(tmp_path):
    settings = _store(tmp_path, "again").model_copy(update={"leads_intake_chunk_rows": 5})
    generated = lead_file(good=30, duplicates=4, bad=5, cities=_cities(settings), times=TIMES)
    first = _import(settings, generated.data)
    second = _import(settings, generated.data)
    assert (first.created, first.already_imported) == (29, False)
    assert (second.created, second.merged, second.already_imported) == (0, 0, True)
    assert second.rows == first.rows == 39
    with session_scope(settings.database_url) as session:
        assert len(session.execute(select(Lead.id)).all()) == 30
        assert len(session.execute(select(LeadReject.id)).all()) == 5
