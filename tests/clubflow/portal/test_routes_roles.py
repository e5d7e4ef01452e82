"""Every route of the portal, as a stranger and as each role of the demo world plus a member.

Routes are read from the app, so pages merged later are walked too: they must send a stranger
to sign in (or refuse a form without its CSRF token), never answer 500, and every 403 must
leave a refusal row. Each route has its expected status per role in `expected`; a route added
later without a row there is held to the general rules only."""

from __future__ import annotations

import pytest
from browser_support import (
    CLASS_C_CODE,
    fill,
    get_routes,
    open_session_cookie,
    post_routes,
    sample_values,
    suspend_at_review,
)
from gate_runner import GateRunner
from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.portal.web import COOKIE
from domain.models_audit import Refusal
from domain.models_portal import PortalAudit

# One signed-in account per role of the demo world, and a member.
ROLES = {
    "campaign_manager": "person:hq.manager",
    "it": "person:it.lead",
    "finance": "person:finance",
    "legal": "person:legal",
    "agency": "person:agency.lead",
    "call_supervisor": "person:call.supervisor",
    "call_agent": "person:agent1",
    "regional_specialist": "person:specialist.chengdu",
    "other_specialist": "person:specialist.beijing",
    "club_admin": "person:admin.ch001",
    "dealer": "person:dealer.ch001",
    "member": "member:M000001",
}
PUBLIC = {"/login": 200, "/healthz": 200}
HQ = {"campaign_manager", "it"}


def expected(route: str, role: str) -> int | None:
    """The status of GET `route` for `role`, for the routes on main today (None: a route
    merged later, held to the general rules only)."""
    if route in PUBLIC:
        return PUBLIC[route]
    if route == "/":
        return 303 if role == "member" else 200  # a member's home is /me
    if route == "/account":
        return 200
    if route in ("/audit", "/audit.csv"):
        return 200 if role in HQ else 403
    if route == "/gates/{gate_id}":
        # The class C review gate of Chengdu: HQ and Chengdu's specialist only.
        return 200 if role in HQ | {"regional_specialist"} else 403
    if route == "/go/{token}":
        return 303  # a good link to / : straight there
    chengdu_club = {"club_admin", "dealer"}  # C-CH001's admin and its dealer's staff
    if route == "/tiers":
        return 200 if role in HQ | {"member"} else 403  # a member's own tier; HQ every tier
    if route == "/activities":
        return 403 if role == "member" else 200  # each sees their own scope
    if route == "/activities/new":
        return 200 if role == "club_admin" else 403
    if route in ("/activities/{code}", "/activities/{code}/qr"):
        return 200 if role in HQ | chengdu_club | {"regional_specialist"} else 403
    if route in (
        "/activities/{code}/checkin",
        "/activities/{code}/claim",
        "/activities/{code}/recap",
        "/activities/{code}/register",
        "/members/new",
    ):
        return 200 if role in chengdu_club else 403  # the club's own steps
    if route == "/checkin/{code}/{token}":
        # Staff see a pointer to the list; a member with a token that is not a poster's is
        # refused.
        return 403 if role == "member" else 200
    if route == "/leads":
        leads = {
            "dealer",
            "call_agent",
            "call_supervisor",
            "regional_specialist",
            "other_specialist",
        }
        return 200 if role in HQ | leads else 403
    if route == "/me":
        return 200 if role == "member" else 303
    if route == "/members/{no}":
        # M000001 belongs to C-BJ001: HQ and Beijing's specialist; the member is sent to /me.
        if role == "member":
            return 303
        return 200 if role in HQ | {"other_specialist"} else 403
    if route in ("/plans", "/plans/new"):
        return 200 if role == "club_admin" else 403
    if route == "/returns":
        # The dealer's return (its staff, its club's admin); the operator's and HQ's overview.
        return 200 if role in HQ | chengdu_club | {"agency"} else 403
    if route == "/content":
        return 200 if role in chengdu_club else 403
    if route == "/revisits":
        return 200 if role in ("call_agent", "call_supervisor") else 403
    if route == "/roster":
        return 200 if role in ("call_supervisor", "call_agent") else 403
    if route == "/materials/{code}":
        # The class C activity's organiser club, HQ and Chengdu's specialist.
        return 200 if role in HQ | {"club_admin", "regional_specialist"} else 403
    if route == "/competitors":
        return 200 if role in HQ | {"agency"} else 403
    if route == "/campaigns/{code}/live":
        # {code} names an activity, no campaign: those who see campaigns find none.
        return 404 if role in HQ | {"agency", "regional_specialist", "other_specialist"} else 403
    # Rewards: the member's catalogue (HQ is sent to its own), HQ's catalogue, the counter.
    if route == "/rewards":
        return 200 if role == "member" else 303 if role in HQ else 403
    if route == "/rewards/manage":
        return 200 if role in HQ else 403
    if route == "/vouchers/writeoff":
        return 200 if role == "dealer" else 403
    if route == "/points/budget":
        return 200 if role in ("campaign_manager", "finance") else 403
    if route == "/me/points":
        return 200 if role == "member" else 303
    # Retention: the call centre's member call-backs; a member's own contact consent.
    if route == "/callbacks":
        return 200 if role in ("call_agent", "call_supervisor") else 403
    if route == "/me/consent":
        return 200 if role == "member" else 403
    # Disputes and incidents (docs/disputes.md): who files, who reports.
    if route == "/disputes/new":
        filers = {"campaign_manager", "legal", "call_supervisor", "call_agent", "dealer"}
        return 200 if role in filers else 403
    if route == "/incidents/new":
        reporters = {
            "campaign_manager",
            "legal",
            "call_agent",
            "regional_specialist",
            "other_specialist",
        }
        return 200 if role in reporters | chengdu_club else 403
    # The follow-up pages: the filers, HQ and the specialists read disputes; the reporters
    # and HQ incidents. The walk's world has none: those who may read find none.
    dispute_readers = HQ | {
        "legal",
        "call_supervisor",
        "call_agent",
        "dealer",
        "regional_specialist",
        "other_specialist",
    }
    if route == "/disputes":
        return 200 if role in dispute_readers else 403
    if route == "/disputes/{code}":
        return 404 if role in dispute_readers else 403
    incident_readers = (
        HQ
        | chengdu_club
        | {
            "legal",
            "call_agent",
            "regional_specialist",
            "other_specialist",
        }
    )
    if route == "/incidents":
        return 200 if role in incident_readers else 403
    if route == "/incidents/{code}":
        return 404 if role in incident_readers else 403
    specialists = {"regional_specialist", "other_specialist"}
    if route == "/clubs":
        # HQ all, a specialist their region, a dealer's staff and a club's admin their own.
        return 200 if role in HQ | specialists | chengdu_club else 403
    if route == "/clubs/new":
        return 200 if role == "dealer" else 403  # a dealer's staff register their club
    if route == "/clubs/ranking":
        return 403 if role == "member" else 200  # every staff member reads it
    if route == "/clubs/{code}":
        # {code} names an activity, no club: staff find none, a member is refused first.
        return 403 if role == "member" else 404
    if route in ("/me/complaints", "/me/complaints/new"):
        return 200 if role == "member" else 303  # staff are sent to /complaints
    if route in ("/me/survey/{token}", "/me/complaints/{complaint_id}"):
        # {token} is a sign-in link's, no survey's; no complaint #1 in the walk's world.
        return 404 if role == "member" else 303
    complaint_staff = HQ | {
        "call_agent",
        "call_supervisor",
        "regional_specialist",
        "other_specialist",
        "dealer",
    }
    if route == "/complaints":
        return 303 if role == "member" else 200 if role in complaint_staff else 403
    if route == "/complaints/new":
        filers = {"campaign_manager", "call_agent", "call_supervisor", "dealer"}
        return 303 if role == "member" else 200 if role in filers else 403
    if route == "/complaints/{complaint_id}":
        return 303 if role == "member" else 404 if role in complaint_staff else 403
    # Second-tier outlets (docs/outlets.md): HQ (with finance and legal, who review them), the
    # specialists their region's, a dealer's staff their own; {code} names no outlet.
    outlet_readers = HQ | specialists | {"finance", "legal", "dealer"}
    if route == "/outlets":
        return 200 if role in outlet_readers else 403
    if route == "/outlets/new":
        return 200 if role == "dealer" else 403  # a dealer's staff register their outlets
    if route == "/outlets/{code}":
        return 404 if role in outlet_readers else 403
    return None


@pytest.fixture(scope="session")
def _lifecycle(prefect_server) -> GateRunner:
    return GateRunner(["activity-lifecycle"])


@pytest.fixture
def walk(_lifecycle, channels, portal, db_url):
    """The world with a class C activity waiting at its review gate, and sample values."""
    _lifecycle.reset()
    gate_id, run = suspend_at_review(_lifecycle, database_url=db_url, now=portal.clock())
    assert run.state.name == "Suspended"
    values = sample_values(
        database_url=db_url, settings=portal.app.state.portal.settings, now=portal.clock()
    )
    assert (values["code"], values["gate_id"]) == (CLASS_C_CODE, str(gate_id))
    return values


def _counts(db_url) -> tuple[int, int]:
    with session_scope(db_url) as session:
        return (
            session.execute(select(func.count()).select_from(Refusal)).scalar_one(),
            session.execute(
                select(func.count()).where(PortalAudit.outcome == "refused")
            ).scalar_one(),
        )


def test_a_stranger_is_sent_to_sign_in_from_every_page_and_every_form(portal, walk):
    client = portal.client()
    gets = get_routes(portal.app)
    assert {"/", "/account", "/audit", "/gates/{gate_id}", "/go/{token}"} <= set(gets)
    for route in gets:
        response = client.get(fill(route, walk), follow_redirects=False)
        if route in PUBLIC:
            assert response.status_code == PUBLIC[route], route
            continue
        assert response.status_code == 303, f"GET {route}: {response.status_code}"
        assert response.headers["location"].startswith("/login"), route
    for route in post_routes(portal.app):
        response = client.post(fill(route, walk), data={"x": "1"}, follow_redirects=False)
        assert response.status_code in (303, 400), f"POST {route}: {response.status_code}"
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login"), route
        else:
            assert "表单已过期" in response.text, route


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_gets_its_pages_and_every_refusal_is_recorded(portal, walk, db_url, role):
    client = portal.client()
    cookie = open_session_cookie(
        portal.app, database_url=db_url, who=ROLES[role], now=portal.clock()
    )
    client.cookies.set(COOKIE, cookie)
    seen = {}
    for route in get_routes(portal.app):
        before = _counts(db_url)
        response = client.get(fill(route, walk), follow_redirects=False)
        status = response.status_code
        seen[route] = status
        assert status < 500, f"{role} GET {route}: {status}\n{response.text[:500]}"
        assert not (status == 303 and response.headers["location"].startswith("/login")), (
            f"{role} GET {route}: sent to sign in although signed in"
        )
        refusals, refused_audit = _counts(db_url)
        if status == 403:
            assert "无权访问" in response.text, route
            assert (refusals, refused_audit) == (before[0] + 1, before[1] + 1), route
        else:
            assert (refusals, refused_audit) == before, f"{role} GET {route}: refusal not 403"
    wanted = {route: expected(route, role) for route in seen if expected(route, role)}
    assert {route: seen[route] for route in wanted} == wanted
    # A form posted without its token is refused as expired, never a crash.
    for route in post_routes(portal.app):
        if route.startswith("/login"):
            continue
        response = client.post(fill(route, walk), data={"x": "1"}, follow_redirects=False)
        assert response.status_code == 400, f"{role} POST {route}: {response.status_code}"
