from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from quarter_support import draft_quarter, plan_confirmed
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Activity, Club, Member, Recap, Registration
from domain.models_planning import CrossingChallenge, CrossingScore, QuarterPlanRecord
from flows.notifications import deliver_notifications
from flows.planning.best_crossing import best_crossing

SH = ZoneInfo("Asia/Shanghai")
DEC_1 = datetime(2026, 12, 1, 9, tzinfo=SH)  # plans 2027Q1
MARCH_1 = datetime(2027, 3, 1, 9, tzinfo=SH)  # plans 2027Q2
runner = CliRunner()


def _crossing_with_results(db_url, quarter: str, checked_in: int, feedback: float, reads: int):
    """The crossing as the activity lifecycle would leave it: check-ins and a recap."""
    with session_scope(db_url) as session:
        plan = session.execute(
            select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == quarter)
        ).scalar_one()
        club = (
            session.execute(
                select(Club).where(Club.region_code == plan.crossing_region).order_by(Club.code)
            )
            .scalars()
            .first()
        )
        activity = Activity(
            code=plan.crossing_activity_code,
            title=f"{plan.crossing_theme} {quarter}",
            klass="B",
            region_code=plan.crossing_region,
            club_id=club.id,
            starts_on=plan.crossing_starts_on,
            ends_on=plan.crossing_ends_on,
            status="archived",
            proposed_by="specialist",
        )
        session.add(activity)
        session.flush()
        for i in range(checked_in + 1):  # one registered member did not come
            member = Member(
                member_no=f"{quarter}-{i}",
                name="车主",
                phone=f"+86139{quarter[2:4]}{quarter[-1]}{i:05d}",
            )
            session.add(member)
            session.flush()
            at = datetime(2027, 1, 1, tzinfo=UTC) if i < checked_in else None
            session.add(
                Registration(activity_id=activity.id, member_id=member.id, checked_in_at=at)
            )
        session.add(
            Recap(
                activity_id=activity.id,
                participants=checked_in,
                feedback_score=feedback,
                media_reads=reads,
                filed_by="x",
            )
        )


def test_year_end_best_crossing_ranks_and_tells_every_region_once(
    quarter_runner, sink, db_url, tmp_path
):
    plan_confirmed(quarter_runner, now=DEC_1, ics_dir=tmp_path)  # 2027Q1: Lanzhou, March
    plan_confirmed(quarter_runner, now=MARCH_1, ics_dir=tmp_path)  # 2027Q2: Beijing, June
    _crossing_with_results(db_url, "2027Q1", checked_in=3, feedback=4.0, reads=1000)
    _crossing_with_results(db_url, "2027Q2", checked_in=2, feedback=5.0, reads=3000)
    deliver_notifications(now=MARCH_1)
    sink.clear()

    # Q1 = .5×3/3 + .3×4/5 + .2×1000/3000 = .8067; Q2 = .5×2/3 + .3 + .2 = .8333
    result = best_crossing(year=2027, now=datetime(2027, 12, 30, 10, tzinfo=SH))
    assert (result["crossings"], result["best"]) == (2, "2027Q2")
    with session_scope(db_url) as session:
        scores = session.execute(select(CrossingScore).order_by(CrossingScore.rank)).scalars().all()
    assert [(s.quarter, s.rank, round(s.score, 4), s.participants) for s in scores] == [
        ("2027Q2", 1, 0.8333, 2),
        ("2027Q1", 2, 0.8067, 3),
    ]
    deliver_notifications(now=datetime(2027, 12, 30, 10, tzinfo=SH))
    assert len(sink.messages) == 8  # seven regional specialists and the campaign managers
    [chengdu] = sink.to("role/regional_specialist/chengdu")
    assert chengdu.title == "2027 年度最佳穿越：北京卫「草原奔袭」"
    assert "2. 2027Q1 兰州卫「沙漠穿越」 得分 80.7（签到 3 人" in chengdu.body

    best_crossing(year=2027, now=datetime(2027, 12, 31, 10, tzinfo=SH))  # scored again
    deliver_notifications(now=datetime(2027, 12, 31, 10, tzinfo=SH))
    assert len(sink.messages) == 8
    with session_scope(db_url) as session:
        assert len(session.execute(select(CrossingScore)).scalars().all()) == 2


def test_a_challenge_from_the_cli_is_recorded_and_notified_once(
    quarter_runner, sink, db_url, tmp_path
):
    draft_quarter(quarter_runner, now=DEC_1, ics_dir=tmp_path)
    deliver_notifications(now=DEC_1)
    sink.clear()
    at = ["--now", DEC_1.isoformat()]
    args = ["crossing", "challenge", "jinan", "chengdu", "--as", "specialist.jinan", *at]

    first = runner.invoke(app, [*args, "--message", "山路见真章"])
    again = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "challenge jinan → chengdu at 2027Q1 recorded; 4 notifications queued" in first.output
    assert "already recorded; 0 notifications queued" in again.output
    deliver_notifications(now=DEC_1)
    paths = sorted(m.path.strip("/") for m in sink.messages)
    assert paths == [
        "person/admin.ch001",
        "person/admin.ch002",
        "role/regional_specialist/chengdu",
        "role/regional_specialist/jinan",
    ]
    message = sink.messages[0]
    assert message.title == "济南卫向成都卫发起 2027Q1 穿越挑战"
    assert "赛场：2027Q1 跨区穿越（兰州卫 沙漠穿越）" in message.body
    assert "挑战宣言：山路见真章" in message.body

    refused = runner.invoke(
        app, ["crossing", "challenge", "jinan", "chengdu", "--as", "admin.ch001", *at]
    )
    assert refused.exit_code == 2
    assert "may not challenge on behalf of jinan" in " ".join(refused.output.split())
    with session_scope(db_url) as session:
        assert len(session.execute(select(CrossingChallenge)).scalars().all()) == 1


def test_rotation_show_lists_the_history_and_the_next_seven_hosts(quarter_runner, db_url, tmp_path):
    draft_quarter(quarter_runner, now=DEC_1, ics_dir=tmp_path)
    shown = runner.invoke(app, ["rotation", "show", "--from", "2027Q2", "--now", DEC_1.isoformat()])
    assert shown.exit_code == 0, shown.output
    assert "Rotation history (1)" in shown.output and "兰州卫" in shown.output
    assert "Next seven hosts" in shown.output
    # The six never-hosted regions in region order, except that Shenyang must
    # take 2028Q1 (its only winter quarter before the cycle ends); then Lanzhou opens cycle 2.
    ahead = shown.output.split("Next seven hosts")[1]
    names = ["北京卫", "成都卫", "广州卫", "沈阳卫", "南京卫", "济南卫", "兰州卫"]
    assert sorted(names, key=ahead.index) == names


def test_plan_quarter_from_the_cli_drafts_and_hq_confirms_it(
    quarter_runner, sink, db_url, tmp_path
):
    shown = runner.invoke(
        app,
        ["plan", "quarter", "2027Q2", "--as", "hq.manager", "--ics-dir", str(tmp_path)]
        + ["--now", DEC_1.isoformat()],
    )
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "started for 2027Q2: the draft waits for HQ to confirm" in text
    [run] = quarter_runner.run_pending()
    assert run.state.name == "Suspended"
    with session_scope(db_url) as session:
        plan = session.execute(select(QuarterPlanRecord)).scalar_one()
    assert (plan.planned_by, plan.ics_path) == ("hq.manager", None)  # a draft: not published

    confirm = ["planning", "confirm", "2027Q2", "--now", DEC_1.isoformat()]
    no_reason = runner.invoke(app, [*confirm, "--as", "hq.manager", "--host", "chengdu"])
    assert no_reason.exit_code == 2
    assert "a changed host or changed dates need --reason" in no_reason.output
    refused = runner.invoke(app, [*confirm, "--as", "admin.ch001"])
    assert refused.exit_code == 1 and "this gate needs campaign_manager" in refused.output
    confirmed = runner.invoke(app, [*confirm, "--as", "hq.manager"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "2027Q2: confirmed by hq.manager" in confirmed.output
    [run] = quarter_runner.run_pending()
    assert run.state.name == "Completed"
    with session_scope(db_url) as session:
        plan = session.execute(select(QuarterPlanRecord)).scalar_one()
    assert plan.ics_path == str(tmp_path / "clubflow-2027Q2.ics")

    bad = runner.invoke(app, ["plan", "quarter", "2027Q5", "--now", DEC_1.isoformat()])
    assert bad.exit_code == 2 and "expected YYYYQn" in bad.output

    monthly = tmp_path / "may.json"
    monthly.write_text(
        '{"title": "沙湖 涉水体验", "activity_class": "C", "starts_on": "2027-05-15",'
        ' "ends_on": "2027-05-16", "expected_participants": 30}',
        encoding="utf-8",
    )
    submit = ["plan", "submit", "C-NA002", str(monthly)]
    submitted = runner.invoke(app, [*submit, "--as", "admin.na002", "--now", DEC_1.isoformat()])
    assert submitted.exit_code == 0, submitted.output
    assert "沙湖 涉水体验 (2027-05-15) for C-NA002" in submitted.output
    twice = runner.invoke(app, [*submit, "--as", "admin.na002", "--now", DEC_1.isoformat()])
    assert twice.exit_code == 2
    assert "the 2027-05 plan was already submitted by admin.na002" in " ".join(twice.output.split())
