"""Member lifecycle rules: the inputs flows take, activation window, birthdays, segments,
referral caps. Pure: time and policy numbers are parameters."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from domain.models import MemberTier


class MemberStatus(StrEnum):
    registered = "registered"  # waiting for activation
    active = "active"
    expired = "expired"  # did not activate within the window


# Where a member's status may go; `active` is final. An expired registration (or a pending
# one whose window ended) registers again in a new round.
MEMBER_MOVES: dict[MemberStatus, frozenset[MemberStatus]] = {
    MemberStatus.registered: frozenset({MemberStatus.active, MemberStatus.expired}),
    MemberStatus.expired: frozenset({MemberStatus.registered}),
}


class MemberMoveRefused(ValueError):
    """A member status change the table of moves does not allow."""


def move_member(current: str, to: MemberStatus) -> MemberStatus:
    """The new status `to`, or a refusal naming both when `current` may not move there."""
    if to not in MEMBER_MOVES.get(MemberStatus(current), frozenset()):
        raise MemberMoveRefused(f"a member who is {current} cannot become {to}")
    return to


class Segment(StrEnum):
    active = "active"
    sleeping = "sleeping"
    lost = "lost"


# ---------------------------------------------------------------- inputs


class RegistrationInput(BaseModel):
    """One registration, from the app, a file import or a dealer's counter."""

    name: str = Field(min_length=1, max_length=64, description="会员姓名")
    phone: str = Field(description="手机号（任意常见写法，保存为 +86 标准格式）")
    club_code: str | None = Field(default=None, description="俱乐部代码，如 C-CH001")
    dealer_code: str | None = Field(
        default=None, description="在经销商处登记时的经销商代码；会员归入该店的俱乐部"
    )
    birthday: date | None = None
    referral_code: str | None = Field(default=None, description="推荐人的推荐码")
    # Contact consent asked at registration: service messages are allowed; marketing (offers,
    # invitations) only with this explicit yes (domain/consent.py).
    marketing_consent: bool = Field(default=False, description="同意接收营销推广短信和电话")


class InteractionInput(BaseModel):
    member_no: str
    kind: Literal["service", "purchase", "visit", "app", "signin", "post", "share", "review"] = (
        Field(
            description="service 售后到店 / purchase 购车 / visit 到店 / app 线上互动 / "
            "signin App签到 / post 论坛发帖 / share 分享 / review 服务评价"
        )
    )
    ref: str = Field(min_length=1, max_length=200, description="来源系统的单号（去重用）")
    occurred_at: AwareDatetime


# ---------------------------------------------------------------- activation


@dataclass(frozen=True)
class ActivationWindow:
    """Registration on day 0; a reminder on `reminder_day`; the code works until the end of
    day `window_days - 1`; on day `window_days` the registration expires."""

    registered_on: date
    reminder_on: date
    expires_on: date

    @property
    def last_day(self) -> date:
        return self.expires_on - timedelta(days=1)

    def open_on(self, day: date) -> bool:
        return self.registered_on <= day < self.expires_on


def activation_window(
    registered_on: date, *, window_days: int, reminder_day: int
) -> ActivationWindow:
    if not 0 < reminder_day < window_days:
        raise ValueError(
            f"activation reminder day {reminder_day} must fall inside the window of "
            f"{window_days} days"
        )
    return ActivationWindow(
        registered_on=registered_on,
        reminder_on=registered_on + timedelta(days=reminder_day),
        expires_on=registered_on + timedelta(days=window_days),
    )


def activation_code(secret: str, member_no: str, round_no: int) -> str:
    """The 6-digit code of one activation round, derived (HMAC) rather than stored, so the
    database never holds a usable code and the reminder can repeat it."""
    digest = hmac.new(
        secret.encode(), f"activation:{member_no}:{round_no}".encode(), hashlib.sha256
    ).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def code_matches(secret: str, member_no: str, round_no: int, given: str) -> bool:
    expected = activation_code(secret, member_no, round_no)
    return hmac.compare_digest(expected, (given or "").strip())


# ---------------------------------------------------------------- birthdays


def same_day_in_year(day: date, year: int) -> date:
    """`day` moved to `year`; 29 February becomes 28 February in a non-leap year."""
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a non-leap year
        return date(year, 2, 28)


def birthday_in(birthday: date, year: int) -> date:
    """The day a member's birthday is celebrated in `year`."""
    return same_day_in_year(birthday, year)


# ---------------------------------------------------------------- segments


def segment_for(
    last_interaction: date, today: date, *, active_days: int, lost_days: int
) -> Segment:
    """active: an interaction within the last `active_days` days (that day included);
    lost: the last one more than `lost_days` ago; sleeping: in between."""
    if not 0 < active_days < lost_days:
        raise ValueError(f"segment thresholds must grow: active {active_days}, lost {lost_days}")
    idle = (today - last_interaction).days
    if idle <= active_days:
        return Segment.active
    if idle > lost_days:
        return Segment.lost
    return Segment.sleeping


def sleeping_since(last_interaction: date, *, active_days: int) -> date:
    """The first day a member without further interaction counts as sleeping: it names the
    sleep episode, so one episode gets one reactivation invitation however often we look."""
    return last_interaction + timedelta(days=active_days + 1)


# ---------------------------------------------------------------- referrals


def referral_reward_for_referrer(points: int, rewarded_this_year: int, yearly_cap: int) -> int:
    """The referrer's points for one more referral event: nothing once the year's cap of
    rewarded events is reached (the referred member is rewarded regardless)."""
    return points if rewarded_this_year < yearly_cap else 0


# ---------------------------------------------------------------- wording


TIER_ZH = {
    MemberTier.ordinary: "普通会员",
    MemberTier.silver: "银卡会员",
    MemberTier.gold: "金卡会员",
}


def recipient(member_no: str) -> str:
    """The outbox recipient of a member."""
    return f"member:{member_no}"


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
