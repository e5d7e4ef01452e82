"""A loopback inbox that Apprise's json:// URLs post to.

`clubflow up` routes the demo world's channels here (and appends each message to a JSONL file)
so a demo shows what would have been sent; the tests use it as their sink, with a share of
requests failing on purpose, a delay before answering, or the whole inbox down.

Like any receiver that honours idempotency keys, it keeps a message whose `Idempotency-Key`
it has already accepted only once (counted in `duplicates`). The journal file and the
console echo show phones masked.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from domain.privacy import mask_text


@dataclass
class Message:
    path: str
    title: str
    body: str
    headers: dict[str, str]

    @property
    def key(self) -> str | None:
        return _header(self.headers, "Idempotency-Key")

    def masked(self) -> Message:
        return Message(
            path=mask_text(self.path),
            title=mask_text(self.title),
            body=mask_text(self.body),
            headers=self.headers,
        )


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


@dataclass
class Sink:
    port: int = 0
    fail_rate: float = 0.0
    seed: int = 1
    messages: list[Message] = field(default_factory=list)
    failures: int = 0
    duplicates: int = 0
    journal: Path | None = None
    on_message: Callable[[Message], None] | None = None
    # Seconds to wait before answering (the message is accepted first), by path prefix.
    delays: dict[str, float] = field(default_factory=dict)
    down: bool = False  # answer 503 to everything, accept nothing
    seen: set[str] = field(default_factory=set)
    received: Callable[[Message], None] | None = None  # called when a message is accepted
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

    def keys(self, path: str | None = None) -> list[str]:
        """The idempotency keys of the accepted messages (of one path)."""
        return [m.key for m in (self.to(path) if path is not None else self.messages) if m.key]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.failures = self.duplicates = 0
            self.seen.clear()

    def delay_for(self, path: str) -> float:
        return max(
            (
                s
                for prefix, s in self.delays.items()
                if path.strip("/").startswith(prefix.strip("/"))
            ),
            default=0.0,
        )

    def handle(self, path: str, payload: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            if self.down:
                self.failures += 1
                return 503
            if self.fail_rate and self._rng.random() < self.fail_rate:
                self.failures += 1
                return 500  # failed before anything was accepted
            data = json.loads(payload or b"{}")
            key = _header(headers, "Idempotency-Key") or data.get("idempotency_key")
            if key and key in self.seen:
                self.duplicates += 1  # accepted before: acknowledge, keep nothing
                return 200
            if key:
                self.seen.add(key)
            message = Message(
                path=path,
                title=data.get("title", ""),
                body=data.get("message", data.get("body", "")),  # json:// or apprise://
                headers=headers,
            )
            self.messages.append(message)
            if self.journal is not None:
                with self.journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(message.masked()), ensure_ascii=False) + "\n")
        if self.received is not None:
            self.received(message)
        if self.on_message is not None:
            self.on_message(message.masked())  # a console echo: never a phone in clear
        return 200


def start_sink(port: int = 0, **kwargs) -> tuple[Sink, ThreadingHTTPServer]:
    sink = Sink(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            status = sink.handle(self.path, self.rfile.read(length), dict(self.headers))
            delay = sink.delay_for(self.path)
            if delay:
                time.sleep(delay)  # accepted already: a slow acknowledgement
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sink.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink, server
