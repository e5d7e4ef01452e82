"""The outbox respects members' consent: marketing needs a yes, an opt-out is refused when
queueing and, when it came after queueing, withheld at send time (never sent later)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.consent import ContactChannel, Purpose
from domain.models import Member, Notification, NotificationStatus
from domain.models_retention import MemberConsent, MemberConsentChange
from flows.notifications import deliver_notifications
from tasks.outbox import NotificationRequest, queue_notifications_task
from tasks.retention.consent import set_consent

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)


def _request(no: str, key: str, *, purpose: str = "service", template: str = "test_message"):
    return NotificationRequest(
        recipient=f"member:{no}",
        template=template,
        context={"name": "车主", "seq": 1, "club": "俱乐部", "activity": None},
        idem_key=key,
        purpose=purpose,
    )


def _set(db_url: str, no: str, purpose: Purpose, allowed: bool, actor: str | None = None):
    with session_scope(db_url) as session:
        set_consent(
            session=session,
            member_no=no,
            channel=ContactChannel.sms,
            purpose=purpose,
            allowed=allowed,
            actor=actor or f"member:{no}",
            now=NOON,
        )
        session.commit()


def _clear_consent(db_url: str, no: str) -> None:
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == no)).scalar_one()
        for model in (MemberConsent, MemberConsentChange):
            for row in session.execute(select(model).where(model.member_id == member.id)).scalars():
                session.delete(row)
        session.commit()


def _rows(db_url: str) -> dict[str, Notification]:
    with session_scope(db_url) as session:
        return {n.idem_key: n for n in session.execute(select(Notification)).scalars()}


def test_marketing_to_a_member_who_opted_out_is_refused_and_says_why(
    channels, sink, db_url, caplog
):
    caplog.set_level(logging.INFO)
    _set(db_url, "M000002", Purpose.marketing, False)

    result = queue_notifications_task(
        [
            _request("M000001", "offer:1", purpose="marketing"),
            _request("M000002", "offer:2", purpose="marketing"),
            _request("M000002", "points:2"),  # service: still allowed
        ],
        now=NOON,
    )

    assert result.queued == 2
    assert result.refused == {
        "offer:2": "not queued: member opted out of marketing by sms (已退订短信营销推广)"
    }
    rows = _rows(db_url)
    assert sorted(rows) == ["offer:1", "points:2"]
    assert rows["offer:1"].purpose == "marketing"
    assert rows["points:2"].purpose == "service"
    assert "refused test_message to member:M000002: member opted out of marketing" in caplog.text


def test_a_member_who_never_consented_gets_no_marketing_but_service(channels, sink, db_url):
    _clear_consent(db_url, "M000003")

    result = queue_notifications_task(
        [
            _request("M000003", "invite:3", template="member_reactivation"),  # marketing by name
            _request("M000003", "points:3"),
        ],
        now=NOON,
    )

    assert result.refused == {
        "invite:3": "not queued: member never consented to marketing by sms (未同意短信营销推广)"
    }
    assert sorted(_rows(db_url)) == ["points:3"]


def test_an_opt_out_after_queueing_withholds_the_message_and_never_sends_it(channels, sink, db_url):
    queue_notifications_task(
        [
            _request("M000004", "offer:4", purpose="marketing"),
            _request("M000005", "offer:5", purpose="marketing"),
        ],
        now=NOON,
    )
    _set(db_url, "M000004", Purpose.marketing, False)

    deliver_notifications(now=NOON)
    deliver_notifications(now=NOON + timedelta(days=1))
    _set(db_url, "M000004", Purpose.marketing, True)  # a later yes does not revive it
    deliver_notifications(now=NOON + timedelta(days=2))

    rows = _rows(db_url)
    assert rows["offer:4"].status == NotificationStatus.withheld
    assert rows["offer:4"].last_error == (
        "withheld: member opted out of marketing by sms (已退订短信营销推广)"
    )
    assert rows["offer:5"].status == NotificationStatus.sent
    assert [m.path for m in sink.messages] == ["/sms/13900000005"]


def test_an_opt_out_of_service_messages_withholds_them_too(channels, sink, db_url):
    queue_notifications_task([_request("M000006", "points:6")], now=NOON)
    _set(db_url, "M000006", Purpose.service, False)

    deliver_notifications(now=NOON)

    assert _rows(db_url)["points:6"].status == NotificationStatus.withheld
    assert sink.messages == []


def test_a_change_is_recorded_with_who_and_when(channels, db_url):
    _set(db_url, "M000007", Purpose.marketing, False, actor="agent1")
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == "M000007")).scalar_one()
        changes = list(
            session.execute(
                select(MemberConsentChange)
                .where(MemberConsentChange.member_id == member.id)
                .order_by(MemberConsentChange.id)
            ).scalars()
        )
    last = changes[-1]
    assert (last.channel, last.purpose, last.allowed, last.changed_by) == (
        "sms",
        "marketing",
        False,
        "agent1",
    )
    assert last.changed_at == NOON
