"""The rules of one-time decision codes: bound to a gate and a person, used once, expire,
and stop working after too many wrong tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.decision_codes import (
    IssuedCode,
    check_code,
    code_hash,
    code_is_sent,
    locked_out,
    new_code,
    normalise_code,
)

NOW = datetime(2027, 5, 6, 2, 0, tzinfo=UTC)
SECRET = "test-secret"


def issued(code: str, *, gate_id=1, username="hq.manager", id=1, hours=72, used_at=None):
    return IssuedCode(
        id=id,
        code_hash=code_hash(SECRET, gate_id=gate_id, username=username, code=code),
        expires_at=NOW + timedelta(hours=hours),
        used_at=used_at,
    )


def check(codes, given, *, gate_id=1, username="hq.manager", now=NOW):
    return check_code(
        codes,
        given=given,
        given_hash=code_hash(SECRET, gate_id=gate_id, username=username, code=given),
        username=username,
        now=now,
    )


def test_a_new_code_is_six_digits():
    codes = {new_code() for _ in range(50)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1


def test_spaces_and_dashes_typed_in_a_code_do_not_count():
    assert normalise_code(" 123-456 ") == "123456"
    assert check([issued("123456")], "123 456").code_id == 1


def test_the_hash_binds_the_code_to_its_gate_its_person_and_the_secret():
    base = code_hash(SECRET, gate_id=1, username="hq.manager", code="123456")
    assert base != code_hash(SECRET, gate_id=2, username="hq.manager", code="123456")
    assert base != code_hash(SECRET, gate_id=1, username="hq.manager2", code="123456")
    assert base != code_hash("other", gate_id=1, username="hq.manager", code="123456")
    assert "123456" not in base


def test_a_live_code_of_the_person_is_accepted():
    result = check([issued("111111", id=1), issued("222222", id=2)], "222222")
    assert (result.code_id, result.reason) == (2, None)


def test_each_refusal_says_what_is_wrong_in_one_line():
    live = issued("123456")
    used = issued("123456", used_at=NOW - timedelta(hours=1))
    expired = issued("123456", hours=-1)
    assert check([live], "").reason == (
        "no decision code: type the one sent to hq.manager (it works until 2027-05-09 10:00)"
    )
    assert check([live], "999999").reason == "wrong decision code for hq.manager"
    assert check([used], "123456").reason == (
        "decision code already used at 2027-05-06 09:00; a new one is sent"
    )
    assert (
        check([live], "123456", now=NOW + timedelta(hours=72)).reason
        == "decision code expired at 2027-05-09 10:00; a new one is sent"
    )
    newer = issued("654321", id=2)
    assert check([expired, newer], "123456").reason == (
        "decision code expired at 2027-05-06 09:00; type the newer one sent to hq.manager"
    )


def test_a_person_without_a_live_code_is_told_a_new_one_is_sent():
    # The flow sends one after any refusal that leaves the person without a live code.
    assert check([], "").reason == (
        "no decision code yet: one is sent to hq.manager; type it in the form "
        "(clubflow decide needs none)"
    )
    assert check([], "123456").reason == "wrong decision code for hq.manager; a new one is sent"


def test_a_code_for_another_gate_or_another_person_is_wrong_here():
    # Issued for gate 2, or to hq.manager2: typed at gate 1 as hq.manager it matches nothing.
    assert check([issued("123456", gate_id=2)], "123456").reason.startswith("wrong")
    assert check([issued("123456", username="hq.manager2")], "123456").reason.startswith("wrong")


def test_the_lockout_allows_some_wrong_tries_per_code_sent():
    assert not locked_out(wrong=4, issued=1, tries_per_code=5)
    assert locked_out(wrong=5, issued=1, tries_per_code=5)
    assert not locked_out(wrong=5, issued=2, tries_per_code=5)  # a new code, new tries
    assert locked_out(wrong=10, issued=2, tries_per_code=5)


def test_only_a_refusal_that_promises_a_code_has_one_sent():
    promising = [
        check([], "").reason,
        check([], "123456").reason,
        check([issued("123456")], "123456", now=NOW + timedelta(hours=72)).reason,
    ]
    assert all(code_is_sent(r) for r in promising)
    assert not code_is_sent(check([issued("123456")], "").reason)
    assert not code_is_sent(check([issued("123456")], "999999").reason)
    assert not code_is_sent("a reject decision needs a comment saying why")
    assert not code_is_sent(None)
