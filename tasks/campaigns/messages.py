"""The campaign pipeline's notifications: who hears what, under which idempotency key.

Each key names the business event (`campaign:<id>:training:dealer:<code>`), so a re-run or a
second sweep queues nothing new. Texts are templates/notifications/campaign_*.j2.
"""

from __future__ import annotations

from typing import Any

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
        "golive_on": milestones["golive"].due_on.isoformat(),
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


def training(view: CampaignView, dealers: list[str]) -> list[NotificationRequest]:
    return [
        _one(view, f"dealer:{code}", "campaign_training", f"training:dealer:{code}")
        for code in dealers
    ]


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
