"""Registration records the consent asked (service yes, marketing as answered); a member
changes only their own consent; staff outside the call centre and clubs are refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.consent import ContactChannel, Purpose
from domain.members import RegistrationInput
from domain.models_audit import Refusal
from tasks.audit import Refused
from tasks.members.registration import register_members
from tasks.retention.consent import consent_table, member_consents, set_consent

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, tzinfo=SH)


def test_registration_records_service_yes_and_marketing_as_asked(world, db_url):
    with session_scope(db_url) as session:
        result = register_members(
            session=session,
            registrations=[
                RegistrationInput(
                    name="赵一", phone="13700000001", club_code="C-CH001", marketing_consent=True
                ),
                RegistrationInput(name="钱二", phone="13700000002", club_code="C-CH001"),
            ],  # fmt: skip
            now=NOW,
            settings=get_settings(),
        )
        yes, no = result.created
        consents = member_consents(session=session, member_nos={yes, no})
        table = consent_table(session=session, member_no=no)
    assert consents[yes] == {
        ("sms", "service"): True,
        ("sms", "marketing"): True,
        ("phone", "service"): True,
        ("phone", "marketing"): True,
    }
    assert consents[no][("sms", "marketing")] is False
    assert consents[no][("sms", "service")] is True
    assert [(r["channel"], r["purpose"], r["allowed"], r["changed_by"]) for r in table] == [
        ("sms", "service", True, "registration"),
        ("sms", "marketing", False, "registration"),
        ("phone", "service", True, "registration"),
        ("phone", "marketing", False, "registration"),
    ]


@pytest.mark.parametrize(
    ("actor", "reason"),
    [
        ("member:M000002", "member:M000002 may change only their own consent"),
        ("finance", "changing a member's consent is for call_agent or call_supervisor"),
    ],
)
def test_only_the_member_or_staff_change_a_consent(world, db_url, actor, reason):
    with session_scope(db_url) as session, pytest.raises(Refused, match=reason):
        set_consent(
            session=session,
            member_no="M000001",
            channel=ContactChannel.sms,
            purpose=Purpose.marketing,
            allowed=False,
            actor=actor,
            now=NOW,
        )
    with session_scope(db_url) as session:
        assert member_consents(session=session, member_nos={"M000001"})["M000001"][
            ("sms", "marketing")
        ]
        rows = session.execute(select(Refusal.action, Refusal.actor)).all()
    assert [tuple(r) for r in rows] == [("member.consent", actor)]
