"""The quarter plan as an iCalendar file (RFC 5545) that calendar apps open.

All-day events: the crossing weekend, the national gathering, and one event per club slot
spanning its month (marked free, so it does not block anyone's calendar). UIDs are stable, so
importing the file again updates the events instead of duplicating them.

The writer emits the few properties we use directly (escaping and 75-octet folding per RFC
5545 §3.1 and §3.3.11): the `icalendar` package builds ~0.3 ms of objects per event, which is
seconds for 10,000 club slots; the tests read every file back with `icalendar`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.planning import QuarterPlan, next_month

PRODID = "-//clubflow//quarter plan//ZH"


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on lines starting with a space, never splitting a
    UTF-8 character (a cut never lands on a continuation byte 0b10xxxxxx)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # the leading space of a continuation line counts
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")


def _event(
    uid: str,
    summary: str,
    start: date,
    end: date,
    description: str,
    stamp: str,
    *,
    free: bool = False,
) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp}",
        fold(f"SUMMARY:{escape_text(summary)}"),
        f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",  # exclusive for all-day events
        fold(f"DESCRIPTION:{escape_text(description)}"),
    ]
    if free:
        lines.append("TRANSP:TRANSPARENT")
    lines.append("END:VEVENT")
    return lines


def quarter_calendar(plan: QuarterPlan, *, stamp: datetime, region_names: dict[str, str]) -> bytes:
    """`stamp` (the plan's creation time) is every event's DTSTAMP: same plan, same bytes."""
    dtstamp = f"{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        fold(f"X-WR-CALNAME:{escape_text(f'羽林车友俱乐部 {plan.quarter} 季度计划')}"),
        "X-WR-TIMEZONE:Asia/Shanghai",
    ]
    c = plan.crossing
    lines += _event(
        f"crossing-{plan.quarter}@clubflow",
        f"跨区穿越 {c.region_zh} {c.theme}",
        c.starts_on,
        c.ends_on + timedelta(days=1),
        f"{plan.quarter} 跨区域穿越，{c.region_zh}主办，邀请其他六大区域俱乐部参加。",
        dtstamp,
    )
    if plan.gathering is not None:
        g = plan.gathering
        lines += _event(
            f"gathering-{plan.quarter.year}@clubflow",
            g.title,
            g.starts_on,
            g.ends_on + timedelta(days=1),
            "年度全国集结（A 类活动，总部主办）" + (f"：{g.features}。" if g.features else "。"),
            dtstamp,
        )
    for slot in plan.slots:
        region = region_names.get(slot.region_code, slot.region_code)
        lines += _event(
            f"slot-{slot.club_code}-{slot.month:%Y-%m}@clubflow",
            f"{slot.club_name} {slot.month.month}月活动档期（{slot.theme}）",
            slot.month,
            next_month(slot.month),
            f"{region} {slot.club_name}：{slot.month:%Y年%m月} 区域内活动，主题 {slot.theme}；"
            f"月度计划请于 {slot.due_on:%Y-%m-%d} 前提报。",
            dtstamp,
            free=True,
        )
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
