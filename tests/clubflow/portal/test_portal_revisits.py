"""The weekly revisit list in the portal: the Monday message's link, an agent's own list with
masked phones and each lead's history, a result reported once, the supervisor's whole list,
"my tasks", and everyone else refused (recorded)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from portal_client import csrf_of
from sqlalchemy import select
from support_revisit import SH, list_week, revisits_of, seed_lead

from clubflow.core.db import session_scope
from domain.models import CallAttempt, Lead
from domain.models_audit import Refusal
from domain.models_leads import LeadRevisit
from domain.models_portal import PortalAudit

WEEK1 = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
OLD = datetime(2026, 9, 1, 15, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _exports(settings_env, tmp_path):
    settings_env(leads_export_dir=tmp_path / "exports")


@pytest.fixture
def week(portal, db_url) -> dict[str, int]:
    """Monday's list: two leads of agent1 (one called once), one of agent2, one without an
    agent; the portal's clock an hour after the run."""
    leads = {
        "mine": seed_lead(db_url, 1, agent="agent1", valid_since=OLD),
        "also_mine": seed_lead(db_url, 2, agent="agent1", valid_since=OLD),
        "agent2s": seed_lead(db_url, 3, agent="agent2", valid_since=OLD),
        "nobodys": seed_lead(db_url, 4, agent=None, arrived_at=OLD),
    }
    with session_scope(db_url) as session:
        session.add(
            CallAttempt(lead_id=leads["mine"], call_no=1, outcome="interested", called_at=OLD)
        )
    list_week(db_url, WEEK1)
    portal.clock.now = WEEK1 + timedelta(hours=1)
    portal.app.state.portal.deliver()
    ids = revisits_of(db_url, WEEK1.date())
    return {key: ids[lead] for key, lead in leads.items()} | {
        f"lead:{key}": lead for key, lead in leads.items()
    }


def _sign_in_via(portal, client, next_path: str, username: str):
    page = client.get(f"/login?next={next_path}")
    client.post(
        "/login/code", data={"identifier": username, "csrf": csrf_of(page.text), "next": next_path}
    )
    page = client.get(f"/login?next={next_path}")
    return client.post(
        "/login/verify",
        data={
            "identifier": username,
            "code": portal.last_code(f"person/{username}"),
            "csrf": csrf_of(page.text),
            "next": next_path,
        },
    )


def _refusals(db_url) -> list[tuple[str, str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_an_agent_follows_the_link_sees_their_list_and_reports_a_result_once(portal, db_url, week):
    [message] = portal.sink.to("person/agent1")
    assert message.title == "本周回访名单（2026-12-07）：2 条"
    link = re.search(r"处理：(\S+)", message.body).group(1)
    client = portal.client()
    first = client.get(urlsplit(link).path, follow_redirects=False)
    assert first.status_code == 303, (link, first.text[-600:])
    assert first.headers["location"] == "/login?next=%2Frevisits"

    page = _sign_in_via(portal, client, "/revisits", "agent1")
    assert page.status_code == 200 and str(page.url).endswith("/revisits")
    assert "我的回访名单 · 2026-12-07 周" in page.text and "2 条，待反馈 2 条" in page.text
    assert "+86139****0001" in page.text and "+8613900000001" not in page.text
    assert "回访客户3" not in page.text and "回访客户4" not in page.text  # not agent1's
    assert "外呼 第 1 次：有意购车" in page.text  # the lead's history
    assert page.text.count('name="result"') == 2
    home = client.get("/")
    assert "回访待反馈结果：2 条（2026-12-07 周）" in home.text
    assert 'href="/revisits?week_of=2026-12-07"' in home.text

    done = client.post(
        f"/revisits/{week['mine']}/result",
        data={"csrf": csrf_of(page.text), "result": "ordered", "note": "已交定金"},
    )
    assert done.status_code == 200 and f"回访 #{week['mine']} 的结果已记录" in done.text
    assert "结果：已在本品牌下订（已交定金） · agent1 · 2026-12-07 10:00 · 已结束回访" in done.text
    assert done.text.count('name="result"') == 1
    with session_scope(db_url) as session:
        assert session.get(Lead, week["lead:mine"]).converted_at == portal.clock()
        row = session.get(LeadRevisit, week["mine"])
        assert (row.result, row.result_by, row.closed_lead) == ("ordered", "agent1", True)
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.subject, PortalAudit.outcome).where(
                PortalAudit.action == "leads.revisit_result"
            )
        ).all()
    assert [tuple(a) for a in audit] == [("person:agent1", f"revisit:{week['mine']}", "ok")]
    assert "回访待反馈结果：1 条（2026-12-07 周）" in client.get("/").text

    again = client.post(
        f"/revisits/{week['mine']}/result",
        data={"csrf": csrf_of(page.text), "result": "considering"},
    )
    assert again.status_code == 409
    assert "result already recorded: 已在本品牌下订 by agent1 at 2026-12-07 10:00" in again.text
    assert _refusals(db_url) == [("leads.revisit_result", f"revisit:{week['mine']}", "agent1")]


def test_the_supervisor_sees_every_agents_revisits_and_may_record_any(portal, db_url, week):
    client = portal.sign_in("call.supervisor", "person/call.supervisor")
    page = client.get("/revisits")
    assert page.status_code == 200
    assert "回访名单 · 2026-12-07 周" in page.text and "4 条，待反馈 4 条" in page.text
    assert "客服：agent2" in page.text and "客服：（主管名单）" in page.text
    # The supervisor's own task is the list of leads without an agent.
    assert "回访待反馈结果：1 条（2026-12-07 周）" in client.get("/").text

    done = client.post(
        f"/revisits/{week['agent2s']}/result",
        data={"csrf": csrf_of(page.text), "result": "unreachable", "note": ""},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/revisits?week_of=2026-12-07&done={week['agent2s']}"
    with session_scope(db_url) as session:
        row = session.get(LeadRevisit, week["agent2s"])
    assert (row.result, row.result_by, row.closed_lead) == ("unreachable", "call.supervisor", False)
    # Another week's list is one link away; next week has none yet.
    later = client.get("/revisits?week_of=2026-12-16")
    assert "回访名单 · 2026-12-14 周" in later.text and "本周暂无回访名单" in later.text


def test_a_dealer_and_another_agent_are_refused_and_it_is_recorded(portal, db_url, week):
    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = dealer.get("/revisits")
    assert page.status_code == 403 and "无权访问" in page.text
    assert "dealer:CH001 无权查看回访名单" in page.text
    home = dealer.get("/")
    post = dealer.post(
        f"/revisits/{week['mine']}/result",
        data={"csrf": csrf_of(home.text), "result": "ordered"},
    )
    assert post.status_code == 403

    agent2 = portal.sign_in("agent2", "person/agent2")
    own = agent2.get("/revisits")
    refused = agent2.post(
        f"/revisits/{week['mine']}/result",
        data={"csrf": csrf_of(own.text), "result": "not_buying"},
    )
    assert refused.status_code == 403
    assert "that is for its agent &#39;agent1&#39; or the call supervisor" in refused.text
    assert _refusals(db_url) == [
        ("leads.revisits", "revisits", "dealer:CH001"),
        ("leads.revisit_result", f"revisit:{week['mine']}", "dealer:CH001"),
        ("leads.revisit_result", f"revisit:{week['mine']}", "agent2"),
    ]
    with session_scope(db_url) as session:
        assert session.get(LeadRevisit, week["mine"]).result is None
        assert session.get(Lead, week["lead:mine"]).converted_at is None
