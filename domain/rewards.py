"""Spending points: the catalogue's rules, who may redeem and write off, and a voucher's life.

Pure rules: records come in as values; each refusal function returns why not, or None. The
race-safe checks (stock and balance) are repeated as conditional updates in the store
(tasks/members/redemption.py): these rules give the clear reason first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.permissions import Actor, role_refusal
from domain.privacy import mask_phone

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
        return f"kind: {terms.kind!r} is not one of {', '.join(REWARD_KINDS)}"
    if not 1 <= terms.points <= max_points:
        return f"points: {terms.points} is not between 1 and {max_points}"
    if terms.stock < 0:
        return f"stock: {terms.stock} is below 0"
    if terms.valid_to < terms.valid_from:
        return f"valid_to: {terms.valid_to} is before valid_from {terms.valid_from}"
    if terms.voucher_days < 1:
        return f"voucher_days: {terms.voucher_days} is below 1"
    return None


def manage_refusal(actor: Actor | None, *, username: str) -> str | None:
    return role_refusal(
        actor, username=username, roles=MANAGE_ROLES, action="the rewards catalogue"
    )


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


# The catalogue file's columns (zh and en headers).
CATALOGUE_COLUMNS = {
    "code": ("code", "编号", "奖励编号"),
    "name": ("name", "名称", "奖励名称"),
    "kind": ("kind", "类别"),
    "points": ("points", "积分", "所需积分"),
    "stock": ("stock", "库存"),
    "valid_from": ("valid_from", "开始日期"),
    "valid_to": ("valid_to", "结束日期"),
    "voucher_days": ("voucher_days", "券有效天数"),
    "refund_on_expiry": ("refund_on_expiry", "过期退积分"),
}
CATALOGUE_REQUIRED = ("code", "name", "kind", "points", "stock", "valid_from", "valid_to")
TRUE_WORDS = {"yes", "y", "true", "1", "是"}
FALSE_WORDS = {"no", "n", "false", "0", "否", ""}


class TermsError(ValueError):
    """One field of a catalogue row is not readable; `field` names it."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def parse_terms(values: dict[str, str], *, default_voucher_days: int) -> RewardTerms:
    """A catalogue row from text (a CSV line or CLI options); raises TermsError."""

    def number(name: str) -> int:
        text = values.get(name, "").strip()
        try:
            return int(text)
        except ValueError:
            raise TermsError(name, f"{text!r} is not a whole number") from None

    def day(name: str) -> date:
        text = values.get(name, "").strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise TermsError(name, f"{text!r} is not a date (YYYY-MM-DD)") from None

    refund = values.get("refund_on_expiry", "").strip().lower()
    if refund not in TRUE_WORDS | FALSE_WORDS:
        raise TermsError("refund_on_expiry", f"{refund!r}: yes or no")
    days_text = values.get("voucher_days", "").strip()
    return RewardTerms(
        code=values.get("code", "").strip().upper(),
        name=values.get("name", "").strip(),
        kind=values.get("kind", "").strip(),
        points=number("points"),
        stock=number("stock"),
        valid_from=day("valid_from"),
        valid_to=day("valid_to"),
        voucher_days=number("voucher_days") if days_text else default_voucher_days,
        refund_on_expiry=refund in TRUE_WORDS,
    )


def mask_holder(name: str, phone: str | None) -> str:
    """Who holds a voucher, as the counter sees it: the surname and the masked phone."""
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)} {mask_phone(phone)}"
