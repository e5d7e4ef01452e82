from __future__ import annotations

from datetime import UTC, date, datetime

from domain.complaints import (
    Deadlines,
    auto_close_due,
    confirm_refusal,
    due_dates,
    escalation_level,
    sample_size,
    satisfaction_sample,
    transition_refusal,
)
from domain.permissions import Actor

D = Deadlines(receive_days=1, handle_days=3, answer_days=5, after_sales_contact_days=0)
# Tuesday 2027-03-02 10:00 Beijing time.
TUE = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)


def test_due_dates_count_working_days_and_after_sales_same_day():
    assert due_dates(TUE, "product", D) == {
        "receive": date(2027, 3, 3),
        "handle": date(2027, 3, 5),
        "answer": date(2027, 3, 9),
    }
    assert due_dates(TUE, "after_sales", D)["receive"] == date(2027, 3, 2)


def test_arrival_on_saturday_counts_from_monday():
    sat = datetime(2027, 3, 6, 2, 0, tzinfo=UTC)
    assert due_dates(sat, "after_sales", D)["receive"] == date(2027, 3, 8)


def test_escalation_levels():
    due = date(2027, 3, 3)
    assert escalation_level(due, date(2027, 3, 3), second_after_days=2) == 0
    assert escalation_level(due, date(2027, 3, 4), second_after_days=2) == 1
    assert escalation_level(due, date(2027, 3, 5), second_after_days=2) == 1
    assert escalation_level(due, date(2027, 3, 8), second_after_days=2) == 2


def test_auto_close_due_in_working_days():
    assert auto_close_due(TUE, 7) == date(2027, 3, 11)


def test_transition_refusals():
    agent = Actor("ann", "call_agent")
    other = Actor("bob", "call_agent")
    sup = Actor("sue", "call_supervisor")
    finance = Actor("fin", "finance")
    assert transition_refusal(agent, username="ann", action="receive", status="filed") is None
    assert "finance" in transition_refusal(
        finance, username="fin", action="receive", status="filed"
    )
    assert "needs filed" in transition_refusal(
        agent, username="ann", action="receive", status="received"
    )
    assert transition_refusal(
        other, username="bob", action="handle", status="received", handler="ann"
    ) == ("complaint is assigned to ann, not bob")
    assert (
        transition_refusal(sup, username="sue", action="handle", status="received", handler="ann")
        is None
    )
    assert (
        transition_refusal(None, username="zed", action="answer", status="handled")
        == "unknown user 'zed'"
    )


def test_confirm_only_by_the_complainant_when_answered():
    assert confirm_refusal(member_no="M1", complainant="M1", status="answered") is None
    assert "did not file" in confirm_refusal(member_no="M2", complainant="M1", status="answered")
    assert "needs answered" in confirm_refusal(member_no="M1", complainant="M1", status="handled")


def test_sample_size_bounds():
    assert sample_size(100, share=0.2, minimum=3, maximum=30) == 20
    assert sample_size(5, share=0.2, minimum=3, maximum=30) == 3
    assert sample_size(2, share=0.2, minimum=3, maximum=30) == 2
    assert sample_size(1000, share=0.2, minimum=3, maximum=30) == 30
    assert sample_size(0, share=0.2, minimum=3, maximum=30) == 0


def test_sample_is_seeded_by_the_activity_code():
    ids = list(range(1, 51))
    a = satisfaction_sample("ACT-1", ids, share=0.2, minimum=3, maximum=30)
    assert len(a) == 10
    assert a == satisfaction_sample("ACT-1", list(reversed(ids)), share=0.2, minimum=3, maximum=30)
    assert a != satisfaction_sample("ACT-2", ids, share=0.2, minimum=3, maximum=30)
    assert set(a) <= set(ids)
