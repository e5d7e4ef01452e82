from __future__ import annotations

import httpx
import pytest

from blocks.systems import ExternalSystem
from tasks.http import ExternalSystemError, client_for, get_json, iter_pages


def _system() -> ExternalSystem:
    return ExternalSystem(base_url="http://source.test", token="tok-123", page_size=2)


def test_pages_are_read_until_the_source_has_no_next_page_with_the_token():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.params["page"], request.headers["Authorization"]))
        page = int(request.url.params["page"])
        return httpx.Response(
            200, json={"items": [{"n": page}], "next_page": page + 1 if page < 3 else None}
        )

    with client_for(_system(), httpx.MockTransport(handler)) as client:
        pages = list(iter_pages(client, "/leads", page_size=2))
    assert pages == [[{"n": 1}], [{"n": 2}], [{"n": 3}]]
    assert seen == [("1", "Bearer tok-123"), ("2", "Bearer tok-123"), ("3", "Bearer tok-123")]


def test_server_errors_are_retried_then_succeed():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503) if len(calls) < 3 else httpx.Response(200, json={"ok": True})

    with client_for(_system(), httpx.MockTransport(handler)) as client:
        assert get_json(client, "/x", retries=3, backoff_seconds=0) == {"ok": True}
    assert len(calls) == 3


def test_giving_up_names_the_system_and_the_last_error():
    with client_for(_system(), httpx.MockTransport(lambda r: httpx.Response(502))) as client:
        with pytest.raises(
            ExternalSystemError, match=r"source.test/x: gave up after 3 tries \(HTTP 502\)"
        ):
            get_json(client, "/x", retries=2, backoff_seconds=0)


def test_a_client_error_is_not_retried():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(401)

    with client_for(_system(), httpx.MockTransport(handler)) as client:
        with pytest.raises(ExternalSystemError, match="HTTP 401"):
            get_json(client, "/x", retries=3, backoff_seconds=0)
    assert calls == [1]


def test_a_placeholder_token_is_refused():
    with pytest.raises(ValueError, match="placeholder"):
        ExternalSystem(base_url="http://source.test", token="changethis")
