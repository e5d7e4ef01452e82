"""After the hand-off: the dealer follows an accepted lead up to a deal, or loses it.

Stages (the brand's plan, DOMAIN §5.7): contacted → store visit booked → visited → test drive
→ order → delivered, or lost (战败) with a reason. Which moves are allowed is data
(`DEAL_MOVES`); `check_deal_move` is the one function that refuses a wrong one. Ours (the brand
fixed none of it): a stage may be skipped going forward (a walk-in visits without a booking,
an order may come without a test drive), lost is possible until the order, an order is only
followed by its delivery, and the lost reasons below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.instants import parse_instant
from domain.permissions import Actor
from domain.tabular import decode, iter_records, line_error


class DealStage(StrEnum):
    accepted = "accepted"  # where every deal starts: the dealer accepted the lead
    contacted = "contacted"
    visit_booked = "visit_booked"
    visited = "visited"
    test_drive = "test_drive"
    order = "order"
    delivered = "delivered"
    lost = "lost"


STAGE_LABELS: dict[DealStage, str] = {
    DealStage.accepted: "已接收",
    DealStage.contacted: "已联系",
    DealStage.visit_booked: "已预约到店",
    DealStage.visited: "已到店",
    DealStage.test_drive: "已试驾",
    DealStage.order: "已下订",
    DealStage.delivered: "已交车",
    DealStage.lost: "战败",
}

# The way forward, in order; lost and delivered end a deal.
FORWARD = (
    DealStage.accepted,
    DealStage.contacted,
    DealStage.visit_booked,
    DealStage.visited,
    DealStage.test_drive,
    DealStage.order,
)
BEFORE_ORDER = FORWARD[:-1]
DEAL_MOVES: dict[DealStage, frozenset[DealStage]] = {
    **{
        stage: frozenset(FORWARD[FORWARD.index(stage) + 1 :]) | {DealStage.lost}
        for stage in BEFORE_ORDER
    },
    DealStage.order: frozenset({DealStage.delivered}),
    DealStage.delivered: frozenset(),
    DealStage.lost: frozenset(),
}
# Stages a lead has reached once it is at `stage` (for the funnel: an order was a visit).
RANK: dict[DealStage, int] = {stage: n for n, stage in enumerate(FORWARD)} | {
    DealStage.delivered: len(FORWARD)
}

# Why a deal was lost (ours: the brand gave examples, this is the list).
LOST_REASONS: dict[str, str] = {
    "competitor": "购买竞品",
    "budget": "预算不足",
    "postponed": "暂缓购车",
    "unreachable": "联系不上",
    "other": "其他",
}
NEEDS_NOTE = frozenset({"other"})  # 其他: say what it was

# Besides the dealer that accepted the lead, HQ may record a stage (a correction).
DEAL_HQ_ROLES = ("campaign_manager", "it")


class DealRejected(ValueError):
    """A follow-up that cannot be recorded; the message says why (and which field)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _lookup(text: str, labels: dict, what: str, field: str):
    key = (text or "").strip()
    for code, label in labels.items():
        if key in (str(code), label) or key.lower().replace(" ", "_").replace("-", "_") == code:
            return code
    choices = ", ".join(f"{label} {code}" for code, label in labels.items())
    raise DealRejected(f"unknown {what} {text!r} (one of: {choices})", field=field)


def parse_stage(text: str) -> DealStage:
    """A stage by its code (visited) or its label (已到店); `accepted` is not recorded."""
    stage = DealStage(_lookup(text, STAGE_LABELS, "stage", "stage"))
    if stage == DealStage.accepted:
        raise DealRejected("accepted is recorded by accepting the hand-off", field="stage")
    return stage


def parse_lost_reason(text: str) -> str:
    return _lookup(text, LOST_REASONS, "lost reason", "reason")


def check_deal_move(current: str, new: str) -> DealStage:
    """`new`, if a deal at `current` may go there; DealRejected naming both otherwise."""
    current, new = DealStage(current), DealStage(new)
    if new not in DEAL_MOVES[current]:
        if not DEAL_MOVES[current]:
            raise DealRejected(
                f"the deal is closed ({STAGE_LABELS[current]} {current})", field="stage"
            )
        raise DealRejected(
            f"a deal at {STAGE_LABELS[current]} {current} cannot go to {STAGE_LABELS[new]} {new}",
            field="stage",
        )
    return new


@dataclass(frozen=True)
class FollowUp:
    """A checked step: the stage, when it happened, why it was lost (a code) and a note."""

    stage: DealStage
    at: datetime
    reason: str | None
    note: str


def check_follow_up(
    *,
    current: str,
    current_at: datetime,
    stage: str,
    at: datetime,
    now: datetime,
    reason: str | None = None,
    note: str = "",
) -> FollowUp:
    """The next step of a deal at `current` (reached at `current_at`), or DealRejected.

    Its time may not lie before the deal's last step nor after `now`; lost needs a reason
    from LOST_REASONS (其他 with a note), other stages take none."""
    new = check_deal_move(current, parse_stage(stage) if isinstance(stage, str) else stage)
    if at.tzinfo is None:
        raise DealRejected("the time must carry a time zone", field="at")
    if at > now:
        raise DealRejected(f"{at.isoformat()} is in the future", field="at")
    if at < current_at:
        raise DealRejected(
            f"{at.isoformat()} is before the deal's last step "
            f"({STAGE_LABELS[DealStage(current)]} at {current_at.isoformat()})",
            field="at",
        )
    note = (note or "").strip()
    code = None
    if new == DealStage.lost:
        if not (reason or "").strip():
            raise DealRejected(
                "lost needs a reason (" + "/".join(LOST_REASONS.values()) + ")", field="reason"
            )
        code = parse_lost_reason(reason)
        if code in NEEDS_NOTE and not note:
            raise DealRejected(f"lost for {LOST_REASONS[code]} needs a note", field="note")
    elif (reason or "").strip():
        raise DealRejected("a reason is only for lost (战败)", field="reason")
    return FollowUp(new, at, code, note[:500])


def follow_up_refusal(
    actor: Actor | None, *, username: str, accepted_dealer_id: int | None, lead_id: int
) -> str | None:
    """Only the dealer that accepted the lead (its staff, or `dealer:<code>`) or HQ records."""
    if actor is None:
        return f"unknown user {username!r}"
    if not actor.active:
        return f"user {actor.username!r} is not active"
    if actor.role in DEAL_HQ_ROLES:
        return None
    if accepted_dealer_id is None:
        return f"lead {lead_id} has not been accepted by a dealer"
    if actor.role == "dealer" and actor.dealer_id == accepted_dealer_id:
        return None
    return (
        f"{actor.username} ({actor.role}) may not record the follow-up of lead {lead_id}: "
        "it is for the dealer that accepted it, or HQ"
    )


def stage_of(steps: list[tuple[str, datetime]]) -> tuple[DealStage, datetime | None]:
    """The deal's stage and when it was reached, from its steps (oldest first)."""
    if not steps:
        return DealStage.accepted, None
    stage, at = steps[-1]
    return DealStage(stage), at


# ---------------------------------------------------------------- the dealer system's records

# A record of the dealer system (CSV export or its API): its own id makes it idempotent.
DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "record_id", "记录编号", "编号"),
    "lead_id": ("lead_id", "线索id", "线索编号"),
    "stage": ("stage", "阶段", "跟进阶段"),
    "at": ("at", "time", "时间", "日期", "发生时间"),
    "dealer": ("dealer", "dealer_code", "经销商", "经销商代码"),
    "reason": ("reason", "战败原因", "原因"),
    "note": ("note", "备注"),
}
REQUIRED_DEAL_COLUMNS = ("id", "lead_id", "stage", "at", "dealer")


@dataclass(frozen=True)
class DealRow:
    line_no: int  # the file's line, or the item's position in the feed
    external_id: str
    lead_id: int
    stage: DealStage
    at: datetime
    dealer: str
    reason: str
    note: str


def check_deal_row(line_no: int, record: dict[str, str], *, where: str = "line") -> DealRow:
    """A record's shape (its move is checked against the lead later); DealRejected as
    `line N: field: reason` otherwise."""

    def bad(field: str, reason: str) -> DealRejected:
        return DealRejected(
            line_error(line_no, field, reason).replace("line", where, 1), field=field
        )

    values = {k: str(record.get(k) or "").strip() for k in DEAL_COLUMNS}
    for field in REQUIRED_DEAL_COLUMNS:
        if not values[field]:
            raise bad(field, "missing")
    try:
        lead_id = int(values["lead_id"])
    except ValueError:
        raise bad("lead_id", f"not a number: {values['lead_id']!r}") from None
    try:
        stage = parse_stage(values["stage"])
    except DealRejected as exc:
        raise bad("stage", str(exc)) from None
    try:
        at = parse_instant(values["at"].replace("/", "-"))
    except ValueError:
        raise bad("at", f"not a time: {values['at']!r} (e.g. 2026-10-12 15:00)") from None
    return DealRow(
        line_no,
        values["id"][:200],
        lead_id,
        stage,
        at,
        values["dealer"].removeprefix("dealer:"),
        values["reason"],
        values["note"],
    )


def parse_deal_rows(data: bytes | str) -> tuple[list[DealRow], list[str]]:
    """The good rows of a dealer-system file and one line per refused row (row and field)."""
    decoded = decode(data)
    rows: list[DealRow] = []
    refused = [bad.reason for bad in decoded.bad_lines]
    for line_no, record, _raw in iter_records(decoded, DEAL_COLUMNS, REQUIRED_DEAL_COLUMNS):
        try:
            rows.append(check_deal_row(line_no, record))
        except DealRejected as exc:
            refused.append(str(exc))
    return rows, refused
