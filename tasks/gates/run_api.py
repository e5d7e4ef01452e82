"""The Prefect API calls that resume a run waiting at a gate (`clubflow decide`, the portal).

With PREFECT_API_URL in the environment (the CLI sets it from the running stack, the stack
gives it to its processes) they are two plain HTTP requests: importing Prefect would cost a
decision seconds on a small machine. Without it the URL may come from a Prefect profile,
which only Prefect reads: its own client makes the same calls.

The requests are those of Prefect's client (prefect/client/orchestration/_flow_runs), with
its authentication: PREFECT_API_AUTH_STRING as HTTP basic auth, else PREFECT_API_KEY as a
bearer token, and a CSRF token fetched when the server asks for one.
"""

from __future__ import annotations

import base64
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

# Prefect's terminal state types (StateType): a run in one of them never waits again.
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
TRUE = ("1", "true", "yes", "on")
# What Prefect's client retries, and how often by default (PREFECT_CLIENT_MAX_RETRIES): a busy
# server answers 503 now and then.
RETRY_CODES = frozenset({408, 429, 502, 503})
RETRY_ERRORS = (httpx.TimeoutException, httpx.RemoteProtocolError)
MAX_RETRIES = 5


@dataclass(frozen=True)
class RunView:
    """What resuming reads of a flow run: its state, and where it is paused."""

    id: str
    name: str
    state_type: str | None  # a StateType value: "PAUSED", "RUNNING", ... (None: no state)
    state_name: str = ""
    state_at: datetime | None = None  # when the run entered its state
    pause_key: str = ""
    form_key: str | None = None  # the key its input form's schema is stored under

    @property
    def is_final(self) -> bool:
        return self.state_type in FINAL_STATES

    @classmethod
    def of_json(cls, run: dict[str, Any]) -> RunView:
        state = run.get("state") or {}
        details = state.get("state_details") or {}
        keyset = details.get("run_input_keyset") or {}
        stamp = state.get("timestamp")
        return cls(
            id=str(run["id"]),
            name=run.get("name") or "",
            state_type=state.get("type"),
            state_name=state.get("name") or "",
            state_at=datetime.fromisoformat(stamp) if stamp else None,
            pause_key=str(details.get("pause_key") or ""),
            form_key=keyset.get("schema"),
        )

    @classmethod
    def of_prefect(cls, run: Any) -> RunView:
        """From Prefect's FlowRun object."""
        state = run.state
        if state is None:
            return cls(id=str(run.id), name=run.name, state_type=None)
        keyset = state.state_details.run_input_keyset or {}
        return cls(
            id=str(run.id),
            name=run.name,
            state_type=state.type.value,
            state_name=state.name or "",
            state_at=state.timestamp,
            pause_key=str(state.state_details.pause_key or ""),
            form_key=keyset.get("schema"),
        )


@dataclass(frozen=True)
class Resumed:
    """The server's answer to a resume: ACCEPT, REJECT, ABORT or WAIT, and why."""

    status: str
    reason: str = ""


class RestRunApi:
    """The calls over HTTP, with PREFECT_API_URL and its credentials from the environment."""

    def __init__(self, api_url: str, *, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        headers = {}
        if env.get("PREFECT_API_AUTH_STRING"):  # Prefect's client prefers it to the key
            token = base64.b64encode(env["PREFECT_API_AUTH_STRING"].encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif env.get("PREFECT_API_KEY"):
            headers["Authorization"] = f"Bearer {env['PREFECT_API_KEY']}"
        verify: bool | str = env.get("PREFECT_API_SSL_CERT_FILE") or True
        if env.get("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "").lower() in TRUE:
            verify = False
        self._http = httpx.Client(
            base_url=api_url,
            headers=headers,
            timeout=float(env.get("PREFECT_API_REQUEST_TIMEOUT") or 60),
            follow_redirects=True,
            # Connecting is retried 3 times, as Prefect's client does.
            transport=httpx.HTTPTransport(retries=3, verify=verify),
        )
        self._csrf: dict[str, str] = {}
        self._retries = int(env.get("PREFECT_CLIENT_MAX_RETRIES") or MAX_RETRIES)

    def __enter__(self) -> RestRunApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    @property
    def headers(self) -> httpx.Headers:
        """What every request carries (the credentials among them)."""
        return self._http.headers

    def read_run(self, run_id: str) -> RunView | None:
        response = self._send("GET", f"/flow_runs/{run_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return RunView.of_json(response.json())

    def resume(self, run_id: str, run_input: dict[str, Any]) -> Resumed:
        body = self._post(f"/flow_runs/{run_id}/resume", {"run_input": run_input}).json()
        details = body.get("details") or {}
        return Resumed(status=str(body["status"]), reason=str(details.get("reason") or ""))

    def _post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        response = self._send("POST", path, json=payload, headers=self._csrf)
        if response.status_code == 403 and "csrf" in response.text.lower() and not self._csrf:
            # A server with CSRF protection asks for a token per client, as Prefect's gets one.
            client = str(uuid4())
            token = self._send("GET", "/csrf-token", params={"client": client})
            token.raise_for_status()
            self._csrf = {
                "Prefect-Csrf-Token": token.json()["token"],
                "Prefect-Csrf-Client": client,
            }
            response = self._send("POST", path, json=payload, headers=self._csrf)
        response.raise_for_status()
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried as Prefect's client retries it: after the server's Retry-After,
        else 2, 4, 8... seconds (±20 %)."""
        for attempt in range(1, self._retries + 2):
            try:
                response = self._http.request(method, path, **kwargs)
            except RETRY_ERRORS:
                if attempt > self._retries:
                    raise
                wait = None
            else:
                if response.status_code not in RETRY_CODES or attempt > self._retries:
                    return response
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
            time.sleep(wait if wait is not None else 2**attempt * random.uniform(0.8, 1.2))
        raise AssertionError("unreachable")  # the last attempt returns or raises


def _retry_after_seconds(retry_after: str | None) -> float | None:
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:  # an HTTP date: back off as without one
        return None


class PrefectRunApi:
    """The same calls through Prefect's own client (its settings, profiles included)."""

    def __init__(self) -> None:
        from prefect.client.orchestration import get_client

        self._client = get_client(sync_client=True)

    def __enter__(self) -> PrefectRunApi:
        self._client.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._client.__exit__(*exc)

    def read_run(self, run_id: str) -> RunView | None:
        from prefect.exceptions import ObjectNotFound

        try:
            return RunView.of_prefect(self._client.read_flow_run(UUID(run_id)))
        except ObjectNotFound:
            return None

    def resume(self, run_id: str, run_input: dict[str, Any]) -> Resumed:
        response = self._client.resume_flow_run(UUID(run_id), run_input=run_input)
        reason = getattr(response.details, "reason", None)  # an accept's details have none
        return Resumed(status=response.status.value, reason=reason or "")


def run_api() -> RestRunApi | PrefectRunApi:
    """Over HTTP when the environment names the API, else through Prefect's client."""
    api_url = os.environ.get("PREFECT_API_URL")
    return RestRunApi(api_url) if api_url else PrefectRunApi()
