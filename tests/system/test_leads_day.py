"""One day of leads on the running stack, from the file to the order: a GBK file dropped in the
leads inbox folder, the intake deployment, the call centre's outcomes read from its API (a fake
on loopback, pointed at by the `call-centre` external-system block), the dealer's hand-off and
its acceptance, the dealer's staff recording the follow-up, and the order coming back from the
dealer system (another fake, read by the leads-deal-feed deployment)."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from support_leads import FakeApi, lead_file, serve_fake_api

from clubflow.core.db import session_scope
from domain.models import Lead, LeadImport
from domain.models_deals import LeadFollowUp
from domain.models_leads import LeadHandoff, LeadReject

INTAKE_AT = "2026-09-29T14:00:00+08:00"  # a Tuesday
OUTCOMES_AT = "2026-09-29T16:00:00+08:00"
EVENING = "2026-09-29T21:00:00+08:00"
FIRST = 7000  # phones 1390007000...: none of the demo world's


def test_a_day_of_leads_from_the_inbox_folder_to_a_dealer(stack):
    generated = lead_file(
        good=40, duplicates=4, bad=3, cities=("成都", "北京"), times=("2026-09-29 10:00",),
        first=FIRST,
    )  # fmt: skip
    inbox = Path(stack.env["CLUBFLOW_LEADS_INBOX_DIR"])  # what the stack was started with
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "汽车之家_0929.csv").write_bytes(generated.data)

    intake = stack.run("leads-intake", {"source": "汽车之家", "now": INTAKE_AT})
    assert intake.state_name == "Completed", intake.state
    assert (inbox / "done" / "汽车之家_0929.csv").exists()
    phones = {"+86" + f"1390{FIRST + i:07d}" for i in range(40)}
    with session_scope(stack.database_url) as session:
        leads = list(session.execute(select(Lead).where(Lead.phone.in_(phones))).scalars())
        [imported] = session.execute(
            select(LeadImport).where(LeadImport.filename == "汽车之家_0929.csv")
        ).scalars()
        rejects = session.execute(
            select(LeadReject.line_no).where(LeadReject.import_id == imported.id)
        ).scalars()
        assert sorted(rejects) == sorted(generated.bad_lines)
    assert len(leads) == 40
    assert sum(len(lead.sources) == 2 for lead in leads) == 4  # the duplicates merged
    assert all(lead.agent_id is not None for lead in leads)
    stack.deliver(INTAKE_AT)
    lists = [m for m in stack.inbox() if m["title"].startswith("外呼名单")]
    assert lists and all("1390007" not in m["body"] for m in lists)  # counts, no phones

    # The call centre reports one interested customer in 成都; the dealer hears at once.
    chengdu = next(lead for lead in sorted(leads, key=lambda x: x.id) if lead.city == "成都")
    outcomes = [
        {"id": 1, "lead_id": chengdu.id, "call_no": 1, "outcome": "有意购车",
         "called_at": "2026-09-29 15:00", "agent": "agent1"},
    ]  # fmt: skip
    api = FakeApi(token="centre-token-sys", collections={"outcomes": outcomes})
    with serve_fake_api(api):
        api.block().save("call-centre", overwrite=True)  # the settings' default block name
        run = stack.run("leads-outcomes", {"now": OUTCOMES_AT})
    assert run.state_name == "Completed", run.state
    assert api.requests, "the call centre was never asked"
    with session_scope(stack.database_url) as session:
        lead = session.get(Lead, chengdu.id)
        [handoff] = session.execute(
            select(LeadHandoff).where(LeadHandoff.lead_id == chengdu.id)
        ).scalars()
    assert lead.status == "valid"
    dealer = handoff.recipient.removeprefix("dealer:")
    stack.deliver(OUTCOMES_AT)
    [told] = [m for m in stack.messages_to(f"dealer/{dealer}") if f"#{chengdu.id}" in m["title"]]
    assert "有意购车" in told["body"]
    # The phone is masked in the message too; the dealer reads it after accepting.
    assert chengdu.phone not in told["body"] and chengdu.phone[-4:] in told["body"]

    # The dealer accepts through the leads-accept deployment (its run form or the API).
    accepted = stack.run(
        "leads-accept",
        {"acceptance": {"lead_id": chengdu.id, "dealer_code": dealer}, "now": OUTCOMES_AT},
    )
    assert accepted.state_name == "Completed", accepted.state
    with session_scope(stack.database_url) as session:
        assert session.get(LeadHandoff, handoff.id).accepted_at is not None

    # The dealer's staff call the customer and see them in the store that evening.
    staff = f"dealer.{dealer.lower()}"
    for stage, at in (("已联系", "2026-09-29 16:30"), ("已到店", "2026-09-29 19:00")):
        done = stack.cli(
            "leads", "follow-up", str(chengdu.id), stage, "--at", at, "--actor", staff,
            "--now", EVENING,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    # Staff of another dealer may not write this lead's deal: refused, and nothing recorded.
    other = "dealer.ch002" if dealer != "CH002" else "dealer.ch001"
    refused = stack.cli(
        "leads", "follow-up", str(chengdu.id), "已试驾", "--actor", other, "--now", EVENING
    )
    assert refused.returncode == 2 and "may not record" in refused.stdout + refused.stderr

    # The test drive and the order come back from the dealer system, twice over: once stored.
    deals = [
        {"id": 501, "lead_id": chengdu.id, "stage": "已试驾", "at": "2026-09-29 19:30",
         "dealer": dealer},
        {"id": 502, "lead_id": chengdu.id, "stage": "已下订", "at": "2026-09-29 20:15",
         "dealer": dealer},
    ]  # fmt: skip
    dms = FakeApi(token="dms-token-sys", collections={"deals": deals})
    with serve_fake_api(dms):
        dms.block().save("dealer-system", overwrite=True)  # the settings' default block name
        for _ in range(2):
            feed = stack.run("leads-deal-feed", {"now": EVENING})
            assert feed.state_name == "Completed", feed.state
    assert dms.requests, "the dealer system was never asked"
    with session_scope(stack.database_url) as session:
        lead = session.get(Lead, chengdu.id)
        steps = session.execute(
            select(LeadFollowUp.stage, LeadFollowUp.source)
            .where(LeadFollowUp.lead_id == chengdu.id)
            .order_by(LeadFollowUp.at)
        ).all()
    assert [(str(stage), str(source)) for stage, source in steps] == [
        ("contacted", "person"),
        ("visited", "person"),
        ("test_drive", "feed"),
        ("order", "feed"),
    ]
    assert lead.converted_at is not None  # the order converts the lead
    assert lead.converted_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 20

    # The day's funnel: 40 leads, one valid, accepted, visited and ordered.
    funnel = stack.cli("leads", "funnel", "--from", "2026-09-29", "--to", "2026-09-29",
                       "--now", EVENING)  # fmt: skip
    assert funnel.returncode == 0, funnel.stdout + funnel.stderr
    counts = dict(
        re.findall(r"│ (leads|valid|accepted|visited|orders)\s+│\s+(\d+) │", funnel.stdout)
    )
    assert int(counts["leads"]) >= 40 and int(counts["orders"]) >= 1, funnel.stdout
    assert "汽车之家" in funnel.stdout and chengdu.phone not in funnel.stdout
