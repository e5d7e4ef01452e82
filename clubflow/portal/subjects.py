"""What the person deciding a gate needs to see about its subject: an activity's budget and
the subsidy requested, a campaign's plan version and budget, a claim's lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from domain.gates import GateView
from domain.models import Activity, Campaign, CampaignPlanVersion, Club


@dataclass
class Facts:
    rows: list[tuple[str, str]] = field(default_factory=list)  # label, value
    table_title: str = ""
    columns: list[str] = field(default_factory=list)
    table: list[list[Any]] = field(default_factory=list)
    region_code: str | None = None
    club_id: int | None = None


def _money(value: float | None) -> str:
    return f"¥{float(value or 0):,.2f}"


def activity_facts(session: Session, activity: Activity) -> Facts:
    club = session.get(Club, activity.club_id) if activity.club_id else None
    budget = activity.budget or []
    total = sum(float(line.get("amount", 0)) for line in budget)
    facts = Facts(
        rows=[
            ("活动", f"{activity.title} ({activity.code})"),
            ("级别", f"{activity.klass} 类"),
            ("俱乐部", f"{club.name} ({club.code})" if club else "总部"),
            ("日期", f"{activity.starts_on} – {activity.ends_on}"),
            ("地点", activity.place or "—"),
            ("预计人数", str(activity.expected_participants)),
            ("预算合计", _money(total)),
            ("申请补贴", _money(activity.subsidy_requested)),
        ],
        table_title="预算明细",
        columns=["项目", "金额"],
        table=[[line.get("item", ""), _money(line.get("amount"))] for line in budget],
        region_code=activity.region_code,
        club_id=activity.club_id,
    )
    return facts


def campaign_facts(session: Session, campaign: Campaign, version: int | None) -> Facts:
    number = version or campaign.plan_version
    plan = session.execute(
        select(CampaignPlanVersion).where(
            CampaignPlanVersion.campaign_id == campaign.id, CampaignPlanVersion.version == number
        )
    ).scalar_one_or_none()
    budget = plan.budget if plan else []
    total = sum(float(line.get("amount", 0)) for line in budget)
    rows = [
        ("活动", f"{campaign.name} ({campaign.code})"),
        ("上线日期", str(campaign.launch_date)),
        ("方案版本", f"v{number}"),
        ("预算合计", _money(total)),
    ]
    if plan is not None:
        rows += [("方案概要", plan.summary or "—"), ("政策", plan.policy or "—")]
        if plan.note:
            rows.append(("本版变更", plan.note))
    if campaign.rush_reason:
        rows.append(("加急原因", campaign.rush_reason))
    return Facts(
        rows=rows,
        table_title="预算明细",
        columns=["项目", "金额"],
        table=[[line.get("item", ""), _money(line.get("amount"))] for line in budget],
    )


def gate_facts(*, session: Session, gate: GateView) -> Facts:
    if gate.subject_type in ("activity", "claim"):
        activity = session.execute(
            select(Activity).where(Activity.code == gate.subject_code)
        ).scalar_one_or_none()
        if activity is not None:
            facts = activity_facts(session, activity)
            if gate.subject_type == "claim":
                facts.table_title, facts.columns, facts.table = _claim_table(session, gate)
            return facts
    if gate.subject_type == "campaign":
        campaign = session.get(Campaign, gate.subject_id)
        if campaign is not None:
            return campaign_facts(session, campaign, gate.plan_version)
    if gate.subject_type == "quarter_plan":
        facts = quarter_plan_facts(session, gate.subject_id)
        if facts is not None:
            return facts
    if gate.subject_type == "outlet":
        facts = outlet_facts(session, gate.subject_code)
        if facts is not None:
            return facts
    return Facts(rows=[("对象", f"{gate.subject_type}:{gate.subject_code}")])


def outlet_facts(session: Session, code: str) -> Facts | None:
    """An outlet's parent, cities and contact (masked), and its documents (numbers masked):
    what the reviewer checks; the region is the parent dealer's."""
    from domain.models_outlets import DocumentKind
    from domain.outlets import DOCUMENT_TITLES
    from tasks.outlets.store import OutletError, load_outlet

    try:
        view = load_outlet(session=session, code=code)
    except OutletError:
        return None
    rows = [
        ("二网", f"{view.name} ({view.code})"),
        ("上级经销商", f"{view.dealer_name} ({view.dealer_code})"),
        ("覆盖城市", "、".join(view.cities)),
        ("联系人", f"{view.contact_name or '—'} {view.contact_phone}"),
        ("状态", view.status),
        ("已通过", "、".join(view.passed) or "—"),
    ]
    if view.risk_score is not None:
        rows.append(("风险评分", f"{view.risk_score:g}"))
    return Facts(
        rows=rows,
        table_title="资质证照",
        columns=["证照", "号码", "扫描件", "有效期至"],
        table=[
            [
                DOCUMENT_TITLES.get(DocumentKind(d.kind), d.kind),
                d.number,
                d.link or "—",
                str(d.expires_on),
            ]
            for d in view.documents
        ],  # fmt: skip
        region_code=view.region_code,
    )


def quarter_plan_facts(session: Session, plan_id: int) -> Facts | None:
    """The draft HQ confirms: the crossing's host, theme and dates, the gathering, the slots."""
    from domain.models_planning import QuarterPlanRecord
    from domain.regions import region_info

    plan = session.get(QuarterPlanRecord, plan_id)
    if plan is None:
        return None
    rows = [
        ("季度", plan.quarter),
        ("跨区穿越", f"{region_info(plan.crossing_region).name_zh}「{plan.crossing_theme}」"),
        ("日期", f"{plan.crossing_starts_on} 至 {plan.crossing_ends_on}"),
        ("俱乐部档期", str(plan.slots)),
    ]
    if plan.gathering_title:
        rows.append(("年度集结令", f"{plan.gathering_title} {plan.gathering_starts_on}"))
    return Facts(rows=rows)


def _claim_table(session: Session, gate: GateView) -> tuple[str, list[str], list[list[Any]]]:
    from domain.models_portal import EvidenceFile
    from tasks.activities.claims import read_claim

    try:
        claim = read_claim(session=session, code=gate.subject_code)
    except LookupError:
        return "", [], []
    # Evidence uploaded in the portal is named by its file; other references as written.
    names = dict(
        session.execute(
            select(EvidenceFile.location, EvidenceFile.filename)
            .join(Activity, Activity.id == EvidenceFile.activity_id)
            .where(Activity.code == gate.subject_code)
        ).all()
    )
    return (
        "补贴申请明细",
        ["行", "类别", "申请", "建议", "说明", "凭证"],
        [
            [
                line.line_no,
                line.category,
                _money(line.amount),
                _money(line.proposed_amount),
                line.proposal_reason or "",
                "、".join(names.get(e, e) for e in line.evidence) or "无",
            ]
            for line in claim.lines
        ],
    )
