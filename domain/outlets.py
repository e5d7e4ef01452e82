"""Second-tier outlets: who may register one, the three reviews it passes, the risk score,
document expiry, its status, and which outlet a lead's city belongs to.

Pure rules: no Prefect, no database session. Dates and policy numbers are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.models_outlets import DocumentKind, OutletStatus
from domain.permissions import Actor
from domain.privacy import mask_phone

# The reviews, in order: gate key → (who decides, title).
REVIEWS: dict[str, tuple[str, str]] = {
    # The region's specialist knows the dealers of the region and checks the papers.
    "qualification": ("regional_specialist", "资质审核"),
    # HQ finance judges credit and financial risk.
    "risk": ("finance", "风险评估"),
    # HQ legal approves the contract's clauses.
    "contract": ("legal", "合同审核"),
}
DOCUMENT_TITLES = {
    DocumentKind.business_licence: "营业执照",
    DocumentKind.tax_registration: "税务登记证",
    DocumentKind.organisation_code: "组织机构代码证",
}


def register_refusal(actor: Actor | None, *, username: str, dealer_id: int) -> str | None:
    """Only the parent dealer's own staff register (and change) its outlets."""
    if actor is None:
        return f"unknown user {username!r}"
    if not actor.active:
        return f"user {actor.username!r} is not active"
    if actor.role != "dealer":
        return f"user {actor.username!r} is {actor.role}; registering an outlet is for dealer staff"
    if actor.dealer_id != dealer_id:
        return f"user {actor.username!r} is not staff of this outlet's dealer"
    return None


def mask_number(number: str) -> str:
    """A registration number shows its last 4 characters only (it identifies a company)."""
    value = number.strip()
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def masked_contact(phone: str) -> str:
    return mask_phone(phone)


@dataclass(frozen=True)
class RiskResult:
    score: float
    passed: bool
    problem: str | None = None


def risk_result(
    scores: dict[str, float], *, weights: dict[str, float], pass_mark: float
) -> RiskResult:
    """The weighted score of the checklist; every item must be scored 0-100."""
    missing = [item for item in weights if item not in scores]
    if missing:
        return RiskResult(0.0, False, f"risk items not scored: {', '.join(missing)}")
    bad = [k for k, v in scores.items() if k in weights and not 0 <= v <= 100]
    if bad:
        return RiskResult(0.0, False, f"scores must be 0-100: {', '.join(bad)}")
    total = sum(weights.values()) or 1.0
    score = round(sum(scores[k] * w for k, w in weights.items()) / total, 1)
    return RiskResult(score, score >= pass_mark)


def risk_problem(
    scores: dict[str, float], *, weights: dict[str, float], pass_mark: float
) -> str | None:
    """Why approving the risk assessment with `scores` is refused, or None (the flow's check,
    the CLI and the portal say the same)."""
    result = risk_result(scores, weights=weights, pass_mark=pass_mark)
    if result.problem:
        return result.problem
    if not result.passed:
        return f"risk score {result.score:g} is below the pass mark {pass_mark:g}: revise or reject"
    return None


def days_left(expires_on: date, *, today: date) -> int:
    """Days until a document expires (0 on its last valid day, negative once expired)."""
    return (expires_on - today).days


def documents_problem(kinds: set[str]) -> str | None:
    missing = [k.value for k in DocumentKind if k.value not in kinds]
    return f"documents missing: {', '.join(missing)}" if missing else None


def reminder_due(expires_on: date, *, today: date, reminder_days: int) -> bool:
    """A document expiring within `reminder_days` (and not yet expired) is reminded."""
    return today <= expires_on <= today + timedelta(days=reminder_days)


def expired(expires_on: date, *, today: date) -> bool:
    """A document is valid through its expiry date; the day after it is expired."""
    return today > expires_on


def status_after(passed: set[str], *, any_expired: bool, current: OutletStatus) -> OutletStatus:
    """Active only when all three reviews passed and no document expired."""
    if current == OutletStatus.rejected:
        return current
    if not set(REVIEWS) <= passed:
        return OutletStatus.pending
    return OutletStatus.suspended if any_expired else OutletStatus.active


@dataclass(frozen=True)
class OutletCover:
    code: str
    name: str
    dealer_code: str
    cities: tuple[str, ...]


def outlet_for_city(city: str, outlets: list[OutletCover]) -> OutletCover | None:
    """The active outlet covering `city` (the first by code when several do)."""
    for outlet in sorted(outlets, key=lambda o: o.code):
        if city in outlet.cities:
            return outlet
    return None
