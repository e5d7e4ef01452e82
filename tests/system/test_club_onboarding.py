"""One club joins the alliance (收编登记) on the running stack, as its people drive it: HQ adds
the dealer and the people with `clubflow clubs`, the dealer's staff register the club and
submit the checklist, the specialist returns one item (the dealer hears why), the hourly
sweep (the gate-sweep deployment at a chosen `now`) reminds and escalates the overdue review,
the dealer resubmits, the specialist approves all, the club is active and its people told;
another region's specialist is refused. The dealer reads the club's page in the portal."""

from __future__ import annotations

from sqlalchemy import select
from system_support import at, portal_browser

from clubflow.core.db import session_scope
from domain.models import Club
from domain.models_audit import Refusal

NAME = "坦克·羽林·300·成都·越野俱乐部"
CODE = "C-CH900"
REASON = "队标分辨率太低，请提供矢量图"
REQUIRED = ["name", "logo", "car_stickers", "team_flag", "offroad_venue", "wechat_group",
            "forum_id"]  # fmt: skip
SPECIALIST = "role/regional_specialist/chengdu"


def _ok(done) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _clubs(stack, *args: str, day: str = "2026-11-02"):
    return stack.cli("clubs", *args, "--now", at(day))


def _titles(stack, path: str, word: str) -> list[str]:
    return [
        m["title"] for m in stack.messages_to(path) if NAME in m["title"] and word in m["title"]
    ]


def _sweep(stack, day: str) -> None:
    """A simulated day: the hourly sweep at 10:00, then the outbox at 11:00."""
    run = stack.run("gate-sweep", {"now": at(day)})
    assert run.state_name == "Completed", run.state
    stack.deliver(at(day, 11))


def _status(stack) -> str:
    with session_scope(stack.database_url) as session:
        return session.execute(select(Club.status).where(Club.code == CODE)).scalar_one()


def test_a_club_joins_the_alliance_from_registration_to_active(stack):
    hq = ("--as", "hq.manager")
    _ok(_clubs(stack, "add-dealer", "CH900", "--name", "成都新店", "--city", "成都",
               "--region", "chengdu", *hq))  # fmt: skip
    _ok(_clubs(stack, "add-person", "staff.ch900", "--name", "店员", "--role", "dealer",
               "--dealer", "CH900", "--phone", "13800009000", *hq))  # fmt: skip
    officers = []
    for n, title in enumerate(("会长", "军师", "长史")):
        _ok(_clubs(stack, "add-person", f"o900.{n}", "--name", f"官{n}", "--role", "club_admin",
                   "--region", "chengdu", "--phone", f"1390090{n:04d}", *hq))  # fmt: skip
        officers += ["--officer", f"{title}=o900.{n}"]
    staff = ("--as", "staff.ch900")
    assert f"club {CODE}: pending" in _ok(
        _clubs(
            stack,
            "register",
            CODE,
            "--name",
            NAME,
            "--grade",
            "营",
            "--dealer",
            "CH900",
            *officers,
            *staff,
        )  # fmt: skip
    )
    items = [a for i in REQUIRED for a in ("--item", f"{i}=https://pan.example/ch900/{i}")]
    _ok(_clubs(stack, "submit", CODE, *items, *staff))

    # The specialist returns the logo: the dealer reads the reason and a link to the page.
    specialist = ("--as", "specialist.chengdu")
    _ok(_clubs(stack, "review", CODE, "--item", "logo", "--return", REASON, *specialist))
    stack.deliver(at("2026-11-02", 11))
    [returned] = [m for m in stack.messages_to("dealer/CH900") if "被退回" in m["title"]]
    assert returned["title"] == f"{NAME}：队标(待审批)被退回"
    assert f"原因：{REASON}" in returned["body"] and "/go/" in returned["body"]
    page = portal_browser(stack, "staff.ch900").get(f"/clubs/{CODE}")
    assert page.status_code == 200 and REASON in page.text

    # Six items wait: due Thursday (3 working days), reminded once, escalated 3 days later.
    _sweep(stack, "2026-11-05")
    _sweep(stack, "2026-11-05")  # a second sweep the same day adds nothing
    assert _titles(stack, SPECIALIST, "待您审核") == [
        f"待您审核：{NAME} 6 项资质（2026-11-05 到期）"
    ]
    _sweep(stack, "2026-11-10")
    assert _titles(stack, "role/campaign_manager", "审核逾期") == [
        f"审核逾期：成都卫 {NAME} 6 项资质（2026-11-05 到期）"
    ]

    # The dealer resubmits; the specialist approves all; the club is active and told.
    _ok(_clubs(stack, "submit", CODE, "--item", "logo=https://pan.example/ch900/logo-v2",
               *staff, day="2026-11-10"))  # fmt: skip
    # Another region's specialist is refused, and the refusal recorded.
    refused = _clubs(stack, "review", CODE, "--item", "logo", "--approve",
                     "--as", "specialist.beijing", day="2026-11-10")  # fmt: skip
    assert refused.returncode == 2 and "refused" in refused.stdout, refused.stdout
    for item in REQUIRED:
        last = _ok(_clubs(stack, "review", CODE, "--item", item, "--approve", *specialist,
                          day="2026-11-10"))  # fmt: skip
    assert f"club {CODE} forum_id: approved; club active" in last
    assert _status(stack) == "active"
    stack.deliver(at("2026-11-10", 11))
    assert _titles(stack, "dealer/CH900", "已激活") == [f"{NAME} 已激活"]
    assert _titles(stack, "person/o900.0", "已激活") == [f"{NAME} 已激活"]
    assert _titles(stack, SPECIALIST, "已激活") == [f"{NAME} 已激活"]
    with session_scope(stack.database_url) as session:
        refusals = session.execute(
            select(Refusal.reason).where(
                Refusal.actor == "specialist.beijing", Refusal.subject == f"club:{CODE}"
            )
        ).all()
    assert len(refusals) == 1
