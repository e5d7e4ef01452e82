"""The monthly club KPIs, per club and per region (pure).

Required: offline activities × participants, content published and read, member growth.
Bonus, where the dealer's monthly return has the figures: referral sales share (sales the
club referred / the dealer's sales of the month) and after-sales share (club members' service
revenue / all service revenue), and the club's WeChat groups. Dealer communication counts the
content kinds: forum essence posts, self-media articles read at least the threshold, reposts,
registrations for brand events. The store gathers the facts with set-based SQL; this module
turns them into the figures, so the arithmetic is tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import is_working_day as _is_working_day


def report_month(today: date) -> date:
    """The month a report run on `today` is about: the previous month (its first day)."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def feedback_due(month: date, due_day: int) -> date:
    """The dealer's return about `month` is due on `due_day` of the following month."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=due_day)


def first_working_day(year: int, month: int, is_working_day=_is_working_day) -> date:
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def is_first_working_day_of_month(today: date, is_working_day=_is_working_day) -> bool:
    return today == first_working_day(today.year, today.month, is_working_day)


@dataclass(frozen=True)
class ClubFacts:
    """What the store knows about one club in one month (zeros when nothing happened)."""

    club_id: int
    club_code: str
    club_name: str
    region_code: str
    dealer_code: str | None
    activities: int = 0  # held in the month: at least one checked-in participant
    participants: int = 0  # checked-in registrations over those activities
    posts: int = 0  # content published in the month (club posts and activity recap posts)
    reads: int = 0
    members_at_start: int = 0
    new_members: int = 0
    # From the dealer's monthly return; None where the dealer has not reported the figure.
    sales_units: int | None = None
    referral_sales_units: int | None = None
    service_revenue: float | None = None
    member_service_revenue: float | None = None
    reactivated: int = 0  # sleeping members who came back after an invitation (members flows)
    answered: bool = False  # the dealer's monthly return about the month is in
    wechat_groups: int | None = None
    wechat_members: int | None = None
    # Dealer communication (club content by kind, domain.monthly_return).
    essence: int = 0
    self_media: int = 0  # self-media articles read at least the threshold
    reposts: int = 0
    event_registrations: int = 0
    # Satisfaction surveys answered in the month about the club's activities (complaints).
    satisfaction_responses: int = 0
    satisfaction_total: int = 0  # the sum of their 1-5 scores


def share(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole


@dataclass(frozen=True)
class Kpis:
    """One row of the report: a club (key = club code) or a region (key = region code)."""

    key: str
    name: str
    region_code: str
    clubs: int
    activities: int
    participants: int
    posts: int
    reads: int
    members_at_start: int
    new_members: int
    reactivated: int
    referral_share: float | None
    after_sales_share: float | None
    answered: int = 0  # clubs whose dealer's return is in
    wechat_members: int | None = None
    essence: int = 0
    self_media: int = 0
    reposts: int = 0
    event_registrations: int = 0
    satisfaction_responses: int = 0
    satisfaction_total: int = 0

    @property
    def satisfaction(self) -> float | None:
        """The average score, pooled over every response (not an average of clubs' averages)."""
        return share(self.satisfaction_total, self.satisfaction_responses)

    @property
    def participants_per_activity(self) -> float | None:
        return share(self.participants, self.activities)

    @property
    def members_at_end(self) -> int:
        return self.members_at_start + self.new_members

    @property
    def member_growth(self) -> float | None:
        """New members over the members at the start of the month."""
        return share(self.new_members, self.members_at_start)


def club_kpis(facts: Iterable[ClubFacts]) -> list[Kpis]:
    return [
        Kpis(
            key=f.club_code,
            name=f.club_name,
            region_code=f.region_code,
            clubs=1,
            activities=f.activities,
            participants=f.participants,
            posts=f.posts,
            reads=f.reads,
            members_at_start=f.members_at_start,
            new_members=f.new_members,
            reactivated=f.reactivated,
            referral_share=share(f.referral_sales_units, f.sales_units),
            after_sales_share=share(f.member_service_revenue, f.service_revenue),
            answered=int(f.answered),
            wechat_members=f.wechat_members,
            essence=f.essence,
            self_media=f.self_media,
            reposts=f.reposts,
            event_registrations=f.event_registrations,
            satisfaction_responses=f.satisfaction_responses,
            satisfaction_total=f.satisfaction_total,
        )
        for f in sorted(facts, key=lambda f: (f.region_code, f.club_code))
    ]


def _pooled(facts: list[ClubFacts], part: str, whole: str) -> float | None:
    # A share of the region is pooled over the clubs that report both figures, never an
    # average of the clubs' shares (a small dealer would weigh as much as a big one).
    pairs = [
        (getattr(f, part), getattr(f, whole))
        for f in facts
        if getattr(f, part) is not None and getattr(f, whole) is not None
    ]
    if not pairs:
        return None
    return share(sum(p for p, _ in pairs), sum(w for _, w in pairs))


def _total(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def region_kpis(facts: Iterable[ClubFacts], region_names: Mapping[str, str]) -> list[Kpis]:
    by_region: dict[str, list[ClubFacts]] = {}
    for f in facts:
        by_region.setdefault(f.region_code, []).append(f)
    return [
        Kpis(
            key=code,
            name=region_names.get(code, code),
            region_code=code,
            clubs=len(rows),
            activities=sum(f.activities for f in rows),
            participants=sum(f.participants for f in rows),
            posts=sum(f.posts for f in rows),
            reads=sum(f.reads for f in rows),
            members_at_start=sum(f.members_at_start for f in rows),
            new_members=sum(f.new_members for f in rows),
            reactivated=sum(f.reactivated for f in rows),
            referral_share=_pooled(rows, "referral_sales_units", "sales_units"),
            after_sales_share=_pooled(rows, "member_service_revenue", "service_revenue"),
            answered=sum(f.answered for f in rows),
            wechat_members=_total(f.wechat_members for f in rows),
            essence=sum(f.essence for f in rows),
            self_media=sum(f.self_media for f in rows),
            reposts=sum(f.reposts for f in rows),
            event_registrations=sum(f.event_registrations for f in rows),
            satisfaction_responses=sum(f.satisfaction_responses for f in rows),
            satisfaction_total=sum(f.satisfaction_total for f in rows),
        )
        for code, rows in sorted(by_region.items())
    ]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def score(value: float | None) -> str:
    """An average satisfaction score, one decimal; "—" when nobody answered."""
    return "—" if value is None else f"{value:.1f}"


NOT_ANSWERED = "— 未提交"


def bonus_share(value: float | None, *, answered: bool, whole: str) -> str:
    """A bonus share of the report: the percentage when the return is in; "— 未提交" when the
    dealer did not answer; "无<whole>" when they answered with a whole of 0 (no share exists)."""
    if not answered:
        return NOT_ANSWERED
    return f"无{whole}" if value is None else percent(value)
