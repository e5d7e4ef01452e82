"""The portal's pages under load: the demo world (default size), a class C activity waiting
at its review gate, the portal served by uvicorn on loopback, several roles signed in, and
every GET page the app has (read from its routes, with sample parameters) requested N times
with httpx, one request at a time. /healthz, timed in the same run, is the floor: what the
server and the client cost with no page behind them.

    uv run python -m benchmarks.portal
    uv run python -m benchmarks.portal --rounds 50

Target: portal p95_ms < 300 (page requests; 403 and 404 answers count as pages too).
"""

from __future__ import annotations

import argparse
import contextvars
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROLES = [
    "person:hq.manager",
    "person:specialist.chengdu",
    "person:admin.ch001",
    "person:dealer.ch001",
    "person:agent1",
    "member:M000001",
]
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def seed(url: str, *, size=None) -> dict[str, str]:
    """The demo world, one activity at its review gate, and sample path parameters."""
    from sqlalchemy import func, select

    from clubflow.core.db import session_scope
    from clubflow.core.links import portal_link
    from clubflow.core.settings import get_settings
    from clubflow.world import seed_demo_world
    from domain.activities import ActivityProposal
    from domain.gates import GateSpec
    from domain.models import Lead, Member, Role
    from tasks.activities.store import register_proposal
    from tasks.gates.store import open_gate

    settings = get_settings()
    with session_scope(url) as session:
        seed_demo_world(session=session, size=size, now=NOW)
        activity = register_proposal(
            session=session,
            proposal=ActivityProposal(
                title="雨林穿越 冬季站",
                activity_class="C",
                theme="穿越季",
                region="chengdu",
                club="C-CH001",
                starts_on="2026-12-20",
                ends_on="2026-12-20",
                place="四川雅安",
                expected_participants=30,
                budget=[{"item": "场地费", "amount": 1500}],
                subsidy_requested=4500,
                proposed_by="admin.ch001",
            ),
            now=NOW,
            settings=settings,
        )
        gate = open_gate(
            session=session,
            spec=GateSpec(
                subject_type="activity",
                subject_id=activity.id,
                subject_code=activity.code,
                subject_title=activity.title,
                key="specialist_review",
                title="区域专员审核",
                owner_role=Role.regional_specialist,
                owner_region="chengdu",
                due_on=NOW.date(),
            ),
            now=NOW,
        )
        lead = session.execute(select(func.min(Lead.id))).scalar()
        member = session.execute(select(func.min(Member.member_no))).scalar()
    values = {
        "code": activity.code,
        "activity_code": activity.code,
        "gate_id": str(gate.id),
        "id": str(lead or 1),
        "lead_id": str(lead or 1),
        "no": member,
        "member_no": member,
        "token": portal_link("/", settings=settings, now=NOW).rsplit("/", 1)[1],
    }
    return values


def get_routes(app) -> list[str]:
    def walk(routes, prefix=""):
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes, prefix + route.include_context.prefix)
            elif "GET" in (getattr(route, "methods", None) or ()):
                yield prefix + route.path

    return sorted(set(walk(app.routes)))


@contextmanager
def serve(app) -> Iterator[str]:
    """The app on a loopback port in a thread (see tests/browser_support.py serve)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(server.run,),
        kwargs={"sockets": [sock]},
        daemon=True,
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1] if len(samples) > 1 else 0


def run(work: Path, rounds: int) -> str:
    import httpx

    from clubflow.core.db import migrate, session_scope
    from clubflow.core.settings import get_settings
    from clubflow.portal.app import create_app
    from clubflow.portal.signin import open_session
    from clubflow.portal.web import COOKIE

    url = f"sqlite:///{work / 'clubflow.db'}"
    os.environ["CLUBFLOW_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate(url)
    values = seed(url)
    app = create_app(now=lambda: NOW, deliver=lambda: None)
    p = app.state.portal
    cookies = {}
    with session_scope(url) as session:
        for who in ROLES:
            opened = open_session(session=session, who=who, now=NOW, settings=p.settings)
            cookies[who] = p.signer.cookie(opened.token)
    routes = [r for r in get_routes(app) if r != "/healthz"]
    pages: dict[str, list[float]] = {r: [] for r in routes}
    floor: list[float] = []
    statuses: dict[int, int] = {}
    with serve(app) as base:
        clients = {
            who: httpx.Client(base_url=base, cookies={COOKIE: c}, follow_redirects=False)
            for who, c in cookies.items()
        }
        for client in clients.values():  # warm up: templates compiled, pools opened
            for route in routes:
                client.get(PARAM.sub(lambda m: values.get(m.group(1), "1"), route))
        for _ in range(rounds):
            for client in clients.values():
                for route in routes:
                    path = PARAM.sub(lambda m: values.get(m.group(1), "1"), route)
                    started = time.perf_counter()
                    response = client.get(path)
                    pages[route].append((time.perf_counter() - started) * 1000)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code >= 500:
                        raise SystemExit(f"{path}: {response.status_code}")
                    started = time.perf_counter()
                    client.get("/healthz")
                    floor.append((time.perf_counter() - started) * 1000)
        for client in clients.values():
            client.close()
    for route, samples in pages.items():
        print(f"  {route:<28} p50_ms={statistics.median(samples):6.1f} p95_ms={p95(samples):6.1f}")
    print(f"statuses: {dict(sorted(statuses.items()))}; roles: {len(ROLES)}; rounds: {rounds}")
    samples = [s for route in pages.values() for s in route]
    print(f"baseline: healthz requests={len(floor)} p95_ms={p95(floor):.1f}")
    return f"portal pages={len(samples)} p95_ms={p95(samples):.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.portal")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv if argv is not None else [])
    print("target: portal p95_ms < 300", flush=True)
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        line = run(Path(tmp), args.rounds)
    print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
