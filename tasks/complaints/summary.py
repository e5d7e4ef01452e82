"""The monthly complaints summary: counts by category, source and region, the on-time rate
(complaints of the month that finished every stage by its due date), and the open ones."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time

from prefect.artifacts import create_markdown_artifact
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ
from domain.club_report import percent
from domain.complaints import ComplaintStatus
from domain.models_complaints import Complaint
from tasks.outbox import NotificationRequest, queue_notifications


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (
        datetime.combine(month, time(0), tzinfo=BUSINESS_TZ),
        datetime.combine(nxt, time(0), tzinfo=BUSINESS_TZ),
    )


def _line(counter: Counter) -> str:
    return "，".join(f"{k} {v}" for k, v in sorted(counter.items())) or "无"


def summarise_complaints(
    *, session: Session, month: date, now: datetime, settings: Settings
) -> dict:
    start, end = _month_bounds(month)
    rows = (
        session.execute(
            select(Complaint).where(Complaint.filed_at >= start, Complaint.filed_at < end)
        )
        .scalars()
        .all()
    )
    open_ = (
        session.execute(
            select(Complaint.id).where(
                Complaint.status != ComplaintStatus.closed, Complaint.filed_at < end
            )
        )
        .scalars()
        .all()
    )
    total = len(rows)
    done = [c for c in rows if c.status in (ComplaintStatus.answered, ComplaintStatus.closed)]
    on_time = sum(1 for c in done if not c.late)
    by_category = Counter(c.category or "未分类" for c in rows)
    by_source = Counter(c.source for c in rows)
    by_region = Counter(c.region_code or "-" for c in rows)
    rate = percent(on_time / len(done)) if done else "—"
    report = "\n".join(
        [
            f"# 投诉汇总 {month:%Y-%m}",
            f"共 {total} 件；已答复或关闭 {len(done)} 件，其中按时 {on_time} 件（按时率 {rate}）；"
            f"月底未结 {len(open_)} 件。",
            "",
            "| 维度 | 分布 |",
            "|---|---|",
            f"| 类别 | {_line(by_category)} |",
            f"| 来源 | {_line(by_source)} |",
            f"| 区域 | {_line(by_region)} |",
            f"| 未结 | {', '.join(f'#{i}' for i in sorted(open_)) or '无'} |",
        ]
    )
    key = f"complaints-{month:%Y-%m}"
    create_markdown_artifact(key=key, markdown=report, description=f"Complaints {month:%Y-%m}")
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient="role:campaign_manager",
                template="complaints_monthly",
                context={
                    "month": f"{month:%Y-%m}",
                    "total": total,
                    "closed": sum(1 for c in rows if c.status == ComplaintStatus.closed),
                    "open": len(open_),
                    "on_time_rate": rate,
                    "by_category": _line(by_category),
                    "report": key,
                },
                idem_key=f"complaints:monthly:{month:%Y-%m}",
            )
        ],
        now=now,
        settings=settings,
    )
    session.commit()
    return {
        "month": f"{month:%Y-%m}",
        "total": total,
        "open": len(open_),
        "on_time": on_time,
        "by_category": dict(by_category),
        "by_source": dict(by_source),
        "by_region": dict(by_region),
    }
