"""The dealers' monthly return and the clubs' content (pure).

On the 1st the operator (运营方, the agency running the club programme) sends each active
dealer its member report about last month and a questionnaire; the dealer answers by the due
date (the 10th) with feedback, suggestions for the next plan and the month's sales and
after-sales figures, which the club report's bonus KPIs need. Clubs report their content per
month by kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.club_report import Kpis, feedback_due, percent


def return_due(month: date, due_day: int) -> date:
    """The return about `month` is due on `due_day` of the following month, inclusive: the
    brand's "before the 10th" is read as "by the end of the 10th", as the reminder says."""
    return feedback_due(month, due_day)


def parse_month(text: str) -> date:
    """`2026-11` → 1 Nov 2026; a clear error otherwise."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"month {text!r}: expected YYYY-MM, e.g. 2026-11") from None


def correction_refusal(
    *, answered: bool, today: date, due_on: date, corrections: bool
) -> str | None:
    """One answer per dealer and month. With `corrections`, it may be corrected up to the due
    date (inclusive). A first answer after the due date is still taken: the report is better
    late than without it."""
    if not answered:
        return None
    if not corrections:
        return "the return is already answered (corrections are off)"
    if today > due_on:
        return f"the return is already answered and its due date {due_on} has passed"
    return None


# The questionnaire's fields, in the portal's words (errors name the field in both).
ANSWER_FIELDS_ZH = {
    "feedback": "本月活动反馈",
    "suggestions": "下期计划建议",
    "sales_units": "本月销量（台）",
    "referral_sales_units": "其中俱乐部转介绍（台）",
    "service_revenue": "售后产值（元）",
    "member_service_revenue": "其中会员售后产值（元）",
    "wechat_groups": "微信群数",
    "wechat_members": "微信群人数",
}


class ReturnAnswer(BaseModel):
    """A dealer's answer to the monthly questionnaire."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    feedback: str = Field("", max_length=4000)
    suggestions: str = Field("", max_length=4000)
    sales_units: int = Field(ge=0)
    referral_sales_units: int = Field(ge=0)
    service_revenue: float = Field(ge=0)
    member_service_revenue: float = Field(ge=0)
    wechat_groups: int | None = Field(None, ge=0)
    wechat_members: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> ReturnAnswer:
        if self.referral_sales_units > self.sales_units:
            raise ValueError(
                f"referral_sales_units: {self.referral_sales_units} is more than the month's "
                f"sales_units {self.sales_units}"
            )
        if self.member_service_revenue > self.service_revenue:
            raise ValueError(
                f"member_service_revenue: {self.member_service_revenue:g} is more than "
                f"service_revenue {self.service_revenue:g}"
            )
        return self


def answer_errors(exc: ValidationError, *, labels: Mapping[str, str] | None = None) -> str:
    """One line naming each field that is wrong (`sales_units: ...`); with `labels`, a field
    is named `label (field)` (the portal's words, the command's options)."""
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        message = error["msg"].removeprefix("Value error, ")
        if not name and ":" in message:  # a rule over two fields names its field first
            name, _, message = (p.strip() for p in message.partition(":"))
        label = f"{labels[name]} ({name})" if labels and name in labels else name
        parts.append(f"{label}: {message}" if label else message)
    return "; ".join(parts)


class ContentKind(StrEnum):
    post = "post"  # a club post (公众号, 抖音 ...)
    essence = "essence"  # a forum essence post (论坛精华帖)
    self_media = "self_media"  # a self-media article; counted when read at least the threshold
    repost = "repost"  # reposts of brand content (转发), `count` of them
    event_registration = "event_registration"  # registrations for a brand event, `count`


CONTENT_KIND_ZH = {
    ContentKind.post: "帖子",
    ContentKind.essence: "论坛精华帖",
    ContentKind.self_media: "自媒体文章",
    ContentKind.repost: "转发",
    ContentKind.event_registration: "品牌活动报名",
}
# Kinds that are a piece of content published (counted as posts, their reads summed).
PUBLISHED_KINDS = (ContentKind.post, ContentKind.essence, ContentKind.self_media)


class ContentItem(BaseModel):
    """One content row a club submits (portal form or CSV line)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=200)
    kind: ContentKind = ContentKind.post
    published_on: date
    reads: int = Field(0, ge=0)
    count: int = Field(1, ge=1)
    channel: str = Field("", max_length=40)
    title: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_per_piece(self) -> ContentItem:
        if self.kind in PUBLISHED_KINDS and self.count != 1:
            raise ValueError(f"count: a {self.kind.value} row is one piece of content (count 1)")
        return self


def content_counts(rows: Iterable[tuple[str, int, int, int]]) -> dict[str, int]:
    """A club's month of content, as (kind, reads, count, count read at least the
    self-media threshold) summed per kind → posts, reads, essence, self_media, reposts,
    event_registrations. Posts are the pieces published (posts, essence posts, self-media
    articles) and reads theirs; reposts and registrations are counted on their own."""
    out = dict(posts=0, reads=0, essence=0, self_media=0, reposts=0, event_registrations=0)
    for kind, reads, count, read_enough in rows:
        if kind in PUBLISHED_KINDS:
            out["posts"] += count
            out["reads"] += reads
        if kind == ContentKind.essence:
            out["essence"] += count
        elif kind == ContentKind.self_media:
            out["self_media"] += read_enough
        elif kind == ContentKind.repost:
            out["reposts"] += count
        elif kind == ContentKind.event_registration:
            out["event_registrations"] += count
    return out


def _compare(mine: float | None, region: float | None) -> str:
    if mine is None or region is None:
        return "无可比数据"
    if abs(mine - region) < 1e-9:
        return "与大区持平"
    return "高于大区" if mine > region else "低于大区"


def analysis_lines(club: Kpis, region: Kpis) -> list[str]:
    """The few sentences of the member report's analysis: the club against its region."""
    growth = _compare(club.member_growth, region.member_growth)
    lines = [
        f"会员增长 {percent(club.member_growth)}，{growth}（大区 {percent(region.member_growth)}）"
    ]
    if club.activities == 0:
        lines.append("本月没有举办线下活动，建议在下期计划中安排至少一场。")
    else:
        mine, theirs = club.participants_per_activity, region.participants_per_activity
        lines.append(
            f"场均签到 {mine:.1f} 人次，{_compare(mine, theirs)}"
            + (f"（大区 {theirs:.1f}）" if theirs is not None else "")
        )
    if club.posts == 0:
        lines.append("本月没有发布内容，建议每月至少发布一篇活动图文。")
    else:
        lines.append(f"篇均阅读 {club.reads / club.posts:.0f} 次。")
    return lines
