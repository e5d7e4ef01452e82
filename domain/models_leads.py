"""Tables of the lead area beyond Lead, LeadImport and CallAttempt (domain/models.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class LeadReject(SQLModel, table=True):
    """A row of an imported file that was not taken, with its line number and why.

    A row refused for a reason that can change (its city has no dealer yet) is *pending*: it
    keeps its checked record and the lead key it will be stored under, and every intake run
    tries it again until the master data exists (then `resolved_at` and `lead_id` are set).
    Rows refused for good (a bad phone, an unreadable line) are final."""

    __table_args__ = (
        sa.UniqueConstraint("import_id", "line_no"),
        # Intake retries the unresolved pending rows.
        sa.Index("ix_leadreject_pending", "pending", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="leadimport.id", index=True)
    line_no: int
    reason: str
    raw: str = ""
    pending: bool = False
    field: str | None = Field(default=None, max_length=32)  # the field refused
    record: dict[str, Any] = json_field(dict)  # the row's values by canonical column
    source_ref: str | None = None  # the lead's key once it can be stored
    resolved_at: datetime | None = ts_field()
    lead_id: int | None = Field(default=None, foreign_key="lead.id")


class LeadHandoff(SQLModel, table=True):
    """One round of giving a valid lead to a dealer (or, when none is left, the specialist)."""

    __table_args__ = (
        sa.UniqueConstraint("lead_id", "round"),
        # The sweep looks for open rounds past their deadline.
        sa.Index("ix_leadhandoff_open_due", "accepted_at", "bounced_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    round: int
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    recipient: str  # dealer:<code> or role:regional_specialist:<region>
    handed_at: datetime = ts_field(nullable=False)
    due_at: datetime | None = ts_field()
    accepted_at: datetime | None = ts_field()
    accepted_by: str | None = None
    bounced_at: datetime | None = ts_field()
    # Set when the dealer handed the lead back (in the portal) rather than let it run out.
    returned_reason: str | None = None


class DealerRotation(SQLModel, table=True):
    """The last dealer of a city that received a lead: the round robin's cursor."""

    city: str = Field(primary_key=True, max_length=64)
    last_dealer_code: str | None = None


class LeadSourceCursor(SQLModel, table=True):
    """How far a paged HTTP source (lead source, call centre) has been read."""

    name: str = Field(primary_key=True, max_length=64)
    cursor: str | None = None
    read_at: datetime | None = ts_field()


class LeadRevisit(SQLModel, table=True):
    """A lead put on the weekly revisit list: once per lead and week, and the result its
    revisit call reported (once; domain.leads_revisit says what each result does)."""

    __table_args__ = (sa.UniqueConstraint("lead_id", "week_of"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    week_of: date = Field(index=True)
    agent_id: int | None = Field(default=None, foreign_key="person.id")
    listed_at: datetime = ts_field(nullable=False)
    result: str | None = Field(default=None, max_length=32)  # a RevisitOutcome
    result_at: datetime | None = ts_field()
    result_by: str | None = Field(default=None, max_length=64)
    note: str | None = None
    # This result took the lead off the list for good (converted, closed, or unreachable
    # too many weeks in a row).
    closed_lead: bool = False
