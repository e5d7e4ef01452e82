"""The registration form asks the marketing consent: ticked is a yes, unticked a no; service
messages (the activation code) go out either way."""

from __future__ import annotations

import pytest
from portal_client import csrf_of
from sqlalchemy import select
from support_checkin import roomy  # noqa: F401

from clubflow.core.db import session_scope
from domain.models import Member
from tasks.retention.consent import member_consents

pytestmark = pytest.mark.usefixtures("roomy")


def test_the_registration_form_records_the_marketing_consent(portal, db_url):
    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    for name, phone, ticked in (("韩梅梅", "13812340001", True), ("李雷", "13812340002", False)):
        page = admin.get("/members/new")
        assert "会员同意接收营销推广" in page.text
        data = {"csrf": csrf_of(page.text), "name": name, "phone": phone, "birthday": ""}
        if ticked:
            data["marketing_consent"] = "yes"
        done = admin.post("/members/new", data=data)
        assert done.status_code == 200, done.text
        assert len(portal.sink.to(f"sms/{phone}")) == 1  # the activation code: service
    with session_scope(db_url) as session:
        numbers = dict(
            session.execute(
                select(Member.phone, Member.member_no).where(
                    Member.phone.in_(["+8613812340001", "+8613812340002"])
                )
            ).all()
        )
        consents = member_consents(session=session, member_nos=set(numbers.values()))
    assert consents[numbers["+8613812340001"]][("sms", "marketing")] is True
    assert consents[numbers["+8613812340002"]][("sms", "marketing")] is False
    assert consents[numbers["+8613812340002"]][("sms", "service")] is True
