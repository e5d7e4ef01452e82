from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from domain.subsidy import (
    CATEGORY_CAP,
    CATEGORY_NOT_ALLOWED,
    CLASS_TOTAL_CAP,
    NO_EVIDENCE,
    NO_RECAP,
    NOT_POSITIVE,
    PER_PARTICIPANT_CAP,
    UNKNOWN_CATEGORY,
    WITHIN_CAPS,
    ClaimLine,
    LineDecision,
    SubsidyPolicy,
    check_decision,
    propose,
)

POLICY = SubsidyPolicy()
RECEIPT = ("发票 No.001",)


def _one(category, amount, *, klass="C", participants=30, evidence=RECEIPT, recap=True):
    proposal = propose(
        [ClaimLine(1, category, amount, evidence)],
        activity_class=klass,
        participants=participants,
        recap_filed=recap,
        policy=POLICY,
    )
    [line] = proposal.lines
    return line.action, line.amount, line.rule, line.reason


@pytest.mark.parametrize(
    ("case", "kwargs", "action", "amount", "rule", "reason"),
    [
        ("within caps", {"category": "venue", "amount": 1500}, "approve", 1500, WITHIN_CAPS, ""),
        ("exactly the cap", {"category": "venue", "amount": 2000}, "approve", 2000, WITHIN_CAPS,
         ""),
        ("category cap", {"category": "venue", "amount": 2500}, "reduce", 2000, CATEGORY_CAP,
         "venue capped at 2000 for class C"),
        ("per participant", {"category": "tshirts", "amount": 2400}, "reduce", 1800,
         PER_PARTICIPANT_CAP, "60/participant × 30 = 1800"),
        ("per participant tighter than nothing", {"category": "tshirts", "amount": 100,
         "participants": 0}, "reject", 0, PER_PARTICIPANT_CAP, "= 0"),
        ("category cap beats per participant", {"category": "tshirts", "amount": 5000,
         "participants": 100}, "reduce", 2400, CATEGORY_CAP, "capped at 2400"),
        ("no evidence", {"category": "insurance", "amount": 600, "evidence": ()}, "reject", 0,
         NO_EVIDENCE, "no evidence"),
        ("blank evidence", {"category": "insurance", "amount": 600, "evidence": ("  ",)},
         "reject", 0, NO_EVIDENCE, "no evidence"),
        ("not allowed for C", {"category": "race_registration", "amount": 500}, "reject", 0,
         CATEGORY_NOT_ALLOWED, "not subsidised for class C"),
        ("allowed for B", {"category": "race_registration", "amount": 500, "klass": "B"},
         "approve", 500, WITHIN_CAPS, ""),
        ("class D has no subsidy", {"category": "venue", "amount": 100, "klass": "D"}, "reject",
         0, CATEGORY_NOT_ALLOWED, "class D"),
        ("class E has no subsidy", {"category": "venue", "amount": 100, "klass": "E"}, "reject",
         0, CATEGORY_NOT_ALLOWED, "class E"),
        ("unknown category", {"category": "fuel", "amount": 100}, "reject", 0, UNKNOWN_CATEGORY,
         "'fuel'"),
        ("zero amount", {"category": "venue", "amount": 0}, "reject", 0, NOT_POSITIVE,
         "not positive"),
        ("no recap", {"category": "venue", "amount": 100, "recap": False}, "reject", 0,
         NO_RECAP, "no recap"),
    ],
)  # fmt: skip
def test_each_rule_on_one_line(case, kwargs, action, amount, rule, reason):
    got = _one(**kwargs)
    assert got[:3] == (action, amount, rule), case
    assert reason in got[3], case


def test_lines_of_one_category_share_its_cap_in_line_order():
    proposal = propose(
        [ClaimLine(1, "venue", 1500, RECEIPT), ClaimLine(2, "venue", 1000, RECEIPT),
         ClaimLine(3, "venue", 300, RECEIPT)],
        activity_class="C", participants=30, recap_filed=True, policy=POLICY,
    )  # fmt: skip
    assert [(x.action, x.amount) for x in proposal.lines] == [
        ("approve", 1500),
        ("reduce", 500),
        ("reject", 0),
    ]
    assert "0 left" in proposal.lines[2].reason


def test_the_class_total_cap_reduces_then_rejects_the_lines_that_exceed_it():
    lines = [
        ClaimLine(1, "venue", 2000, RECEIPT),
        ClaimLine(2, "tolls", 2000, RECEIPT),
        ClaimLine(3, "rescue", 2000, RECEIPT),
        ClaimLine(4, "tshirts", 1800, RECEIPT),
        ClaimLine(5, "insurance", 1000, RECEIPT),  # 8800 asked; class C cap 8000
        ClaimLine(6, "stickers", 100, RECEIPT),
    ]
    proposal = propose(lines, activity_class="C", participants=30, recap_filed=True, policy=POLICY)
    assert [(x.action, x.amount, x.rule) for x in proposal.lines[4:]] == [
        ("reduce", 200, CLASS_TOTAL_CAP),
        ("reject", 0, CLASS_TOTAL_CAP),
    ]
    assert proposal.total_proposed == 8000
    assert proposal.total_requested == 8900


def _issue_claim():
    """The issue's claim: one over-cap line, one without evidence, one sound line."""
    return propose(
        [
            ClaimLine(1, "tshirts", 2400, ("发票 T-01",)),
            ClaimLine(2, "insurance", 600, ()),
            ClaimLine(3, "venue", 1500, ("收据 V-7",)),
        ],
        activity_class="C",
        participants=30,
        recap_filed=True,
        policy=POLICY,
    )


@pytest.mark.parametrize(
    ("decisions", "problem"),
    [
        ([], None),  # the engine's proposal as it stands
        ([LineDecision(1, 1500, "T恤数量按实际到场")], None),  # cut further
        ([LineDecision(1, 2400)], "line 1: 2400 is above the proposed 1800"),
        ([LineDecision(1, 2400, "HQ 特批")], None),  # overridden with a written reason
        ([LineDecision(2, 600, "收据稍后补")], "line 2: cannot be approved (no evidence"),
        ([LineDecision(3, 1600)], "line 3: amount 1600 is outside 0…1500"),
        ([LineDecision(3, -1)], "outside"),
        ([LineDecision(9, 10)], "line 9: no such line"),
    ],
)
def test_the_specialists_decision_is_checked_line_by_line(decisions, problem):
    problems = check_decision(_issue_claim(), decisions)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_a_decided_total_above_the_class_cap_is_refused_even_with_comments():
    lines = [
        ClaimLine(n, cat, amount, RECEIPT)
        for n, (cat, amount) in enumerate(
            [("venue", 2500), ("tolls", 2500), ("rescue", 2500), ("insurance", 1500)], start=1
        )
    ]
    proposal = propose(lines, activity_class="C", participants=30, recap_filed=True, policy=POLICY)
    decisions = [LineDecision(n, lines[n - 1].amount, "特批") for n in range(1, 5)]
    assert check_decision(proposal, decisions) == ["total 9000 is above the class C cap 8000"]


def test_a_policy_override_names_only_the_classes_it_changes():
    policy = SubsidyPolicy.model_validate(
        {"classes": {"C": {"total_cap": 100, "caps": {"venue": 50}}}}
    )
    assert policy.classes["C"].caps == {"venue": 50}
    assert policy.classes["B"].total_cap == 30000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"classes": {"C": {"total_cap": 1, "caps": {"fuel": 1}}}}, "unknown categories ['fuel']"),
        ({"classes": {"C": {"total_cap": 1, "per_participant_caps": {"tshirts": 1}}}},
         "per_participant_caps for categories without a cap"),
        ({"classes": {"C": {"total_cap": -1}}}, "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_a_broken_policy_is_refused_at_load(data, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        SubsidyPolicy.model_validate(data)


def test_a_claim_moves_only_along_the_table_of_moves():
    from domain.subsidy import ClaimMoveRefused, ClaimStatus, move_claim

    assert move_claim("submitted", ClaimStatus.decided) == ClaimStatus.decided
    assert move_claim("decided", ClaimStatus.paid) == ClaimStatus.paid
    for current, to in [
        ("submitted", ClaimStatus.paid),
        ("paid", ClaimStatus.decided),
        ("decided", ClaimStatus.submitted),
    ]:
        with pytest.raises(ClaimMoveRefused, match=f"{current} cannot become {to}"):
            move_claim(current, to)
