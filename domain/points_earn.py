"""Points earned by spending, by interacting online, and the points budget and anomaly rules.

Pure: amounts, rates, multipliers and the month's figures come in as values.
- Spending: floor(amount_yuan x rate of the kind x the member's tier multiplier).
- Online interactions: a fixed amount per kind, at most a daily cap of points per member.
- Budget: issued and redeemed points valued in yuan against the monthly budget; a warning
  once the value issued reaches the warning share.
- Anomaly: a member whose points earned in one business day exceed the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from domain.calendar import BUSINESS_TZ
from domain.instants import parse_instant

TXN_KINDS: tuple[str, ...] = ("purchase", "service", "parts")
TXN_KIND_ZH = {"purchase": "购车", "service": "售后", "parts": "配件"}
ONLINE_KIND_ZH = {"signin": "App签到", "post": "论坛发帖", "share": "分享", "review": "服务评价"}
REDEEM_PREFIX = "redeem"  # redemption rows' reason starts with this


def spending_points(amount_yuan: Decimal, rate: float, multiplier: float) -> int:
    """Whole points for a transaction (a fraction of a point is not given)."""
    if amount_yuan <= 0:
        return 0
    return math.floor(float(amount_yuan) * rate * multiplier + 1e-9)


def capped_grants(already: int, amounts: list[int], cap: int) -> list[int]:
    """The points each of a day's interactions gives, in order, when `already` points were
    given that day and the day's total may not pass `cap`."""
    given, out = already, []
    for amount in amounts:
        take = max(0, min(amount, cap - given))
        out.append(take)
        given += take
    return out


@dataclass(frozen=True)
class BudgetMonth:
    month: date  # the first day of the month
    issued_points: int
    redeemed_points: int  # a positive number
    yuan_per_point: float
    budget_yuan: float

    @property
    def issued_yuan(self) -> float:
        return round(self.issued_points * self.yuan_per_point, 2)

    @property
    def redeemed_yuan(self) -> float:
        return round(self.redeemed_points * self.yuan_per_point, 2)

    @property
    def share(self) -> float:
        """The value issued as a share of the budget (0 with no budget set)."""
        return self.issued_yuan / self.budget_yuan if self.budget_yuan > 0 else 0.0

    def warns(self, warn_share: float) -> bool:
        return self.budget_yuan > 0 and self.share >= warn_share


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_anomaly(points_in_day: int, threshold: int) -> bool:
    """Points gained in one business day beyond the threshold are reviewed by HQ."""
    return points_in_day > threshold


REVIEW_OUTCOMES = ("cleared", "confirmed")


# ---------------------------------------------------------------- the dealer system's rows

# CSV headers accepted for each field (English or the Chinese of the dealer system's export).
TXN_COLUMNS = {
    "txn_id": ("txn_id", "transaction_id", "单号", "交易号"),
    "member_no": ("member_no", "member", "会员号"),
    "kind": ("kind", "type", "类型"),
    "amount_yuan": ("amount_yuan", "amount", "金额"),
    "occurred_at": ("occurred_at", "time", "时间"),
    "dealer_code": ("dealer", "dealer_code", "经销商"),
}
TXN_REQUIRED = ("txn_id", "member_no", "kind", "amount_yuan", "occurred_at")
_KIND_ALIASES = {"购车": "purchase", "售后": "service", "配件": "parts"}


@dataclass(frozen=True)
class TxnRow:
    """One bill as the dealer system gives it; `line` names it in errors (row or item)."""

    line: int
    txn_id: str
    member_no: str
    kind: str
    amount_yuan: Decimal
    occurred_at: datetime  # aware
    dealer_code: str | None


def check_txn_record(line: int, record: dict[str, str]) -> TxnRow | tuple[str, str]:
    """A record's row, or (field, reason) for the first field that is wrong."""
    values = {k: (v or "").strip() for k, v in record.items()}
    for name in TXN_REQUIRED:
        if not values.get(name):
            return name, "is empty"
    if len(values["txn_id"]) > 100:
        return "txn_id", "longer than 100 characters"
    kind = _KIND_ALIASES.get(values["kind"], values["kind"].lower())
    if kind not in TXN_KINDS:
        return "kind", f"{values['kind']!r} is not one of {', '.join(TXN_KINDS)}"
    try:
        amount = Decimal(values["amount_yuan"].replace(",", ""))
    except InvalidOperation:
        return "amount_yuan", f"{values['amount_yuan']!r} is not a number"
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
        return "amount_yuan", f"{values['amount_yuan']!r} is not a positive amount"
    try:
        at = parse_instant(values["occurred_at"])
    except ValueError:
        return "occurred_at", f"{values['occurred_at']!r} is not an ISO time"
    return TxnRow(
        line=line,
        txn_id=values["txn_id"],
        member_no=values["member_no"],
        kind=kind,
        amount_yuan=amount.quantize(Decimal("0.01")),
        occurred_at=at,
        dealer_code=values.get("dealer_code") or None,
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The business day's first instant and the next day's (Asia/Shanghai)."""
    start = datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)
    return start, start + timedelta(days=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month_start(month)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_bounds(first)[0], day_bounds(following)[0]


REASON_ZH = {
    "activity": "参加活动",
    "organiser": "组织活动",
    "referral": "推荐奖励",
    "spend:purchase": "购车消费",
    "spend:service": "售后消费",
    "spend:parts": "配件消费",
    "online:signin": "App签到",
    "online:post": "论坛发帖",
    "online:share": "分享",
    "online:review": "服务评价",
    "expiry": "积分过期",
    "adjustment": "调整",
}
# Reasons that carry a key after their prefix: the label names it.
PREFIX_ZH = {
    "redeem:": "积分兑换",
    "voucher-refund:": "兑换券过期退回",
    "points renewal of #": "积分续期",
    "birthday ": "生日月积分",
}


def reason_label(reason: str) -> str:
    """A ledger row's reason as members read it (the one table for every page and message)."""
    if reason in REASON_ZH:
        return REASON_ZH[reason]
    for prefix, label in PREFIX_ZH.items():
        if reason.startswith(prefix):
            return f"{label}（{reason[len(prefix) :]}）"
    return reason
