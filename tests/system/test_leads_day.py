"""One day of leads on the running stack: a GBK file dropped in the leads inbox folder, the
intake deployment, the call centre's outcomes read from its API (a fake on loopback, pointed
at by the `call-centre` external-system block), the dealer's hand-off and its acceptance."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from support_leads import FakeApi, lead_file, serve_fake_api

from clubflow.core.db import session_scope
from domain.models import Lead, LeadImport
from domain.models_leads import LeadHandoff, LeadReject

INTAKE_AT = "2026-09-29T14:00:00+08:00"  # a Tuesday
OUTCOMES_AT = "2026-09-29T16:00:00+08:00"
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
