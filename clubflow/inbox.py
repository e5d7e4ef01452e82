"""A loopback inbox that Apprise's json:// URLs post to.

`clubflow up` routes the demo world's channels here (and appends each message to a JSONL file)
so a demo shows what would have been sent; the tests use it as their sink, with a share of
requests failing on purpose.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Message:
    path: str
    title: str
    body: str
    headers: dict[str, str]


@dataclass
class Sink:
    port: int = 0
    fail_rate: float = 0.0
    seed: int = 1
    messages: list[Message] = field(default_factory=list)
    failures: int = 0
    journal: Path | None = None
    on_message: Callable[[Message], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def base(self) -> str:
        return f"json://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.strip('/')}"

    def to(self, path: str) -> list[Message]:
        return [m for m in self.messages if m.path.strip("/") == path.strip("/")]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.failures = 0

    def handle(self, path: str, payload: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            if self.fail_rate and self._rng.random() < self.fail_rate:
                self.failures += 1
                return 500  # failed before anything was accepted
            data = json.loads(payload or b"{}")
            message = Message(
                path=path,
                title=data.get("title", ""),
                body=data.get("message", ""),
                headers=headers,
            )
            self.messages.append(message)
            if self.journal is not None:
                with self.journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")
        if self.on_message is not None:
            self.on_message(message)
        return 200


def start_sink(port: int = 0, **kwargs) -> tuple[Sink, ThreadingHTTPServer]:
    sink = Sink(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            status = sink.handle(self.path, self.rfile.read(length), dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sink.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink, server
