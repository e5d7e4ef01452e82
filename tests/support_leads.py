"""Fakes for the lead tests: a paged lead source and a call-centre API on loopback (real HTTP),
and a generator of lead files as Chinese tools export them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from blocks.systems import ExternalSystem


@dataclass
class FakeApi:
    """`GET /<collection>?after=&page=&page_size=` → {"items": [...], "next_page": n|null}.

    Items carry a numeric `id`; `after` returns only later ones (the client's cursor).
    `fail_next` answers that many requests with 503 first (retries must cope).
    """

    token: str
    collections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_next: int = 0
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def block(self, **extra) -> ExternalSystem:
        return ExternalSystem(base_url=self.base_url, token=self.token, **extra)

    def handle(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(path)
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "bad token"}
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, {"error": "busy"}
        parts = urlsplit(path)
        name = parts.path.strip("/")
        if name not in self.collections:
            return 404, {"error": f"no {name}"}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        after = int(query.get("after", 0))
        page, size = int(query.get("page", 1)), int(query.get("page_size", 100))
        items = [i for i in self.collections[name] if int(i["id"]) > after]
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        return 200, {"items": chunk, "next_page": page + 1 if more else None}


@contextmanager
def serve_fake_api(api: FakeApi) -> Iterator[FakeApi]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            status, body = api.handle(self.path, dict(self.headers))
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- lead files

HEADER = "姓名,电话,意向车型,城市,来源,留资时间"
SOURCES = ("汽车之家", "懂车帝", "易车", "官网")


def mobile(n: int) -> str:
    return f"1390{n:07d}"


@dataclass
class LeadFile:
    data: bytes
    good: int
    duplicates: int
    bad_lines: dict[int, str]  # line number → expected reason fragment


def lead_file(
    *,
    good: int,
    duplicates: int,
    bad: int,
    cities: tuple[str, ...],
    times: tuple[str, ...],
    encoding: str = "gbk",
    first: int = 0,
) -> LeadFile:
    """good unique leads, then duplicates of some of them (other spelling and source), with
    `bad` broken lines spread among them, of five kinds."""
    lines: list[bytes] = [HEADER.encode(encoding)]
    bad_lines: dict[int, str] = {}
    kinds = [
        ("王一,,SUV,{city},官网,{time}", "no phone"),
        ("王二,12345,SUV,{city},官网,{time}", "phone: invalid"),
        ("王三,13{n:09d},SUV,火星,官网,{time}", "unknown city"),
        ("王四,13{n:09d}", "missing column"),
        (None, "undecodable"),
    ]
    rows: list[str] = []
    for i in range(good):
        city, time = cities[i % len(cities)], times[i % len(times)]
        rows.append(f"客户{i},{mobile(first + i)},越野SUV,{city},{SOURCES[i % 4]},{time}")
    for j in range(duplicates):
        i = (j * 7) % good
        city, time = cities[i % len(cities)], times[i % len(times)]
        spelled = "+86 " + mobile(first + i)[:3] + " " + mobile(first + i)[3:7] + " "
        spelled += mobile(first + i)[7:]
        rows.append(f"客户{i},{spelled},越野SUV,{city},{SOURCES[(i + 1) % 4]},{time}")
    step = max((good + duplicates) // max(bad, 1), 1)
    out_rows: list[tuple[bytes, str | None]] = []
    b = 0
    for index, row in enumerate(rows):
        if b < bad and index % step == 0:
            template, reason = kinds[b % len(kinds)]
            if template is None:
                out_rows.append((b"\xff\xfe\xfd," + mobile(900000 + b).encode() + b"\n", reason))
            else:
                text = template.format(city=cities[0], time=times[0], n=800000000 + b)
                out_rows.append((text.encode(encoding), reason))
            b += 1
        out_rows.append((row.encode(encoding), None))
    while b < bad:  # pragma: no cover - only when bad > rows
        out_rows.append((f"王九,,SUV,{cities[0]},官网,".encode(encoding), "no phone"))
        b += 1
    for number, (line, reason) in enumerate(out_rows, start=2):
        lines.append(line.rstrip(b"\n"))
        if reason:
            bad_lines[number] = reason
    return LeadFile(b"\r\n".join(lines) + b"\r\n", good, duplicates, bad_lines)


# ---------------------------------------------------------------- fixtures (imported by the
# lead conftests)

import pytest  # noqa: E402

from clubflow.core.db import session_scope  # noqa: E402
from clubflow.world import inbox_channels  # noqa: E402
from domain.models import Dealer  # noqa: E402

EXTRA_DEALERS = [
    # 成都 gets a second dealer, so a bounce has somewhere to go inside the city.
    {"code": "CH009", "name": "成都越野4S店9", "city": "成都", "region_code": "chengdu"},
]


@pytest.fixture
def lead_world(world, db_url, settings_env, tmp_path) -> dict:
    settings_env(
        database_url=db_url,
        leads_export_dir=tmp_path / "exports",
        leads_inbox_dir=tmp_path / "inbox",
    )
    with session_scope(db_url) as session:
        session.add_all(Dealer(**row) for row in EXTRA_DEALERS)
    return world


@pytest.fixture
def lead_channels(prefect_server, lead_world, db_url, sink):
    with session_scope(db_url) as session:
        block = inbox_channels(session=session, inbox_url=sink.base)
    block.save("default", overwrite=True)
    return block
