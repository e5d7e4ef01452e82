"""`clubflow outlets`: register (refused for non-dealer staff, bad document named), list."""

from __future__ import annotations

from typer.testing import CliRunner

from clubflow.cli import app

DOCS = [
    "--doc", "business_licence:91110105MA01ABCD2X:2030-12-31:https://files.example/bl.pdf",
    "--doc", "tax_registration:110105123456789:2030-12-31",
    "--doc", "organisation_code:MA01ABCD-2:2030-12-31",
]  # fmt: skip
BASE = ["outlets", "register", "--code", "O-BE001-01", "--name", "廊坊越野二网", "--city", "廊坊",
        "--phone", "13912345678", "--no-start", "--now", "2027-03-01T10:00"]  # fmt: skip


def test_dealer_staff_register_and_list_shows_it_masked(db_url, world):
    runner = CliRunner()
    done = runner.invoke(app, [*BASE, *DOCS, "--as", "dealer.be001"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["outlets", "list"])
    assert "O-BE001-01 廊坊越野二网 · dealer BE001 · 廊坊" in listed.output
    assert "139****5678" in listed.output and "13912345678" not in listed.output
    shown = runner.invoke(app, ["outlets", "show", "O-BE001-01"])
    assert "business_licence **************CD2X until 2030-12-31" in shown.output


def test_refusals_and_bad_documents_are_one_line_exit_2(db_url, world):
    runner = CliRunner()
    refused = runner.invoke(app, [*BASE, *DOCS, "--as", "finance"])
    assert refused.exit_code == 2
    assert "refused: user 'finance' is finance; registering an outlet is for dealer staff" in (
        refused.output
    )
    bad = runner.invoke(
        app, [*BASE, "--doc", "business_licence:X:31-12-2030", "--as", "dealer.be001"]
    )
    assert bad.exit_code == 2
    assert "--doc business_licence: expires '31-12-2030' is not a date (YYYY-MM-DD)" in bad.output
    missing = runner.invoke(app, [*BASE, DOCS[0], DOCS[1], "--as", "dealer.be001"])
    assert missing.exit_code == 2
    assert "documents missing: tax_registration, organisation_code" in missing.output
