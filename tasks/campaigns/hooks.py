"""The campaigns' dated steps, run by the shared hourly sweep (flows/sweep.py):

- dealer handbook and training notice at L-2 working days (to every dealer of the regions),
- launch notice at L (the campaign goes live),
- request for actual KPI figures at end+1 (the report is due at end+7: the waiting
  `kpi_actuals` gate reminds and escalates through the sweep's ladder).

Each step fires on or after its date for campaigns that reached that stage and have not had
it yet (the milestone's status is the mark), so a sweep that missed a day catches up and a
second sweep adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ
from domain.campaigns import CampaignStatus, MilestonePlan, step_date
from domain.gates import InboxItem
from domain.models import Campaign, Dealer, Milestone, Person
from tasks.campaigns import messages
from tasks.campaigns.store import (
    CampaignView,
    dealers_of,
    load_campaign,
    mark_milestone,
    set_status,
)
from tasks.gates.dated_steps import StepRun, dated_step
from tasks.gates.inbox import inbox_source
from tasks.outbox import NotificationRequest

Step = Callable[[Session, CampaignView, datetime, Settings], list[NotificationRequest]]


def _training(
    session: Session, view: CampaignView, now: datetime, settings: Settings
) -> list[NotificationRequest]:
    # Dealers see the campaign's training among their tasks on the portal's home page.
    link = portal_link("/", settings=settings, now=now)
    return messages.training(view, dealers_of(session=session, regions=view.regions), link=link)


def _launch(session: Session, view: CampaignView, *_) -> list[NotificationRequest]:
    set_status(session=session, campaign_id=view.id, status=CampaignStatus.live)
    return messages.launch(view, dealers_of(session=session, regions=view.regions))


def _kpi_request(session: Session, view: CampaignView, *_) -> list[NotificationRequest]:
    set_status(session=session, campaign_id=view.id, status=CampaignStatus.reporting)
    return messages.kpi_request(view)


# (milestone key, the campaign statuses it fires in, what it does), in business order.
STEPS: tuple[tuple[str, tuple[CampaignStatus, ...], Step], ...] = (
    ("training", (CampaignStatus.ready,), _training),
    ("launch", (CampaignStatus.ready,), _launch),
    ("kpi_request", (CampaignStatus.live,), _kpi_request),
)


def _fire_date(row: Milestone) -> date:
    return step_date(MilestonePlan(row.key, row.title, row.owner_role, row.due_on, row.starts_on))


@dated_step("campaign-steps")
def run_campaign_steps(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    runs = []
    for key, statuses, step in STEPS:
        due = session.execute(
            select(Milestone)
            .join(Campaign, Campaign.id == Milestone.campaign_id)
            .where(
                Milestone.key == key,
                Milestone.status == "planned",
                Campaign.status.in_(statuses),
            )
            .order_by(Milestone.campaign_id)
        ).scalars()
        for row in [m for m in due if _fire_date(m) <= today]:
            view = load_campaign(session=session, campaign_id=row.campaign_id)
            requests = step(session, view, now, settings)
            mark_milestone(session=session, campaign_id=view.id, key=key, now=now)
            runs.append(
                StepRun(
                    f"campaign-{key}", f"campaign:{view.code}", f"{len(requests)} notices", requests
                )
            )
    return runs


@inbox_source("campaign-training")
def training_for_dealer(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """Dealer staff see the training of each campaign of their region once its notice went
    out, until launch."""
    if person.role != "dealer" or person.dealer_id is None:
        return []
    dealer = session.get(Dealer, person.dealer_id)
    rows = session.execute(
        select(Campaign)
        .join(Milestone, Milestone.campaign_id == Campaign.id)
        .where(
            Milestone.key == "training",
            Milestone.status == "done",
            Campaign.launch_date >= today,
            Campaign.status.in_([CampaignStatus.ready, CampaignStatus.live]),
        )
        .order_by(Campaign.launch_date)
    ).scalars()
    items = []
    for campaign in rows:
        if dealer is None or dealer.region_code not in campaign.regions:
            continue
        when = (
            campaign.training_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
            if campaign.training_at
            else ""
        )
        items.append(
            InboxItem(
                kind="training",
                subject=f"campaign:{campaign.code}",
                title=f"经销商培训 · {campaign.name} {when} {campaign.training_join}".strip(),
                due_on=campaign.launch_date,
                overdue=False,
            )
        )
    return items
