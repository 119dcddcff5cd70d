"""The one way bytes go to a vendor: a shared Session per provider and explicit timeouts.

Pure like the adapters: the base URL and the timeout are passed in, nothing here reads settings
or touches the ORM. Recording the call (`ProviderCall`), limits and money live in the engine's
gateway, which is the only caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .base import ErrorKind, ProviderError, ProviderRequest

# Retry-After is honoured, but never beyond this: a vendor asking for an hour gets a retry
# scheduled by the caller instead of a worker asleep.
RETRY_AFTER_CAP_SECONDS = 900.0
USER_AGENT = "Sourcier/0.1 (+self-hosted)"

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(provider: str) -> requests.Session:
    """One Session per provider and process: keep-alive connections, no shared cookies."""
    with _sessions_lock:
        session = _sessions.get(provider)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[provider] = session
        return session


@dataclass(frozen=True)
class Answer:
    """What came back: status, raw body, headers (case-insensitive) and how long it took."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    latency_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))


class TransportError(ProviderError):
    """No answer at all: timeout, refused or reset connection (always worth retrying)."""

    def __init__(self, message: str, *, outcome: str, latency_ms: int, error: str) -> None:
        super().__init__(message, kind=ErrorKind.TEMPORARY)
        self.call_outcome = outcome
        self.latency_ms = latency_ms
        self.error = error
        # The engine's record of the failed call, when it leaves it to its caller to write.
        self.call: object | None = None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            seconds = (when - (now or datetime.now(UTC))).total_seconds()
        except (TypeError, ValueError):
            return None
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, RETRY_AFTER_CAP_SECONDS))


def send(
    provider: str,
    request: ProviderRequest,
    *,
    base_url: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> Answer:
    """Send one request to `base_url`; HTTP error statuses are returned for the adapter to read.

    Network failures (timeout, refused, reset) raise TransportError.
    """
    started = time.monotonic()
    try:
        response = session_for(provider).request(
            request.method,
            base_url + request.path,
            params={**request.params, **(params or {})} or None,
            json=request.json,
            headers={**request.headers, **(headers or {})},
            # (connect, read): a vendor that accepts the connection but never answers is cut.
            timeout=(min(timeout, 5.0), timeout),
        )
    except requests.RequestException as exc:
        outcome = "timeout" if isinstance(exc, requests.Timeout) else "network_error"
        raise TransportError(
            f"{provider}: {outcome} ({type(exc).__name__})",
            outcome=outcome,
            latency_ms=int((time.monotonic() - started) * 1000),
            error=type(exc).__name__,
        ) from exc
    return Answer(
        status=response.status_code,
        body=response.content,
        headers=response.headers,
        latency_ms=int((time.monotonic() - started) * 1000),
    )
