"""`clubflow planning return` and `clubflow planning import-content` as a dealer, a club admin
or the operator use them: rows stored, refusals recorded, bad input named by field and line."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from cli_support import one_line_error
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Club, Dealer
from domain.models_audit import Refusal
from domain.models_planning import ClubContent, DealerFeedback
from tasks.planning.returns import send_monthly_returns

runner = CliRunner()
FIGURES = [
    "--sales", "12", "--referral-sales", "3",
    "--service-revenue", "80000", "--member-service-revenue", "12000",
]  # fmt: skip


def _send_november(db_url) -> None:
    with session_scope(db_url) as session:
        send_monthly_returns(
            session=session,
            month=date(2026, 11, 1),
            now=datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
            settings=get_settings(),
        )


def _return(*args: str):
    return runner.invoke(app, ["planning", "return", *args, "--now", "2026-12-05T10:00"])


def test_the_dealer_answers_its_return_and_another_dealer_is_refused(world, db_url):
    _send_november(db_url)
    refused = _return("CH001", "--month", "2026-11", *FIGURES, "--as", "dealer.be001")
    one_line_error(refused, "dealer:CH001: return refused", "neither staff of dealer CH001")
    with session_scope(db_url) as session:
        [refusal] = session.execute(select(Refusal)).scalars().all()
        assert (refusal.action, refusal.actor) == ("planning.return", "dealer.be001")
        assert session.execute(select(DealerFeedback)).first() is None

    too_many = [*FIGURES[:2], "--referral-sales", "13", *FIGURES[4:]]
    wrong = _return("CH001", "--month", "2026-11", *too_many, "--as", "dealer.ch001")
    one_line_error(wrong, "--referral-sales (referral_sales_units): 13 is more than")
    one_line_error(
        _return("CH001", "--month", "2026-13", *FIGURES, "--as", "dealer.ch001"),
        "--month: month '2026-13': expected YYYY-MM",
    )
    one_line_error(
        _return("CH001", "--month", "2026-10", *FIGURES, "--as", "dealer.ch001"),
        "no monthly return about 2026-10 was sent to dealer CH001",
    )

    ok = _return(
        "CH001", "--month", "2026-11", *FIGURES, "--feedback", "活动很好", "--as", "dealer.ch001"
    )
    assert ok.exit_code == 0, ok.output
    assert "dealer CH001 2026-11: return answered" in ok.output
    again = _return("CH001", "--month", "2026-11", *FIGURES, "--actor", "admin.ch001")
    assert "dealer CH001 2026-11: return corrected" in again.output
    with session_scope(db_url) as session:
        dealer_id = session.execute(select(Dealer.id).where(Dealer.code == "CH001")).scalar_one()
        [row] = session.execute(select(DealerFeedback)).scalars().all()
        assert (row.dealer_id, row.sales_units, row.referral_sales_units) == (dealer_id, 12, 3)
        assert (row.member_service_revenue, row.submitted_by) == (12000, "admin.ch001")


def test_the_content_file_keeps_its_good_rows_and_names_the_bad_one(world, db_url, tmp_path):
    sheet = tmp_path / "content.csv"
    sheet.write_text(
        "俱乐部,编号,类型,发布日期,阅读量,数量,标题\n"
        "C-CH001,bbs-1,精华,2026-11-03,200,,雨林穿越攻略\n"
        "C-CH001,wx-1,self_media,2026-11-10,1500,,回顾\n"
        "C-CH001,wx-2,self_media,2026-11-31,900,,日期不对\n"
        "C-CH001,rp-1,转发,2026-11-12,,40,\n"
        "C-XX999,p-1,post,2026-11-12,5,,\n",
        encoding="utf-8",
    )
    args = ["planning", "import-content", str(sheet), "--as", "admin.ch001", "--now", "2026-12-05"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "content.csv: 3 added, 0 already stored, 2 refused" in result.output
    assert "refused line 4: published_on: '2026-11-31'" in result.output
    assert "refused line 6: club: unknown club 'C-XX999'" in result.output
    assert "Traceback" not in result.output
    with session_scope(db_url) as session:
        rows = session.execute(
            select(
                ClubContent.external_id, ClubContent.kind, ClubContent.reads, ClubContent.count
            ).order_by(ClubContent.external_id)
        ).all()
    assert rows == [
        ("bbs-1", "essence", 200, 1),
        ("rp-1", "repost", 0, 40),
        ("wx-1", "self_media", 1500, 1),
    ]

    again = runner.invoke(app, args)
    assert "content.csv: 0 added, 3 already stored, 2 refused" in again.output

    other = runner.invoke(
        app,
        ["planning", "import-content", str(sheet), "--as", "admin.be001", "--now", "2026-12-05"],
    )
    assert other.exit_code == 2
    assert (
        "refused line 2: club: user 'admin.be001' (club_admin) is not an admin of club C-CH001"
        in (other.output)
    )
    with session_scope(db_url) as session:
        club = session.execute(select(Club.id).where(Club.code == "C-CH001")).scalar_one()
        assert session.execute(select(Refusal.subject)).scalars().all() == ["club:C-CH001"]
        assert club
