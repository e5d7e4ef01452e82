"""Last on the stack (files run in name order): after the journeys, no phone or ID number shows
unmasked in anything a user or an operator reads — CLI answers, the stack's console, the demo
inbox's journal, the runs' logs and the artifacts the Prefect UI shows."""

from __future__ import annotations

import json
import re

from prefect.client.orchestration import get_client
from prefect.client.schemas.sorting import LogSort

# A mainland mobile number, with or without +86, not inside a longer run of digits.
PHONE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
# A resident ID number: area, birth date, sequence, check digit.
ID_NUMBER = re.compile(
    r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"
)


def _pages(read, limit: int = 200, most: int = 100) -> list:
    rows = []
    for page in range(most):
        batch = read(limit=limit, offset=page * limit)
        rows.extend(batch)
        if len(batch) < limit:
            break
    return rows


def _what_people_read(journal) -> str:
    """Each journaled message as its reader sees it: the address, the title and the text.
    Its transport headers are left out: the delivery key there is a hash, whose hex digits
    may happen to spell eleven digits in a row."""
    if not journal.exists():
        return ""
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    for entry in entries:
        key = next((v for k, v in entry["headers"].items() if k.lower() == "idempotency-key"), "")
        assert not key or re.fullmatch(r"cf-[0-9a-f]{24}", key), key
    return "\n".join(f"{e['path']} {e['title']} {e['body']}" for e in entries)


def test_no_phone_or_id_number_shows_unmasked_anywhere_a_person_reads(stack):
    # A dealer enters a lead by phone number, then the operator's views.
    entered = stack.cli(
        "leads", "add", "--phone", "13912344321", "--dealer", "CH001", "--now", "2026-06-01T10:00"
    )
    assert entered.returncode == 0, entered.stdout + entered.stderr
    for command in (["status", "--now", "2026-06-01T10:00"], ["outbox", "--limit", "500"]):
        stack.cli(*command)
    with get_client(sync_client=True) as client:
        logs = _pages(lambda **page: client.read_logs(sort=LogSort.TIMESTAMP_ASC, **page))
        artifacts = _pages(lambda **page: client.read_artifacts(**page))
    journal = stack.data / "inbox.jsonl"
    places = {
        "CLI answers": "\n".join(stack.outputs),
        "the stack's console": (stack.home / "up.log").read_text(encoding="utf-8"),
        "the inbox journal": _what_people_read(journal),
        "run logs": "\n".join(log.message for log in logs),
        "artifacts": "\n".join(str(a.data) + str(a.description or "") for a in artifacts),
    }
    # Not vacuous: phones went through these places, and show masked to their last 4 digits.
    assert "139****4321: new lead from dealer CH001" in places["CLI answers"]
    assert logs and artifacts and "****" in places["the inbox journal"]
    leaks = {
        place: sorted(set(PHONE.findall(text)) | set(ID_NUMBER.findall(text)))[:5]
        for place, text in places.items()
    }
    assert {place: found for place, found in leaks.items() if found} == {}
