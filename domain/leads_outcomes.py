"""The call-outcome state machine, a pure function of the lead and one call.

- wrong / empty / suspended number closes the lead invalid at once;
- connected closes it valid (interested leads then go to a dealer);
- a retry outcome plans the next call (calls 1 and 2 on the call day, call 3 the next day:
  the service team calls every day, holidays included);
- after call 3: powered off → invalid (关机-无效结案); appointment → stays open at the
  requested time (预约时间-继续清洗); any other retry outcome → invalid as unreachable
  (联系不到本人-无效结案).
Calls after 3 only happen for appointments and follow the after-call-3 rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.calendar import business_date
from domain.leads_plan import CallPlan
from domain.models import LeadStatus

LAST_PLANNED_CALL = 3


class Outcome(StrEnum):
    interested = "interested"
    not_interested = "not_interested"
    wrong_number = "wrong_number"
    empty_number = "empty_number"
    suspended = "suspended"
    powered_off = "powered_off"
    appointment = "appointment"
    call_barred = "call_barred"
    refused = "refused"
    not_the_person = "not_the_person"
    voicemail = "voicemail"
    out_of_service = "out_of_service"
    busy = "busy"
    no_answer = "no_answer"
    switchboard = "switchboard"


LABELS: dict[Outcome, str] = {
    Outcome.interested: "有意购车",
    Outcome.not_interested: "无意购车",
    Outcome.wrong_number: "错号",
    Outcome.empty_number: "空号",
    Outcome.suspended: "停机",
    Outcome.powered_off: "关机",
    Outcome.appointment: "预约时间",
    Outcome.call_barred: "呼入限制",
    Outcome.refused: "拒访",
    Outcome.not_the_person: "联系不到本人",
    Outcome.voicemail: "秘书台",
    Outcome.out_of_service: "不在服务区",
    Outcome.busy: "忙音",
    Outcome.no_answer: "无人接听",
    Outcome.switchboard: "总机",
}
CONNECTED = frozenset({Outcome.interested, Outcome.not_interested})
CLOSES_INVALID = frozenset({Outcome.wrong_number, Outcome.empty_number, Outcome.suspended})
RETRY = frozenset(Outcome) - CONNECTED - CLOSES_INVALID


class Resolution(StrEnum):
    """What the lead's `outcome` column says once the machine has spoken."""

    interested = "interested"
    not_interested = "not_interested"
    invalid_number = "invalid_number"  # 错号/空号/停机
    invalid_powered_off = "invalid_powered_off"  # 关机-无效结案
    invalid_unreachable = "invalid_unreachable"  # 联系不到本人-无效结案
    awaiting_appointment = "awaiting_appointment"  # 预约时间-继续清洗
    retrying = "retrying"


RESOLUTION_LABELS: dict[Resolution, str] = {
    Resolution.interested: "有效-有意购车",
    Resolution.not_interested: "有效-无意购车",
    Resolution.invalid_number: "无效-号码错误",
    Resolution.invalid_powered_off: "关机-无效结案",
    Resolution.invalid_unreachable: "联系不到本人-无效结案",
    Resolution.awaiting_appointment: "预约时间-继续清洗",
    Resolution.retrying: "继续清洗",
}

_BY_TEXT: dict[str, Outcome] = {}
for _code, _label in LABELS.items():
    _BY_TEXT[_code.value] = _code
    _BY_TEXT[_label] = _code
_BY_TEXT.update(
    {"voicemail/out_of_service/busy": Outcome.busy, "秘书台/不在服务区/忙音": Outcome.busy}
)


class OutcomeRejected(ValueError):
    """An outcome that cannot be applied; the message is the reject reason."""


# A lead is cleaned while open; a call closes it valid or invalid, and a closed lead stays so.
LEAD_MOVES: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.open: frozenset({LeadStatus.open, LeadStatus.valid, LeadStatus.invalid}),
    LeadStatus.valid: frozenset(),
    LeadStatus.invalid: frozenset(),
}


def check_lead_move(current: str, new: str) -> LeadStatus:
    """`new`, if a lead may go there from `current`; OutcomeRejected otherwise."""
    current, new = LeadStatus(current), LeadStatus(new)
    if new not in LEAD_MOVES[current]:
        if not LEAD_MOVES[current]:
            raise OutcomeRejected(f"lead is already closed ({current}) (线索已结案)")
        raise OutcomeRejected(f"a lead cannot go from {current} to {new} (状态错误)")
    return new


def parse_outcome(text: str) -> Outcome:
    """The outcome of a Chinese label (关机) or an English code (powered_off)."""
    key = (text or "").strip()
    found = _BY_TEXT.get(key) or _BY_TEXT.get(key.lower().replace(" ", "_").replace("-", "_"))
    if found is None:
        raise OutcomeRejected(f"unknown outcome code {text!r} (未知结果)")
    return found


@dataclass(frozen=True)
class LeadState:
    status: str  # a LeadStatus: open / valid / invalid
    next_call_no: int
    plan: CallPlan


@dataclass(frozen=True)
class Transition:
    status: LeadStatus
    resolution: Resolution
    next_call_no: int | None
    next_call_due: date | None
    appointment_at: datetime | None
    hand_off: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", LeadStatus(self.status))

    @property
    def closed(self) -> bool:
        return self.status != LeadStatus.open


def apply_outcome(
    state: LeadState,
    *,
    call_no: int,
    outcome: Outcome,
    called_at: datetime,
    appointment_at: datetime | None = None,
) -> Transition:
    """The lead after call `call_no` ended with `outcome`, or OutcomeRejected with the reason."""
    transition = _apply(
        state,
        call_no=call_no,
        outcome=outcome,
        called_at=called_at,
        appointment_at=appointment_at,
    )
    check_lead_move(state.status, transition.status)
    return transition


def _apply(
    state: LeadState,
    *,
    call_no: int,
    outcome: Outcome,
    called_at: datetime,
    appointment_at: datetime | None,
) -> Transition:
    if not LEAD_MOVES[LeadStatus(state.status)]:
        check_lead_move(state.status, LeadStatus.open)  # refused: the lead is closed
    if call_no != state.next_call_no:
        raise OutcomeRejected(
            f"call {call_no} out of order: the lead's next call is {state.next_call_no} "
            "(呼叫次序错误)"
        )
    if appointment_at is not None and appointment_at.tzinfo is None:
        raise OutcomeRejected("appointment time must carry a time zone (预约时间缺少时区)")

    if outcome in CONNECTED:
        resolution = Resolution(outcome.value)
        return Transition("valid", resolution, None, None, None, outcome == Outcome.interested)
    if outcome in CLOSES_INVALID:
        return Transition("invalid", Resolution.invalid_number, None, None, None, False)

    called_day = business_date(called_at)
    if call_no >= LAST_PLANNED_CALL:
        if outcome == Outcome.appointment:
            if appointment_at is None:
                raise OutcomeRejected(
                    f"call {call_no}: 预约时间 needs the requested time (缺少预约时间)"
                )
            return Transition(
                "open",
                Resolution.awaiting_appointment,
                call_no + 1,
                business_date(appointment_at),
                appointment_at,
                False,
            )
        if outcome == Outcome.powered_off:
            return Transition("invalid", Resolution.invalid_powered_off, None, None, None, False)
        return Transition("invalid", Resolution.invalid_unreachable, None, None, None, False)

    # Calls 1 and 2: plan the next one.
    if outcome == Outcome.appointment and appointment_at is not None:
        due = business_date(appointment_at)
    elif call_no == 1:
        due = max(state.plan.call_day, called_day)  # call 2: the same day
    else:
        # Call 3 the next day, counted from call 2 if call 2 itself came late.
        due = max(state.plan.third_call_due, called_day + timedelta(days=1))
    kept = appointment_at if outcome == Outcome.appointment else None
    return Transition("open", Resolution.retrying, call_no + 1, due, kept, False)
