"""Who may check in, register and mark paid: others are refused in one line (exit 2), the
refusal is recorded, and a refused check-in starts no Failed run."""

from __future__ import annotations

from datetime import datetime

import pytest
from cli_support import one_line_error
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from sqlalchemy import func, select
from support_activities import CODE as ACTIVITY
from support_activities import SHANGHAI, proposal
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.activities import ActivityProposal
from domain.models import Registration
from domain.models_audit import Refusal
from tasks.activities.store import approve_activity, register_proposal

cli = CliRunner()


def _checkin_runs() -> int:
    with get_client(sync_client=True) as client:
        return len(
            client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["activity-checkin"]))
            )
        )


def test_a_checkin_refusal_is_one_line_recorded_and_starts_no_failed_run(
    approved_activity, db_url, tmp_path
):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("member_no\nM000001\nM000002\n", "utf-8")
    runs = _checkin_runs()
    at = ["--now", "2026-10-11T18:00+08:00"]

    result = cli.invoke(
        app, ["activity", "checkin", ACTIVITY, str(csv_file), "--as", "admin.be001", *at]
    )
    one_line_error(
        result, f"activity {ACTIVITY}: check-in refused:", "is not an admin of club C-CH001"
    )
    result = cli.invoke(app, ["activity", "checkin", ACTIVITY, str(csv_file), "--as", "admin.ch001",
                              "--now", "2026-10-10T18:00+08:00"])  # fmt: skip
    one_line_error(result, "starts on 2026-10-11; check-in opens then")
    csv_file.write_text("member_no\nM000001\nM999999\n", "utf-8")
    result = cli.invoke(
        app, ["activity", "checkin", ACTIVITY, str(csv_file), "--as", "admin.ch001", *at]
    )
    one_line_error(result, "row 3: member_no 'M999999' is not a member")
    assert _checkin_runs() == runs  # refused before any run started

    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.actor).order_by(Refusal.id)).all()
        assert rows == [("activity.checkin", "admin.be001"), ("activity.checkin", "admin.ch001"),
                        ("activity.checkin", "admin.ch001")]  # fmt: skip
        assert session.execute(select(func.count()).select_from(Registration)).scalar_one() == 0

    # The club's dealer may check in; so may the deployment's form, where a refusal ends the
    # run Completed with the refusal (nothing to retry).
    from domain.activities import CheckinRow
    from flows.activities.checkin import activity_checkin

    rows = [CheckinRow(member_no="M000001")]
    refused = activity_checkin(ACTIVITY, rows, "dealer:BE001", now="2026-10-11T18:00:00+08:00",
                               return_state=True)  # fmt: skip
    assert (
        refused.is_completed()
        and "dealer 'dealer:BE001' is not the dealer" in (refused.result()["refused"])
    )
    done = activity_checkin(ACTIVITY, rows, "dealer:CH001", now="2026-10-11T18:00:00+08:00")
    assert done["newly_checked_in"] == 1


def test_payment_and_registration_check_the_actor(approved_activity, db_url):
    result = cli.invoke(app, ["activity", "pay", ACTIVITY, "--as", "admin.ch001", "--ref", "P-1"])
    one_line_error(result, "pay refused", "is club_admin; marking a claim paid is for finance")
    result = cli.invoke(app, ["activity", "register", ACTIVITY, "M000001", "--as", "it.lead"])
    one_line_error(result, "register refused", "is not an admin of club C-CH001")
    with session_scope(db_url) as session:
        assert [a for (a,) in session.execute(select(Refusal.action)).all()] == [
            "activity.pay",
            "activity.register",
        ]


@pytest.fixture
def approved_activity(channels, db_url) -> str:
    """The Chengdu club's class D activity of 2026-10-11, registered (D needs no review)."""
    settings = get_settings()
    with session_scope(db_url) as session:
        activity = register_proposal(
            session=session,
            proposal=ActivityProposal.model_validate(proposal(activity_class="D")),
            now=datetime(2026, 9, 21, 10, tzinfo=SHANGHAI),
            settings=settings,
        )
        approve_activity(
            session=session,
            code=activity.code,
            now=datetime(2026, 9, 21, 11, tzinfo=SHANGHAI),
            settings=settings,
        )
    return activity.code


def test_registering_an_unknown_member_is_one_line_and_starts_no_run(approved_activity, db_url):
    result = cli.invoke(
        app, ["activity", "register", ACTIVITY, "M000001", "M999999", "--as", "admin.ch001"]
    )
    one_line_error(result, "member_no 'M999999' is not a member")
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Registration)).scalar_one() == 0
    result = cli.invoke(app, ["activity", "register", ACTIVITY, "M000001", "--as", "admin.ch001"])
    assert result.exit_code == 0 and "1 newly registered" in result.output, result.output
