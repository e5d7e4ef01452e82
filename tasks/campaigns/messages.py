"""The campaign pipeline's notifications: who hears what, under which idempotency key.

Each key names the business event (`campaign:<id>:training:dealer:<code>`), so a re-run or a
second sweep queues nothing new. Texts are templates/notifications/campaign_*.j2.
"""

from __future__ import annotations

from typing import Any

from domain.calendar import BUSINESS_TZ
from domain.models import Role
from domain.privacy import mask_text
from domain.regions import REGIONS
from tasks.campaigns.store import CampaignView
from tasks.outbox import NotificationRequest

REGION_ZH = {r.code: r.name_zh for r in REGIONS}
MANAGERS = f"role:{Role.campaign_manager}"
AGENCY = f"role:{Role.agency}"
IT = f"role:{Role.it}"


def context(view: CampaignView, **extra: Any) -> dict[str, Any]:
    """What every campaign template may use."""
    milestones = {m.key: m for m in view.milestones}
    return {
        "code": view.code,
        "name": view.name,
        "launch_date": view.launch_date.isoformat(),
        "end_date": view.end_date.isoformat(),
        "regions": "、".join(REGION_ZH.get(r, r) for r in view.regions),
        "rush": view.rush,
        "rush_reason": view.rush_reason or "",
        "budget_total": view.budget_total,
        "plan_version": view.plan_version,
        "policy": mask_text(view.policy),
        "handbook_url": view.handbook_url,
        "golive_on": (milestones["golive"].starts_on or milestones["golive"].due_on).isoformat(),
        "training_on": milestones["training"].starts_on.isoformat(),
        "report_due_on": milestones["report"].due_on.isoformat(),
        **extra,
    }


def _one(
    view: CampaignView, recipient: str, template: str, key: str, **extra
) -> NotificationRequest:
    return NotificationRequest(
        recipient=recipient,
        template=template,
        context=context(view, **extra),
        idem_key=f"campaign:{view.id}:{key}",
    )


def review_requested(view: CampaignView, *, round: int, due_on: str) -> list[NotificationRequest]:
    return [
        _one(
            view,
            MANAGERS,
            "campaign_review_requested",
            f"plan_review:{round}:opened",
            round=round,
            due_on=due_on,
        )
    ]


def revision_requested(
    view: CampaignView, *, round: int, due_on: str, by: str, comment: str, gate: str
) -> list[NotificationRequest]:
    return [
        _one(
            view,
            AGENCY,
            "campaign_revision_requested",
            f"plan_revision:{round}:opened",
            round=round,
            due_on=due_on,
            by=by,
            comment=mask_text(comment),
            gate=gate,
        )
    ]


def signoff_requested(view: CampaignView, *, round: int, due_on: str) -> list[NotificationRequest]:
    return [
        _one(
            view,
            MANAGERS,
            "campaign_signoff_requested",
            f"signoff:{round}:opened",
            round=round,
            due_on=due_on,
            plan_hash=view.plan_hash[:12],
        )
    ]


def feasibility_requested(
    view: CampaignView, *, round: int, due_on: str
) -> list[NotificationRequest]:
    return [
        _one(
            view,
            IT,
            "campaign_feasibility_requested",
            f"feasibility:{round}:opened",
            round=round,
            due_on=due_on,
        )
    ]


def rejected(view: CampaignView, *, by: str, comment: str) -> list[NotificationRequest]:
    return [
        _one(
            view,
            recipient,
            "campaign_rejected",
            f"rejected:{recipient}",
            by=by,
            comment=mask_text(comment),
        )
        for recipient in (AGENCY, f"person:{view.started_by}")
    ]


def ready(view: CampaignView) -> list[NotificationRequest]:
    return [_one(view, r, "campaign_ready", f"ready:{r}") for r in (AGENCY, IT)]


def signoff_void(view: CampaignView) -> list[NotificationRequest]:
    return [_one(view, MANAGERS, "campaign_signoff_void", f"signoff_void:v{view.plan_version}")]


def training(
    view: CampaignView, dealers: list[str], *, link: str = ""
) -> list[NotificationRequest]:
    """The handbook, and when and how to join the training (from the plan)."""
    when = (
        view.training_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
        if view.training_at
        else ""
    )
    return [
        _one(
            view,
            f"dealer:{code}",
            "campaign_training",
            f"training:dealer:{code}",
            training_when=when,
            training_join=mask_text(view.training_join),
            link=link,
        )
        for code in dealers
    ]


def gate_opened(
    view: CampaignView, *, key: str, title: str, owner: str, round: int, due_on: str, link: str
) -> list[NotificationRequest]:
    """The owner of a build-to-live gate (slots, build and test, go-live) hears it is open."""
    return [
        _one(
            view,
            f"role:{owner}",
            "campaign_gate_opened",
            f"{key}:{round}:opened",
            gate=title,
            gate_key=key,
            due_on=due_on,
            link=link,
        )
    ]


def kpi_behind(live, kpi, *, link: str) -> NotificationRequest:
    """A KPI behind pace on a day: the campaign manager hears it once per KPI and day."""
    return NotificationRequest(
        recipient=f"person:{live.started_by}",
        template="campaign_kpi_behind",
        context={
            "name": live.name,
            "code": live.code,
            "day": live.day.isoformat(),
            "kpi": kpi.name,
            "unit": kpi.unit,
            "target": kpi.target,
            "actual": kpi.actual,
            "expected": kpi.expected,
            "share": round(live.share * 100),
            "link": link,
        },
        idem_key=f"campaign:{live.campaign_id}:kpi_behind:{kpi.name}:{live.day.isoformat()}",
    )


def launch(view: CampaignView, dealers: list[str]) -> list[NotificationRequest]:
    return [
        _one(view, f"dealer:{code}", "campaign_launch", f"launch:dealer:{code}") for code in dealers
    ]


def kpi_request(view: CampaignView) -> list[NotificationRequest]:
    kpis = "、".join(k["name"] for k in view.kpis)
    return [_one(view, AGENCY, "campaign_kpi_request", "kpi_request", kpis=kpis)]


def report_ready(view: CampaignView, *, path: str) -> list[NotificationRequest]:
    return [_one(view, f"person:{view.started_by}", "campaign_report", "report", path=path)]


def rescheduled(
    view: CampaignView, *, before: CampaignView, dealers: list[str]
) -> list[NotificationRequest]:
    recipients = [AGENCY, IT, f"person:{view.started_by}"] + [f"dealer:{d}" for d in dealers]
    old = before.launch_date.isoformat()
    return [
        _one(
            view,
            r,
            "campaign_rescheduled",
            f"rescheduled:{view.launch_date}:{r}",
            old_launch_date=old,
            old_end_date=before.end_date.isoformat(),
        )
        for r in recipients
    ]
