"""HTTP access to external systems (lead sources, the call centre) with httpx.

The client is built from an ExternalSystem block; tests inject a transport or point the block
at a fake service on loopback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx

from blocks.systems import ExternalSystem

log = logging.getLogger("clubflow.http")
RETRYABLE = {429, 500, 502, 503, 504}


class ExternalSystemError(RuntimeError):
    """An external system failed after all retries; the message names it and the request."""


def client_for(
    system: ExternalSystem, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    return httpx.Client(
        base_url=str(system.base_url),
        headers={"Authorization": f"Bearer {system.token.get_secret_value()}"},
        timeout=httpx.Timeout(system.timeout_seconds),
        transport=transport,
    )


def _where(client: httpx.Client, path: str) -> str:
    return str(client.base_url).rstrip("/") + "/" + path.lstrip("/")


def get_json(
    client: httpx.Client,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    retries: int = 3,
    backoff_seconds: float = 0.5,
) -> Any:
    """GET a JSON document, retrying timeouts, connection errors and 429/5xx with backoff."""
    last: str = ""
    for attempt in range(retries + 1):
        try:
            response = client.get(path, params=params)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}"
        else:
            if response.status_code not in RETRYABLE:
                if response.is_error:
                    raise ExternalSystemError(
                        f"{_where(client, path)}: HTTP {response.status_code}"
                    )
                return response.json()
            last = f"HTTP {response.status_code}"
        if attempt < retries:
            delay = backoff_seconds * 2**attempt
            log.warning(
                "%s failed (%s), retry %s in %.1fs", _where(client, path), last, attempt + 1, delay
            )
            time.sleep(delay)
    raise ExternalSystemError(f"{_where(client, path)}: gave up after {retries + 1} tries ({last})")


def fetch_all(
    system: ExternalSystem,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[dict[str, Any]]:
    """Every item of every page of `path` (a feed read after its cursor passes `after`)."""
    with client_for(system, transport) as client:
        return [
            item
            for page in iter_pages(
                client, path, page_size=system.page_size, params=params, retries=system.retries
            )
            for item in page
        ]


def iter_pages(
    client: httpx.Client,
    path: str,
    *,
    page_size: int,
    params: dict[str, Any] | None = None,
    retries: int = 3,
    backoff_seconds: float = 0.5,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of `{"items": [...], "next_page": N | null}` until the source says there is no more."""
    page: int | None = 1
    while page is not None:
        data = get_json(
            client,
            path,
            params={**(params or {}), "page": page, "page_size": page_size},
            retries=retries,
            backoff_seconds=backoff_seconds,
        )
        items = data.get("items")
        if not isinstance(items, list):
            raise ExternalSystemError(f"{_where(client, path)} page {page}: no 'items' list")
        yield items
        page = data.get("next_page")
