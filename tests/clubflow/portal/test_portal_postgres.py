"""The portal on PostgreSQL: sign-in, sessions, the rate limit, the audit and a check-in go
through the same store code as on SQLite; here they run against a real PostgreSQL."""

from __future__ import annotations

import re

import pytest
from clock import WORLD_NOW
from portal_client import Clock, Portal, csrf_of
from sqlalchemy import select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.portal.app import create_app
from clubflow.world import WorldSize, inbox_channels, seed_demo_world
from domain.models import Activity, ActivityClass, Club, Member, Registration
from domain.models_portal import PortalAudit, PortalSession

pytestmark = pytest.mark.postgres
CODE = "C-CH001-20261201"


@pytest.fixture
def pg_portal(prefect_server, postgres_url, settings_env, sink) -> Portal:
    from tasks.outbox import deliver_due

    settings_env(database_url=postgres_url, portal_signin_limit=50)
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=60, leads=0), now=WORLD_NOW
        )
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(
                code=CODE,
                title="雨林穿越 冬季站",
                klass=ActivityClass.C,
                region_code=club.region_code,
                club_id=club.id,
                starts_on=WORLD_NOW.date(),
                ends_on=WORLD_NOW.date(),
                status="announced",
                proposed_by="admin.ch001",
            )
        )
        channels = inbox_channels(session=session, inbox_url=sink.base)
    channels.save("default", overwrite=True)
    settings = get_settings()
    clock = Clock()

    def deliver() -> None:
        deliver_due(url=postgres_url, channels=channels, now=clock(), settings=settings)

    return Portal(
        app=create_app(settings=settings, now=clock, deliver=deliver), clock=clock, sink=sink
    )


def test_sign_in_check_in_and_the_audit_on_postgresql(pg_portal, postgres_url):
    admin = pg_portal.sign_in("admin.ch001", "person/admin.ch001")
    poster = admin.get(f"/activities/{CODE}/qr")
    scan = re.search(rf"https?://[^/\s<]+(/checkin/{CODE}/[\w.\-]+)", poster.text).group(1)

    member = pg_portal.sign_in("13900000002", "sms/13900000002")
    page = member.get(scan)
    done = member.post(scan, data={"csrf": csrf_of(page.text)})
    again = member.post(scan, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "已签到" in again.text

    with session_scope(postgres_url) as session:
        rows = session.execute(
            select(Member.member_no, Registration.source)
            .join(Registration, Registration.member_id == Member.id)
            .join(Activity, Activity.id == Registration.activity_id)
            .where(Activity.code == CODE)
        ).all()
        sessions = session.execute(select(PortalSession.who)).scalars().all()
    assert [tuple(r) for r in rows] == [("M000002", "qr")]
    assert sorted(sessions) == ["member:M000002", "person:admin.ch001"]

    hq = pg_portal.sign_in("hq.manager", "person/hq.manager")
    export = hq.get("/audit.csv?action=checkin")
    lines = export.text.strip().splitlines()
    assert lines[0].startswith("at,actor,action,subject,outcome")
    assert any("member:M000002" in line and "ok" in line for line in lines[1:])
    refused = admin.get("/audit")
    assert refused.status_code == 403
    with session_scope(postgres_url) as session:
        outcomes = (
            session.execute(select(PortalAudit.outcome).where(PortalAudit.action == "audit.view"))
            .scalars()
            .all()
        )
    assert outcomes == ["refused"]
