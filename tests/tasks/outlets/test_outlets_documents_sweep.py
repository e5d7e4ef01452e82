"""The daily document sweep: one reminder before expiry, suspension after it (dealer and
specialist told once), refused registration recorded; a renewal leaves the outlet suspended
until the qualification is reviewed again."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Notification
from domain.models_audit import Refusal
from tasks.audit import Refused
from tasks.outlets.documents import sweep_outlet_documents
from tasks.outlets.store import (
    DocumentIn,
    OutletIn,
    record_review_passed,
    register_outlet,
    renew_document,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 5, 31, 8, 0, tzinfo=SH)
KINDS = ("business_licence", "tax_registration", "organisation_code")


def _outlet(expires: date) -> OutletIn:
    return OutletIn(
        code="O-BE001-01",
        name="廊坊越野二网",
        cities=["廊坊"],
        contact_phone="13912345678",
        documents=[
            DocumentIn(
                kind=k, number=f"NO{i}12345678", expires_on=expires if i == 0 else date(2030, 1, 1)
            )
            for i, k in enumerate(KINDS)
        ],
    )


def _active(db_url, expires: date) -> None:
    with session_scope(db_url) as session:
        register_outlet(session=session, outlet=_outlet(expires), by="dealer.be001", now=NOW)
        for review in ("qualification", "risk", "contract"):
            view = record_review_passed(
                session=session, code="O-BE001-01", review=review, today=NOW.date(), now=NOW
            )
    assert view.status == "active"


def _sweep(db_url, today: date):
    with session_scope(db_url) as session:
        return sweep_outlet_documents(
            session=session, today=today, now=NOW, settings=get_settings()
        )


def test_a_document_is_reminded_once_then_suspends_the_outlet(db_url, world):
    _active(db_url, date(2027, 6, 30))
    first = _sweep(db_url, date(2027, 5, 31))
    again = _sweep(db_url, date(2027, 6, 1))
    assert (first.reminded, again.reminded) == (["O-BE001-01:business_licence"], [])
    gone = _sweep(db_url, date(2027, 7, 1))
    assert gone.suspended == ["O-BE001-01"]
    assert _sweep(db_url, date(2027, 7, 2)).suspended == []  # already suspended
    with session_scope(db_url) as session:
        rows = session.execute(select(Notification).order_by(Notification.id)).scalars().all()
        sent = [(n.recipient, n.title) for n in rows]
    assert sent == [
        ("dealer:BE001", "二网 O-BE001-01 的营业执照将于 2027-06-30 到期"),
        ("dealer:BE001", "二网 O-BE001-01 已暂停：营业执照已过期"),
        ("role:regional_specialist:beijing", "二网 O-BE001-01 已暂停：营业执照已过期"),
    ]
    assert "（******345678）" not in rows[0].body and "NO012345678" not in rows[0].body

    with session_scope(db_url) as session:
        view = renew_document(
            session=session,
            code="O-BE001-01",
            document=DocumentIn(
                kind="business_licence", number="NEW87654321", expires_on=date(2032, 6, 30)
            ),
            by="dealer.be001",
            today=date(2027, 7, 2),
            now=NOW,
        )
        assert (view.status, view.renewals, "qualification" in view.passed) == (
            "suspended",
            1,
            False,
        )
        view = record_review_passed(
            session=session,
            code="O-BE001-01",
            review="qualification",
            today=date(2027, 7, 3),
            now=NOW,
        )
    assert view.status == "active"


def test_another_dealers_staff_may_not_register_and_the_refusal_stays(db_url, world):
    with pytest.raises(Refused, match="registering an outlet is for dealer staff"):
        with session_scope(db_url) as session:
            register_outlet(
                session=session, outlet=_outlet(date(2030, 1, 1)), by="finance", now=NOW
            )
    with session_scope(db_url) as session:
        [refusal] = session.execute(select(Refusal)).scalars().all()
    assert (refusal.action, refusal.subject, refusal.actor) == (
        "outlet.register", "outlet:O-BE001-01", "finance",
    )  # fmt: skip
