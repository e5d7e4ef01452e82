"""Spending points: the catalogue's rules, who may redeem and write off, and a voucher's life.

Pure rules: records come in as values; each refusal function returns why not, or None. The
race-safe checks (stock and balance) are repeated as conditional updates in the store
(tasks/members/redemption.py): these rules give the clear reason first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.permissions import Actor, role_refusal

REWARD_KINDS = (
    "car_wash",
    "maintenance",
    "labour_credit",
    "discount",
    "brand_goods",
    "partner_perk",
)
KIND_ZH = {
    "car_wash": "洗车券",
    "maintenance": "保养券",
    "labour_credit": "工时抵扣",
    "discount": "折扣券",
    "brand_goods": "品牌精品",
    "partner_perk": "合作伙伴权益",
}
STATUS_ZH = {"issued": "待核销", "written_off": "已核销", "expired": "已过期"}

# HQ keeps the catalogue; staff who redeem on a member's behalf; the dealer writes off.
MANAGE_ROLES = ("campaign_manager",)
REDEEM_FOR_ROLES = ("campaign_manager", "club_admin", "dealer")
WRITEOFF_ROLES = ("dealer",)


@dataclass(frozen=True)
class RewardTerms:
    """What a catalogue row says, checked before it is stored."""

    code: str
    name: str
    kind: str
    points: int
    stock: int
    valid_from: date
    valid_to: date
    voucher_days: int
    refund_on_expiry: bool


def terms_problem(terms: RewardTerms, *, max_points: int) -> str | None:
    """Why a catalogue row cannot be stored, naming the field; None when it can."""
    if not terms.code.strip() or len(terms.code) > 32:
        return "code: give 1 to 32 characters"
    if not terms.name.strip():
        return "name: empty"
    if terms.kind not in REWARD_KINDS:
        return f"kind {terms.kind!r}: one of {', '.join(REWARD_KINDS)}"
    if not 1 <= terms.points <= max_points:
        return f"points {terms.points}: between 1 and {max_points}"
    if terms.stock < 0:
        return f"stock {terms.stock}: not below 0"
    if terms.valid_to < terms.valid_from:
        return f"valid_to {terms.valid_to}: before valid_from {terms.valid_from}"
    if terms.voucher_days < 1:
        return f"voucher_days {terms.voucher_days}: at least 1"
    return None


def manage_refusal(actor: Actor | None, *, username: str) -> str | None:
    return role_refusal(actor, username=username, roles=MANAGE_ROLES, action="the rewards catalogue")


def redeem_actor_refusal(actor: Actor | None, *, username: str, member_no: str) -> str | None:
    """A member redeems for themselves (`member:<no>`); staff may redeem on their behalf."""
    kind, sep, no = username.partition(":")
    if sep and kind == "member":
        return None if no == member_no else f"{username} may not redeem for member {member_no}"
    return role_refusal(actor, username=username, roles=REDEEM_FOR_ROLES, action="redeem")


def writeoff_actor_refusal(actor: Actor | None, *, username: str) -> str | None:
    return role_refusal(actor, username=username, roles=WRITEOFF_ROLES, action="write-off")


def redeem_refusal(
    *,
    active: bool,
    valid_from: date,
    valid_to: date,
    stock: int,
    price: int,
    balance: int,
    member_status: str,
    day: date,
) -> str | None:
    """Why this reward cannot be redeemed today by a member with `balance` points."""
    if member_status != "active":
        return f"the member is {member_status}, not active"
    if not active:
        return "the reward is withdrawn from the catalogue"
    if day < valid_from:
        return f"the reward can be redeemed from {valid_from.isoformat()}"
    if day > valid_to:
        return f"the reward could be redeemed until {valid_to.isoformat()}"
    if stock <= 0:
        return "the reward is out of stock"
    if balance < price:
        return f"not enough points: the reward costs {price}, the balance is {balance}"
    return None


def voucher_valid_until(issued_on: date, voucher_days: int) -> date:
    """The last day a voucher may be written off: `voucher_days` days counting the issue day."""
    return issued_on + timedelta(days=voucher_days - 1)


def writeoff_refusal(
    *,
    status: str,
    valid_until: date,
    written_off_on: date | None,
    written_off_by: str | None,
    day: date,
) -> str | None:
    """Why a voucher cannot be written off today."""
    if status == "written_off":
        when = written_off_on.isoformat() if written_off_on else "earlier"
        return f"the voucher was already written off on {when} by {written_off_by}"
    if status == "expired" or day > valid_until:
        return f"the voucher expired: it was valid until {valid_until.isoformat()}"
    if status != "issued":
        return f"the voucher is {status}"
    return None


def expires(*, status: str, valid_until: date, day: date) -> bool:
    """An issued voucher whose last day is before `day` expires."""
    return status == "issued" and valid_until < day


def refund_points(*, points: int, refund_on_expiry: bool) -> int:
    """Points an expired voucher gives back, by its reward's policy."""
    return points if refund_on_expiry else 0


def format_code(raw: str) -> str:
    """Groups of four, e.g. `K7QD-2MXA-9FPR-T3WE`; case and dashes are ignored on entry."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_code(typed: str) -> str:
    return format_code("".join(ch for ch in typed.upper() if ch.isalnum()))


def mask_code(code: str) -> str:
    """A voucher code as lists and other staff see it: only its last four characters."""
    return "-".join("****" for _ in code.split("-")[:-1]) + "-" + code.split("-")[-1]
