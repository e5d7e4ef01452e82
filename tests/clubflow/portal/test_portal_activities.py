"""The club's activity pages, driven as their users do: a club admin proposes, files the recap
and the claim with evidence files, and sees the points arrive; others are refused (recorded)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from gate_runner import GateRunner
from portal_client import Clock, Portal, csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from clubflow.portal.app import create_app
from clubflow.portal.evidence import LocalStore, S3Store, save_evidence, store_for
from domain.activities import ActivityProposal, CheckinRow, RecapInput
from domain.models import Activity, Gate, Notification, Recap, SubsidyClaim, SubsidyLine
from domain.models_audit import Refusal
from domain.models_portal import EvidenceFile, PortalAudit
from flows.sweep import sweep
from tasks.activities.checkin import check_in
from tasks.activities.recap import file_recap
from tasks.activities.store import approve_activity, register_proposal
from tasks.gates.inbox import waiting_on

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE = "C-CH001-20261011"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def _runner(prefect_server) -> GateRunner:
    return GateRunner(["activity-lifecycle", "activity-claim"])


@pytest.fixture
def runner(_runner, channels) -> GateRunner:
    _runner.reset()
    return _runner


@pytest.fixture
def portal(channels, db_url, sink, settings_env, tmp_path):
    """The portal with evidence and reports in this test's folder, the clock before the
    activity (it is set per step)."""
    from tasks.outbox import deliver_due

    settings_env(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    settings = get_settings()
    clock = Clock(at(date(2026, 9, 21)))

    def deliver() -> None:
        deliver_due(url=db_url, channels=channels, now=clock(), settings=settings)

    client = Portal(
        app=create_app(settings=settings, now=clock, deliver=deliver), clock=clock, sink=sink
    )
    client.deliver = deliver  # what the running portal does after a request that queued
    return client


def _form(**values) -> dict:
    base = {
        "title": "雨林穿越 秋季站",
        "activity_class": "C",
        "theme": "穿越季",
        "starts_on": "2026-10-11",
        "ends_on": "2026-10-11",
        "place": "四川雅安",
        "expected_participants": "30",
        "item-1": "场地费",
        "amount-1": "1500",
        "item-2": "保险",
        "amount-2": "300",
        "subsidy_requested": "4500",
    }
    return {**base, **values}


def _approved_activity(db_url, members: int = 30) -> None:
    """A class C activity of C-CH001, approved, with `members` checked in at the event."""
    settings = get_settings()
    proposal = ActivityProposal(
        title="雨林穿越 秋季站",
        activity_class="C",
        region="chengdu",
        club="C-CH001",
        starts_on=date(2026, 10, 11),
        ends_on=date(2026, 10, 11),
        place="四川雅安",
        expected_participants=30,
        budget=[{"item": "场地费", "amount": 1500}],
        proposed_by="admin.ch001",
    )
    with session_scope(db_url) as session:
        register_proposal(
            session=session, proposal=proposal, now=at(date(2026, 9, 21)), settings=settings
        )
        approve_activity(session=session, code=CODE, now=at(date(2026, 9, 22)), settings=settings)
    rows = [CheckinRow(member_no=f"M{n:06d}", organiser=n == 1) for n in range(1, members + 1)]
    with session_scope(db_url) as session:
        check_in(session=session, code=CODE, rows=rows, now=at(date(2026, 10, 11), 9))


def _inbox(db_url, username: str, today: date, kinds=("recap", "claim")) -> list:
    with session_scope(db_url) as session:
        items = waiting_on(session=session, username=username, today=today)
    return [i for i in items if i.kind in kinds]


def _refusals(db_url, action: str) -> list[Refusal]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Refusal).where(Refusal.action == action)).scalars())


def _audit(db_url, action: str) -> list[PortalAudit]:
    with session_scope(db_url) as session:
        return list(
            session.execute(select(PortalAudit).where(PortalAudit.action == action)).scalars()
        )


# ---------------------------------------------------------------- proposing


def test_a_club_admin_proposes_a_class_c_activity_with_budget_lines(portal, runner, db_url, sink):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get("/activities/new")
    assert page.status_code == 200 and "提报活动" in page.text
    assert 'value="A"' not in page.text  # class A is HQ's

    response = client.post("/activities/new", data={**_form(), "csrf": csrf_of(page.text)})
    assert response.status_code == 200, response.text
    assert f"活动编号 {CODE}" in response.text and "审核流程已启动" in response.text

    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at the specialist's review
    with session_scope(db_url) as session:
        activity = session.execute(select(Activity).where(Activity.code == CODE)).scalar_one()
        gate = session.execute(select(Gate).where(Gate.subject_id == activity.id)).scalar_one()
    assert activity.budget == [
        {"item": "场地费", "amount": 1500.0},
        {"item": "保险", "amount": 300.0},
    ]
    assert (activity.proposed_by, activity.club_id is not None, activity.status) == (
        "admin.ch001",
        True,
        "in_review",
    )
    [row] = _audit(db_url, "activity.propose")
    assert row.outcome == "ok" and row.subject == f"activity:{CODE}"

    listing = client.get("/activities")
    assert CODE in listing.text and "in_review" in listing.text
    page = client.get(f"/activities/{CODE}")
    assert f'href="/gates/{gate.id}"' in page.text and "区域专员审核" in page.text
    assert "¥1,800.00" in page.text and "申请补贴 ¥4,500.00" in page.text

    # The specialist's notice carries the signed link to the activity's page.
    portal.deliver()
    [notice] = sink.to("role/regional_specialist/chengdu")
    assert "处理：http://127.0.0.1:4201/go/" in notice.body


def test_a_refused_proposal_shows_the_fields_problem_and_keeps_what_was_typed(
    portal, runner, db_url
):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get("/activities/new")
    response = client.post(
        "/activities/new",
        data={**_form(ends_on="2026-10-10", title="秋季穿越"), "csrf": csrf_of(page.text)},
    )
    assert response.status_code == 422
    assert 'data-field="ends_on">end 2026-10-10 is before start 2026-10-11' in response.text
    assert 'value="秋季穿越"' in response.text and 'value="场地费"' in response.text
    [refusal] = _refusals(db_url, "activity.propose")
    assert refusal.actor == "admin.ch001" and "ends_on" in refusal.reason
    assert runner.due_runs() == []  # nothing started

    response = client.post(
        "/activities/new", data={**_form(activity_class="A"), "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 422
    assert "A 类由总部创建" in response.text
    assert runner.due_runs() == []


def test_others_are_refused_and_the_refusal_is_recorded(portal, db_url):
    _approved_activity(db_url, members=3)
    portal.clock.now = at(date(2026, 10, 12))

    stranger = portal.client()
    response = stranger.get(f"/activities/{CODE}/recap", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")

    other = portal.sign_in("admin.ch002", "person/admin.ch002")
    assert other.get(f"/activities/{CODE}").status_code == 403
    assert CODE not in other.get("/activities").text
    response = other.get(f"/activities/{CODE}/recap")
    assert response.status_code == 403
    assert [r.actor for r in _refusals(db_url, "activity.view")] == ["admin.ch002"]

    # The region's specialist sees it but may not file the club's recap.
    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    assert specialist.get(f"/activities/{CODE}").status_code == 200
    page = specialist.get(f"/activities/{CODE}/recap")
    assert page.status_code == 403
    refusal = _refusals(db_url, "activity.recap")[-1]
    assert refusal.actor == "specialist.chengdu"
    assert "is not an admin of club C-CH001" in refusal.reason

    # The club's dealer sees its club's activities.
    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    assert CODE in dealer.get("/activities").text

    member = portal.sign_in("+8613900000001", "sms/13900000001")
    assert member.get("/activities").status_code == 403
    assert _refusals(db_url, "activity.list")[0].actor == "member:M000001"


# ---------------------------------------------------------------- recap, claim, points


def _files(*items):
    return [(name, (filename, data, kind)) for name, filename, data, kind in items]


def test_recap_claim_with_evidence_and_the_points_arrive(portal, runner, db_url, tmp_path, sink):
    _approved_activity(db_url)
    portal.clock.now = at(date(2026, 10, 12))
    client = portal.sign_in("admin.ch001", "person/admin.ch001")

    # The recap is due: it is on the admin's tasks with its page.
    [item] = _inbox(db_url, "admin.ch001", date(2026, 10, 12))
    assert item.kind == "recap"
    assert item.link == f"/activities/{CODE}/recap" and item.due_on == date(2026, 10, 18)
    page = client.get(f"/activities/{CODE}")
    assert f'href="/activities/{CODE}/recap"' in page.text
    assert f'href="/activities/{CODE}/checkin"' in page.text

    form = client.get(f"/activities/{CODE}/recap")
    bad = client.post(
        f"/activities/{CODE}/recap",
        data={"photo-1": "ftp://x/y", "csrf": csrf_of(form.text)},
    )
    assert bad.status_code == 422 and "「ftp://x/y」不是 http(s) 链接" in bad.text
    done = client.post(
        f"/activities/{CODE}/recap",
        data={
            "photo-1": "https://example.org/album/1",
            "video-1": "https://example.org/v/9",
            "media_posts": "3",
            "media_reads": "12000",
            "feedback_score": "4.6",
            "csrf": csrf_of(form.text),
        },
    )
    assert done.status_code == 200 and "活动总结已提交" in done.text
    with session_scope(db_url) as session:
        recap = session.execute(select(Recap)).scalar_one()
    assert recap.media_links == ["https://example.org/album/1", "https://example.org/v/9"]
    assert (recap.filed_by, recap.participants, recap.feedback_score) == ("admin.ch001", 30, 4.6)
    assert [a.outcome for a in _audit(db_url, "activity.recap")] == ["refused", "ok"]

    # Now the claim is the admin's task.
    [item] = _inbox(db_url, "admin.ch001", date(2026, 10, 12))
    assert (item.kind, item.link) == ("claim", f"/activities/{CODE}/claim")

    # A .exe renamed .pdf is refused in one line, and nothing is stored or started.
    form = client.get(f"/activities/{CODE}/claim")
    assert "俱乐部T恤（tshirts）" in form.text and "race_registration" not in form.text
    refused = client.post(
        f"/activities/{CODE}/claim",
        data={"category-1": "venue", "amount-1": "1500", "csrf": csrf_of(form.text)},
        files=_files(("evidence-1", "收据.pdf", EXE, "application/pdf")),
    )
    assert refused.status_code == 422
    assert "收据.pdf: 文件内容不是允许的类型" in refused.text
    assert runner.due_runs() == []

    response = client.post(
        f"/activities/{CODE}/claim",
        data={
            "category-1": "tshirts",
            "amount-1": "1800",
            "note-1": "T恤 30 件",
            "category-2": "venue",
            "amount-2": "1500",
            "csrf": csrf_of(form.text),
        },
        files=_files(
            ("evidence-1", "发票.pdf", PDF, "application/pdf"),
            ("evidence-2", "营地.jpg", JPEG, "image/jpeg"),
            ("evidence-2", "营地-副本.jpg", JPEG, "image/jpeg"),  # same bytes: one row
        ),
    )
    assert response.status_code == 200, response.text
    assert "补贴申报已提交" in response.text
    evidence_dir = tmp_path / "evidence" / CODE
    pdf_path = evidence_dir / f"{hashlib.sha256(PDF).hexdigest()}.pdf"
    jpg_path = evidence_dir / f"{hashlib.sha256(JPEG).hexdigest()}.jpg"
    assert pdf_path.read_bytes() == PDF and jpg_path.read_bytes() == JPEG
    with session_scope(db_url) as session:
        rows = session.execute(select(EvidenceFile).order_by(EvidenceFile.id)).scalars().all()
    assert [(r.filename, r.content_type, r.size, r.uploaded_by) for r in rows] == [
        ("发票.pdf", "application/pdf", len(PDF), "admin.ch001"),
        ("营地.jpg", "image/jpeg", len(JPEG), "admin.ch001"),
    ]

    [run] = runner.run_pending()
    assert run.state.name == "Suspended"  # at the specialist's claim approval
    with session_scope(db_url) as session:
        lines = session.execute(select(SubsidyLine).order_by(SubsidyLine.line_no)).scalars().all()
        gate = session.execute(select(Gate).where(Gate.key == "claim_approval")).scalar_one()
    assert [(x.category, x.evidence, x.proposed_action) for x in lines] == [
        ("tshirts", [str(pdf_path)], "approve"),
        ("venue", [str(jpg_path)], "approve"),
    ]
    specialist = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    gate_page = specialist.get(f"/gates/{gate.id}")
    assert "发票.pdf" in gate_page.text and "营地.jpg" in gate_page.text

    # The points day (end + 10 working days): the sweep issues them; the page shows them.
    sweep(now=at(date(2026, 10, 23), 9))
    portal.clock.now = at(date(2026, 10, 23), 10)
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get(f"/activities/{CODE}")
    assert "30 人 · 共 3100 分" in page.text  # 29 × 100 + organiser 200
    assert "139****0001" in page.text and "13900000001" not in page.text
    assert "发票.pdf" in page.text


def test_an_oversized_file_is_refused_in_one_line(portal, db_url, settings_env, tmp_path):
    _approved_activity(db_url, members=2)
    with session_scope(db_url) as session:
        file_recap(
            session=session,
            code=CODE,
            recap=RecapInput(filed_by="admin.ch001"),
            now=at(date(2026, 10, 12)),
        )
    settings_env(evidence_max_mb=1)
    app = create_app(settings=get_settings(), now=portal.clock, deliver=portal.deliver)
    portal = Portal(app=app, clock=portal.clock, sink=portal.sink)
    portal.clock.now = at(date(2026, 10, 12))
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    form = client.get(f"/activities/{CODE}/claim")
    big = JPEG[:-2] + b"\x00" * (1024 * 1024 + 10) + b"\xff\xd9"
    response = client.post(
        f"/activities/{CODE}/claim",
        data={"category-1": "venue", "amount-1": "1500", "csrf": csrf_of(form.text)},
        files=_files(("evidence-1", "大图.jpg", big, "image/jpeg")),
    )
    assert response.status_code == 422
    assert "大图.jpg: 文件超过 1 MB 上限 (file too large)" in response.text
    assert not (tmp_path / "evidence").exists()
    [refusal] = _refusals(db_url, "activity.claim")
    assert "文件超过 1 MB" in refusal.reason


# ---------------------------------------------------------------- S3


class FakeS3(BaseHTTPRequestHandler):
    """Stores PUT bodies when the AWS4-HMAC-SHA256 signature is right for its key."""

    access_key = "AKTEST"
    secret_key = "s3cr3t"
    objects: dict[str, bytes] = {}
    rejected: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 ") or self._signature(body) not in auth:
            self.rejected.append(self.path)
            self.send_response(403)
            self.end_headers()
            return
        self.objects[self.path] = body
        self.send_response(200)
        self.end_headers()

    def _signature(self, body: bytes) -> str:
        fields = dict(
            part.strip().split("=", 1)
            for part in self.headers["Authorization"].split(" ", 1)[1].split(",")
        )
        signed = fields["SignedHeaders"].split(";")
        stamp = self.headers["x-amz-date"]
        scope = fields["Credential"].split("/", 1)[1]
        assert fields["Credential"].startswith(self.access_key + "/")
        assert hashlib.sha256(body).hexdigest() == self.headers["x-amz-content-sha256"]
        canonical = "\n".join(
            [
                "PUT",
                self.path,
                "",
                "".join(f"{h}:{self.headers[h].strip()}\n" for h in signed),
                ";".join(signed),
                self.headers["x-amz-content-sha256"],
            ]
        )
        day, region, service, _ = scope.split("/")
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        text = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        return "Signature=" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def fake_s3():
    FakeS3.objects, FakeS3.rejected = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/evidence-bucket"
    server.shutdown()


def test_evidence_goes_to_the_s3_store_signed_with_sigv4(world, db_url, fake_s3):
    _approved_activity(db_url, members=1)
    store = S3Store(url=fake_s3, access_key="AKTEST", secret_key="s3cr3t", region="cn-north-1")
    with session_scope(db_url) as session:
        activity_id = session.execute(select(Activity.id).where(Activity.code == CODE)).scalar()
        rows = [
            save_evidence(
                session=session,
                activity_id=activity_id,
                activity_code=CODE,
                filename="发票.pdf",
                content_type="application/pdf",
                data=PDF,
                store=store,
                uploaded_by="admin.ch001",
                now=at(date(2026, 10, 12)),
            )
            for _ in range(2)
        ]
        locations = [r.location for r in rows]
        count = len(session.execute(select(EvidenceFile)).scalars().all())
    key = f"{CODE}/{hashlib.sha256(PDF).hexdigest()}.pdf"
    assert FakeS3.objects == {f"/evidence-bucket/{key}": PDF}  # the second was not sent
    assert locations == [f"s3://evidence-bucket/{key}"] * 2 and count == 1

    settings = get_settings().model_copy(
        update={"evidence_s3_url": fake_s3, "evidence_s3_access_key": "AKTEST"}
    )
    assert isinstance(store_for(settings), S3Store)
    assert isinstance(store_for(get_settings()), LocalStore)

    wrong = S3Store(url=fake_s3, access_key="AKTEST", secret_key="wrong", region="cn-north-1")
    with pytest.raises(ValueError, match="S3 answered 403"):
        wrong.put("x/y.pdf", PDF, "application/pdf")
    assert FakeS3.rejected == ["/evidence-bucket/x/y.pdf"]


def test_finance_sees_the_claim_to_pay_with_its_page(portal, db_url, runner):
    _approved_activity(db_url, members=5)
    with session_scope(db_url) as session:
        file_recap(
            session=session,
            code=CODE,
            recap=RecapInput(filed_by="admin.ch001"),
            now=at(date(2026, 10, 12)),
        )
        activity_id = session.execute(select(Activity.id).where(Activity.code == CODE)).scalar()
        session.add(
            SubsidyClaim(
                activity_id=activity_id,
                status="decided",
                total_requested=900,
                total_approved=900,
                submitted_by="admin.ch001",
                submitted_at=at(date(2026, 10, 12)),
            )
        )
    [item] = _inbox(db_url, "finance", date(2026, 10, 14))
    assert item.link == f"/activities/{CODE}" and "¥900.00" in item.title
    # The club admin has nothing left to file.
    assert _inbox(db_url, "admin.ch001", date(2026, 10, 14)) == []


def test_the_recap_reminder_links_the_recap_form(portal, db_url, sink):
    _approved_activity(db_url, members=1)
    sweep(now=at(date(2026, 10, 18), 9))
    with session_scope(db_url) as session:
        [row] = session.execute(
            select(Notification).where(Notification.template == "activity_recap_reminder")
        ).scalars()
    from clubflow.core.links import read_link

    token = row.body.split("处理：", 1)[1].split()[0].rsplit("/go/", 1)[1]
    path, why = read_link(token, settings=get_settings(), now=at(date(2026, 10, 18), 9))
    assert (path, why) == (f"/activities/{CODE}/recap", "")
