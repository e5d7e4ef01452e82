"""Member lifecycle steps in the store, on a small world with fixed dates (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.world import seed_regions
from domain.members import InteractionInput
from domain.models import Activity, Club, Member, MemberTier, Notification, PointsEntry
from domain.models_members import MemberActivation, ReactivationInvitation, ReferralReward
from domain.points import rank_for
from tasks.members import grant_points, recompute_members
from tasks.members.birthdays import queue_birthday_greetings
from tasks.members.expiry import expire_points, warn_expiring_points
from tasks.members.interactions import record_interactions
from tasks.members.referrals import reward_referrals
from tasks.members.registration import (
    ActivationError,
    RegistrationInput,
    activate_member,
    register_members,
    sweep_activations,
)
from tasks.members.segments import (
    invite_sleeping_members,
    reactivated_in_month,
    segment_members,
)
from tasks.retention.consent import record_registration_consent

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def notes(session, template: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if template:
        query = query.where(Notification.template == template)
    return list(session.execute(query).scalars())


def member(session, no: str) -> Member:
    return session.execute(select(Member).where(Member.member_no == no)).scalar_one()


def add_member(session, no: str, phone: str, **values) -> Member:
    """A member who said yes to marketing at registration (reactivation invitations)."""
    row = Member(member_no=no, name=values.pop("name", f"车主{no}"), phone=phone, **values)
    session.add(row)
    session.flush()
    record_registration_consent(
        session=session, member_id=row.id, marketing=True, now=at(2024, 1, 1)
    )
    return row


def ledger_sum(session, member_id: int) -> int:
    return session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.member_id == member_id
        )
    ).scalar_one()


def grant(session, member_id: int, amount: int, when: datetime, key: str) -> None:
    grant_points(
        session=session,
        settings=get_settings(),
        rows=[
            {
                "member_id": member_id,
                "amount": amount,
                "reason": "activity",
                "idem_key": key,
                "occurred_at": when,
            }
        ],
    )


# ---------------------------------------------------------------- registration and activation


def test_reminder_on_day_3_and_expiry_on_day_7(world, db_url):
    registered = at(2026, 3, 2)
    with session_scope(db_url) as session:
        result = register_members(
            session=session,
            settings=get_settings(),
            registrations=[
                RegistrationInput(name="王伟", phone="138 0000 1111", club_code="C-BE001"),
                RegistrationInput(name="李娜", phone="13800002222", club_code="C-BE001"),
            ],
            now=registered,
        )
    wang, li = result.created
    with session_scope(db_url) as session:
        [code_msg] = [n for n in notes(session) if n.recipient == f"member:{wang}"]
        assert code_msg.template == "member_activation_code"
        assert "请于2026年3月8日前完成激活" in code_msg.body
        code = code_msg.context["code"]
        assert f"激活码 {code}" in code_msg.body

    swept = {}
    for day in range(1, 9):
        with session_scope(db_url) as session:
            sweep = sweep_activations(
                session=session, settings=get_settings(), now=registered + timedelta(days=day)
            )
        swept[day] = (sorted(sweep.reminded), sorted(sweep.expired))
        if day == 6:  # 李娜 activates with her code on day 6, the last day of the window
            with session_scope(db_url) as session:
                li_code = next(n for n in notes(session) if n.recipient == f"member:{li}")
                outcome = activate_member(
                    session=session,
                    settings=get_settings(),
                    member_no=li,
                    code=li_code.context["code"],
                    now=registered + timedelta(days=6),
                )
            assert outcome == "activated"

    assert swept[3] == (sorted([li, wang]), [])
    assert swept[7] == ([], [wang])
    assert all(swept[d] == ([], []) for d in (1, 2, 4, 5, 6, 8))
    with session_scope(db_url) as session:
        assert member(session, wang).status == "expired"
        assert member(session, li).status == "active"
        [reminder] = notes(session, "member_activation_reminder")[:1]
        assert "还剩 4 天" in reminder.body and "2026年3月8日前" in reminder.body
        [expired] = notes(session, "member_activation_expired")
        assert expired.recipient == f"member:{wang}"
        assert "本次注册已失效" in expired.body
        with pytest.raises(ActivationError, match="window ended on 2026-03-09"):
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=wang,
                code=code,
                now=at(2026, 3, 9),
            )


def test_a_duplicate_phone_merges_and_an_expired_one_gets_a_new_round(world, db_url):
    with session_scope(db_url) as session:
        first = register_members(
            session=session,
            settings=get_settings(),
            registrations=[
                RegistrationInput(name="张强", phone="+86 139 1111 2222"),
                RegistrationInput(
                    name="张强", phone="13911112222", club_code="C-CH001", birthday=date(1988, 5, 4)
                ),
                RegistrationInput(name="坏号", phone="12345"),
                RegistrationInput(name="错店", phone="13911113333", dealer_code="ZZ999"),
            ],
            now=at(2026, 3, 2),
        )
    assert len(first.created) == 1
    assert len(first.rejected) == 2
    assert first.rejected[0].startswith("row 3 (坏号): phone '12345'")
    assert "row 4 (错店): dealer_code 'ZZ999' has no club" in first.rejected[1]
    [no] = first.created
    with session_scope(db_url) as session:
        zhang = member(session, no)
        assert (zhang.phone, zhang.birthday, zhang.status) == (
            "+8613911112222",
            date(1988, 5, 4),
            "registered",
        )
        assert zhang.club_id is not None

        again = register_members(
            session=session,
            settings=get_settings(),
            registrations=[RegistrationInput(name="张强", phone="139-1111-2222")],
            now=at(2026, 3, 3),
        )
    assert (again.created, again.merged) == ([], [no])

    with session_scope(db_url) as session:
        # Day 7 has come but the sweep has not run yet: registering again still reopens.
        third = register_members(
            session=session,
            settings=get_settings(),
            registrations=[RegistrationInput(name="张强", phone="13911112222")],
            now=at(2026, 3, 20),
        )
        assert third.reopened == [no]
        rounds = session.execute(
            select(MemberActivation.round, MemberActivation.expires_on)
            .where(MemberActivation.member_id == member(session, no).id)
            .order_by(MemberActivation.round)
        ).all()
        assert rounds == [(1, date(2026, 3, 9)), (2, date(2026, 3, 27))]
        codes = [n.context["code"] for n in notes(session, "member_activation_code")]
        assert len(codes) == 2 and codes[0] != codes[1]
        for left in (4, 3, 2, 1, 0):
            with pytest.raises(ActivationError, match=rf"code is wrong \({left} attempts left"):
                activate_member(
                    session=session,
                    settings=get_settings(),
                    member_no=no,
                    code="x",
                    now=at(2026, 3, 20),
                )
        with pytest.raises(ActivationError, match="too many wrong codes"):
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=no,
                code=codes[1],
                now=at(2026, 3, 21),
            )
        assert activate_member(
            session=session,
            settings=get_settings(),
            member_no=no,
            dealer_code="BE001",
            now=at(2026, 3, 21),
        )
        with pytest.raises(ActivationError, match="either the code or the dealer code"):
            activate_member(
                session=session, settings=get_settings(), member_no=no, now=at(2026, 3, 21)
            )


def test_a_dealer_confirms_an_activation_at_the_store(world, db_url):
    with session_scope(db_url) as session:
        result = register_members(
            session=session,
            settings=get_settings(),
            registrations=[
                RegistrationInput(name="赵敏", phone="13722223333", dealer_code="CH001")
            ],
            now=at(2026, 3, 2),
        )
        [no] = result.created
        with pytest.raises(ActivationError, match="dealer 'XX1' is unknown"):
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=no,
                dealer_code="XX1",
                now=at(2026, 3, 3),
            )
        assert (
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=no,
                dealer_code="CH001",
                now=at(2026, 3, 3),
            )
            == "activated"
        )
        assert (
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=no,
                dealer_code="CH001",
                now=at(2026, 3, 3),
            )
            == "already active"
        )
        row = session.execute(select(MemberActivation)).scalar_one()
        assert row.activated_by == "dealer:CH001" and row.source == "dealer:CH001"
        [welcome] = notes(session, "member_activated")
        assert "经销商门店确认激活成功" in welcome.body
        club = session.get(Club, member(session, no).club_id)
        assert club.code == "C-CH001"


# ---------------------------------------------------------------- points, ranks and tiers


def test_points_expire_oldest_first_across_a_year_boundary(world, db_url):
    with session_scope(db_url) as session:
        m = add_member(session, "T1", "+8613600000001", status="active")
        grant(session, m.id, 300, at(2024, 12, 20), "t1:a")
        grant(session, m.id, 500, at(2025, 1, 10), "t1:b")
        grant(session, m.id, -100, at(2025, 6, 1), "t1:spend")
        recompute_members(
            session=session, settings=get_settings(), member_ids=[m.id], now=at(2025, 6, 1)
        )
        mid = m.id

    def month_run(day: datetime):
        with session_scope(db_url) as session:
            expired = expire_points(
                session=session, settings=get_settings(), as_of=day.date(), now=day
            )
            warned = warn_expiring_points(
                session=session, settings=get_settings(), as_of=day.date(), now=day
            )
            return expired.points, warned.points, member(session, "T1").points

    assert month_run(at(2026, 12, 1)) == (0, 200, 700)
    assert month_run(at(2026, 12, 1)) == (0, 200, 700)  # a re-run adds nothing
    assert month_run(at(2027, 1, 1)) == (200, 500, 500)  # 300 earned 2024-12-20, 100 spent
    assert month_run(at(2027, 1, 1)) == (0, 500, 500)  # warned again, but queued once
    assert month_run(at(2027, 2, 1)) == (500, 0, 0)
    with session_scope(db_url) as session:
        rows = session.execute(
            select(PointsEntry.amount, PointsEntry.reason, PointsEntry.idem_key)
            .where(PointsEntry.member_id == mid, PointsEntry.reason == "expiry")
            .order_by(PointsEntry.id)
        ).all()
        assert [r[0] for r in rows] == [-200, -500]
        assert ledger_sum(session, mid) == member(session, "T1").points == 0
        warnings = notes(session, "member_points_expiring")
        assert [n.idem_key for n in warnings] == [
            "member:T1:points-expiring:2026-12",
            "member:T1:points-expiring:2027-01",
        ]
        assert "200 积分将于2026年12月20日起陆续到期" in warnings[0].body
        expired = notes(session, "member_points_expired")
        assert [n.context["points"] for n in expired] == [200, 500]
        assert "当前积分余额 500 分" in expired[0].body


def test_a_member_crosses_into_silver_and_gold_and_falls_only_at_the_review(world, db_url):
    with session_scope(db_url) as session:
        m = add_member(session, "T2", "+8613600000002", status="active")
        steps = []
        for i, amount in enumerate([4900, 200, 9900, 0]):
            if amount:
                grant(session, m.id, amount, at(2026, 3, 2 + i), f"t2:{i}")
            recompute_members(
                session=session, settings=get_settings(), member_ids=[m.id], now=at(2026, 3, 2 + i)
            )
            session.refresh(m)
            steps.append((m.points, m.tier, m.rank))
        assert steps == [
            (4900, MemberTier.ordinary, "忠武将军"),
            (5100, MemberTier.silver, "云麾将军"),
            (15000, MemberTier.gold, "怀化大将军"),
            (15000, MemberTier.gold, "怀化大将军"),
        ]
        sent = [(n.template, n.context["tier"], n.context["rank"]) for n in notes(session)]
        assert sent == [
            ("member_rank_up", "普通会员", "忠武将军"),
            ("member_tier_up", "银卡会员", "云麾将军"),
            ("member_tier_up", "金卡会员", "怀化大将军"),
        ]
        assert "恭喜您升级为金卡会员" in notes(session)[-1].body

        grant(session, m.id, -9000, at(2026, 6, 1), "t2:spend")
        recompute_members(
            session=session, settings=get_settings(), member_ids=[m.id], now=at(2026, 6, 1)
        )
        session.refresh(m)
        assert (m.points, m.tier) == (6000, MemberTier.gold)  # no downgrade between reviews
        recompute_members(
            session=session,
            settings=get_settings(),
            member_ids=None,
            now=at(2027, 1, 1),
            review=True,
        )
        session.refresh(m)
        assert (m.points, m.tier) == (6000, MemberTier.silver)
        [down] = notes(session, "member_tier_down")
        assert "根据年度复核，您的会员等级调整为银卡会员" in down.body


def test_three_service_visits_make_a_member_silver_once(world, db_url):
    visits = [
        InteractionInput(member_no="T3", kind="service", ref=f"RO-{i}", occurred_at=at(2026, 4, i))
        for i in (1, 2, 3)
    ]
    with session_scope(db_url) as session:
        add_member(session, "T3", "+8613600000003", status="active")
        first = record_interactions(
            session=session, settings=get_settings(), interactions=visits[:2], now=at(2026, 4, 2)
        )
        again = record_interactions(
            session=session, settings=get_settings(), interactions=visits, now=at(2026, 4, 3)
        )
        t3 = member(session, "T3")
        assert (first.recorded, again.recorded, again.duplicates) == (2, 1, 2)
        assert (t3.service_visits, t3.tier) == (3, MemberTier.silver)
        assert t3.last_interaction_at == at(2026, 4, 3)
        assert [n.template for n in notes(session)] == ["member_tier_up"]


# ---------------------------------------------------------------- birthdays and referrals


def test_a_29_february_birthday_is_greeted_on_28_february_of_a_non_leap_year(world, db_url):
    with session_scope(db_url) as session:
        session.execute(Member.__table__.update().values(birthday=None))
        add_member(session, "B1", "+8613600000011", status="active", birthday=date(1992, 2, 29))
        add_member(session, "B2", "+8613600000012", status="active", birthday=date(1990, 2, 28))
        add_member(session, "B3", "+8613600000013", status="registered", birthday=date(1990, 2, 28))

        greeted = {}
        for day in (date(2027, 2, 27), date(2027, 2, 28), date(2027, 3, 1)):
            report = queue_birthday_greetings(
                session=session,
                settings=get_settings(),
                day=day,
                now=datetime.combine(day, datetime.min.time(), SH),
            )
            greeted[day] = report.greeted
        again = queue_birthday_greetings(
            session=session, settings=get_settings(), day=date(2027, 2, 28), now=at(2027, 2, 28)
        )
        leap = queue_birthday_greetings(
            session=session, settings=get_settings(), day=date(2028, 2, 29), now=at(2028, 2, 29)
        )

        assert greeted == {
            date(2027, 2, 27): [],
            date(2027, 2, 28): ["B1", "B2"],
            date(2027, 3, 1): [],
        }
        assert (again.greeted, again.queued) == (["B1", "B2"], 0)
        assert leap.greeted == ["B1"]
        [b1] = [n for n in notes(session) if n.idem_key == "member:B1:birthday:2027"]
        assert "祝您生日快乐" in b1.body and "2月生日月专属权益" in b1.body


def test_a_referral_is_rewarded_once_and_the_referrer_up_to_the_cap(world, db_url, settings_env):
    settings_env(database_url=db_url, referral_yearly_cap=1)
    with session_scope(db_url) as session:
        referrer = add_member(
            session, "R0", "+8613600000020", status="active", referral_code="YLR0"
        )
        registered = register_members(
            session=session,
            settings=get_settings(),
            registrations=[
                RegistrationInput(name="新人甲", phone="13600000021", referral_code="ylr0"),
                RegistrationInput(name="新人乙", phone="13600000022", referral_code="YLR0"),
                RegistrationInput(name="新人丙", phone="13600000023", referral_code="NOPE"),
            ],
            now=at(2026, 5, 1),
        )
        assert "referral_code 'NOPE' is unknown" in registered.warnings[0]
        a, b, _c = registered.created
        for no in (a, b):
            activate_member(
                session=session,
                settings=get_settings(),
                member_no=no,
                dealer_code="BE001",
                now=at(2026, 5, 2),
            )

        first = reward_referrals(session=session, settings=get_settings(), now=at(2026, 5, 2, 12))
        second = reward_referrals(session=session, settings=get_settings(), now=at(2026, 5, 3, 12))
        assert (first.rewarded, first.capped, second.rewarded) == (2, 1, 0)
        rewards = (
            session.execute(select(ReferralReward).order_by(ReferralReward.id)).scalars().all()
        )
        assert [(r.referrer_points, r.referee_points, r.capped) for r in rewards] == [
            (200, 200, False),
            (0, 200, True),
        ]
        assert member(session, "R0").points == 200 == ledger_sum(session, referrer.id)
        assert member(session, a).points == 200 and member(session, b).points == 200

        record_interactions(
            session=session,
            settings=get_settings(),
            interactions=[
                InteractionInput(
                    member_no=a, kind="purchase", ref="SO-1", occurred_at=at(2027, 1, 5)
                )
            ],
            now=at(2027, 1, 5),
        )
        bought = reward_referrals(session=session, settings=get_settings(), now=at(2027, 1, 5, 12))
        assert (bought.rewarded, bought.capped) == (1, 0)  # a new year, a new cap
        assert member(session, "R0").points == 2200
        texts = [n.body for n in notes(session, "member_referral_reward")]
        assert len(texts) == 5
        assert any("您推荐的好友新人甲已完成购车，2000 积分已到账" in t for t in texts)


# ---------------------------------------------------------------- segments


def test_segments_on_hand_computed_dates_and_one_invitation_per_sleep_episode(world, db_url):
    as_of = date(2026, 8, 30)
    with session_scope(db_url) as session:
        session.execute(Member.__table__.update().values(status="expired"))  # only ours count
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        other = session.execute(select(Club).where(Club.code == "C-CH002")).scalar_one()
        joined = at(2024, 1, 1)
        cases = {
            "S1": at(2026, 6, 1),  # 90 days: active
            "S2": at(2026, 5, 31),  # 91 days: sleeping
            "S3": at(2025, 8, 30),  # 365 days: sleeping
            "S4": at(2025, 8, 29),  # 366 days: lost
        }
        for i, (no, last) in enumerate(cases.items()):
            add_member(
                session,
                no,
                f"+861360000003{i}",
                status="active",
                club_id=club.id,
                joined_at=joined,
                activated_at=joined,
                last_interaction_at=last,
            )
        add_member(
            session,
            "S5",
            "+8613600000040",
            status="active",
            club_id=other.id,
            joined_at=joined,
            activated_at=joined,
            last_interaction_at=at(2026, 1, 1),
        )
        session.add(
            Activity(
                code="CH-A1",
                title="秋季雨林穿越",
                klass="C",
                region_code="chengdu",
                club_id=club.id,
                starts_on=date(2026, 9, 12),
                ends_on=date(2026, 9, 13),
                place="西双版纳",
                status="announced",
                proposed_by="admin.ch001",
            )
        )
        session.add(
            Activity(
                code="CH-A0",
                title="已取消",
                klass="D",
                region_code="chengdu",
                club_id=club.id,
                starts_on=date(2026, 9, 5),
                ends_on=date(2026, 9, 5),
                status="cancelled",
                proposed_by="admin.ch001",
            )
        )

    now = at(2026, 8, 30, 8)
    with session_scope(db_url) as session:
        report = segment_members(session=session, settings=get_settings(), as_of=as_of, now=now)
        invited = invite_sleeping_members(
            session=session, settings=get_settings(), as_of=as_of, now=now
        )
        segments = {
            m.member_no: (m.segment, m.segment_since)
            for m in session.execute(select(Member).where(Member.status == "active")).scalars()
        }
    assert segments == {
        "S1": ("active", date(2026, 6, 1)),
        "S2": ("sleeping", date(2026, 8, 30)),
        "S3": ("sleeping", date(2025, 11, 29)),
        "S4": ("lost", date(2026, 8, 30)),
        "S5": ("sleeping", date(2026, 4, 2)),  # 2026-01-01 + 91 days
    }
    ch001 = next(c for c in report.clubs if c.club_id == club.id)
    assert ch001.counts == {"active": 1, "sleeping": 2, "lost": 1}
    assert report.by_region()["成都卫"]["sleeping"] == 3
    assert sorted(invited.invited) == ["S2", "S3", "S5"]
    assert (invited.to_activity, invited.generic) == (2, 1)

    with session_scope(db_url) as session:
        bodies = {n.recipient: n.body for n in notes(session, "member_reactivation")}
        assert "诚邀您参加「秋季雨林穿越」，2026年9月12日在西双版纳相聚" in bodies["member:S2"]
        assert "近期俱乐部活动即将发布" in bodies["member:S5"]
        # A week later only S1 (now 97 days idle) is newly sleeping; then S2 comes back.
        segment_members(
            session=session,
            settings=get_settings(),
            as_of=as_of + timedelta(days=7),
            now=now + timedelta(days=7),
        )
        assert invite_sleeping_members(
            session=session,
            settings=get_settings(),
            as_of=as_of + timedelta(days=7),
            now=now + timedelta(days=7),
        ).invited == ["S1"]
        record_interactions(
            session=session,
            settings=get_settings(),
            interactions=[
                InteractionInput(
                    member_no="S2", kind="visit", ref="V-1", occurred_at=at(2026, 9, 12)
                )
            ],
            now=at(2026, 9, 12),
        )
        later = segment_members(
            session=session, settings=get_settings(), as_of=date(2026, 9, 13), now=at(2026, 9, 13)
        )
        assert later.reactivated == 1
        assert reactivated_in_month(session=session, year=2026, month=9) == {club.id: 1}
        invitations = select(func.count()).select_from(ReactivationInvitation)
        assert session.execute(invitations).scalar() == 4


# ---------------------------------------------------------------- both databases


@pytest.fixture
def store(any_db_url, settings_env):
    settings_env(database_url=any_db_url)
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_regions(session=session)
    assert get_settings().database_url == any_db_url
    return any_db_url


@pytest.mark.postgres
def test_expiry_and_recompute_are_idempotent_on_both_databases(store):
    with session_scope(store) as session:
        m = add_member(session, "P1", "+8613600000050", status="active")
        grant(session, m.id, 1500, at(2024, 3, 1), "p1:a")
        grant(session, m.id, 1500, at(2024, 3, 1), "p1:a")  # same key: ignored
        grant(session, m.id, 700, at(2025, 3, 1), "p1:b")
        changes = recompute_members(
            session=session, settings=get_settings(), member_ids=[m.id], now=at(2025, 3, 1)
        )
        assert [(c.points, c.rank, c.rose) for c in changes] == [(2200, "宣威将军", True)]
    for _ in range(2):
        with session_scope(store) as session:
            expire_points(
                session=session, settings=get_settings(), as_of=date(2026, 3, 1), now=at(2026, 3, 1)
            )
    with session_scope(store) as session:
        p1 = member(session, "P1")
        assert p1.points == 700 == ledger_sum(session, p1.id)
        assert p1.rank == "昭武校尉"
        assert [n.template for n in notes(session)] == ["member_rank_up", "member_points_expired"]


# ---------------------------------------------------------------- property: balance = ledger

store_ops = st.lists(
    st.tuples(
        st.sampled_from(["grant", "spend", "expire", "review"]),
        st.integers(1, 6000),
        st.integers(0, 1400),  # days after 2024-01-01
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=store_ops)
def test_the_cached_balance_equals_the_ledger_after_random_operations(db_url, ops):
    with session_scope(db_url) as session:
        n = session.execute(select(func.count()).select_from(Member)).scalar_one()
        m = add_member(session, f"H{n}", f"+861350000{n:04d}", status="active")
        mid = m.id
    for step, (kind, amount, offset) in enumerate(sorted(ops, key=lambda op: op[2])):
        when = at(2024, 1, 1) + timedelta(days=offset)
        with session_scope(db_url) as session:
            if kind == "grant":
                grant(session, mid, amount, when, f"h{mid}:{step}")
                recompute_members(
                    session=session, settings=get_settings(), member_ids=[mid], now=when
                )
            elif kind == "spend":
                expire_points(session=session, settings=get_settings(), as_of=when.date(), now=when)
                spend = min(amount, member(session, f"H{n}").points)
                if spend > 0:
                    grant(session, mid, -spend, when, f"h{mid}:{step}")
                    recompute_members(
                        session=session, settings=get_settings(), member_ids=[mid], now=when
                    )
            elif kind == "expire":
                expire_points(session=session, settings=get_settings(), as_of=when.date(), now=when)
            else:
                recompute_members(
                    session=session, settings=get_settings(), member_ids=None, now=when, review=True
                )
        with session_scope(db_url) as session:
            row = member(session, f"H{n}")
            assert row.points == ledger_sum(session, mid) >= 0
            assert row.rank == rank_for(row.points)
