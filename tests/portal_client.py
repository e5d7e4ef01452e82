"""Driving the portal in tests: a fixed clock, a signed-in client (the code read from the
sink, as a person reads it on their phone), the CSRF token of a page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clock import WORLD_NOW
from fastapi.testclient import TestClient

from clubflow.inbox import Sink


@dataclass
class Clock:
    now: datetime = WORLD_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


@dataclass
class Portal:
    app: object
    clock: Clock
    sink: Sink
    delivered: list[int] = field(default_factory=list)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://portal.test")

    def last_code(self, path: str) -> str:
        """The code in the newest message to `path` (e.g. person/admin.ch001)."""
        messages = self.sink.to(path)
        assert messages, f"no message reached {path}"
        return re.search(r"\b(\d{6})\b", messages[-1].body).group(1)

    def sign_in(self, identifier: str, path: str) -> TestClient:
        client = self.client()
        page = client.get("/login")
        client.post(
            "/login/code", data={"identifier": identifier, "csrf": csrf_of(page.text), "next": "/"}
        )
        page = client.get("/login")
        response = client.post(
            "/login/verify",
            data={
                "identifier": identifier,
                "code": self.last_code(path),
                "csrf": csrf_of(page.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
