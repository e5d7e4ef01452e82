"""Second-tier outlets (二网): a sub-dealer under a first-tier dealer, the cities it covers, and
its qualification documents (business licence, tax registration, organisation code)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import enum_field, json_field


class OutletStatus(StrEnum):
    pending = "pending"  # registered; one of the three reviews has not passed yet
    active = "active"  # all three passed, no document expired
    suspended = "suspended"  # a document expired after it became active
    rejected = "rejected"  # a review rejected it


class DocumentKind(StrEnum):
    business_licence = "business_licence"
    tax_registration = "tax_registration"
    organisation_code = "organisation_code"


class Outlet(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    name: str
    dealer_id: int = Field(foreign_key="dealer.id", index=True)
    # The cities the outlet covers (leads in them go to the parent dealer, outlet named).
    cities: list[str] = json_field(list)
    contact_name: str = ""
    contact_phone: str = ""
    status: OutletStatus = enum_field(OutletStatus, OutletStatus.pending, index=True)
    # The reviews passed so far: qualification, risk, contract.
    passed: list[str] = json_field(list)
    risk_score: float | None = None
    # Renewed documents so far: each renewal opens its own qualification re-review.
    renewals: int = 0
    registered_by: str
    registered_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    activated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class OutletDocument(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("outlet_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    outlet_id: int = Field(foreign_key="outlet.id", index=True)
    kind: DocumentKind = enum_field(DocumentKind)
    number: str
    link: str = ""
    expires_on: date
    # Expiry reminders sent (once per document and expiry date).
    reminded_for: date | None = None
