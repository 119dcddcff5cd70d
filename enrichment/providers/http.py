"""The one HTTP layer: a shared Session per provider, explicit timeouts, every call recorded.

Adapters build a `ProviderRequest` and parse the answer; this module sends it, measures it and
writes a `ProviderCall` row with a redacted excerpt of the answer (no personal data, no keys).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from ..models import ProviderCall
from .base import ErrorKind, ProviderError, ProviderRequest

# Retry-After is honoured, but never beyond this: a vendor asking for an hour gets a retry
# scheduled by the caller instead of a worker asleep.
RETRY_AFTER_CAP_SECONDS = 900.0
EXCERPT_LIMIT = 2000
_REDACT_KEYS = re.compile(
    r"mail|phone|mobile|token|key|secret|password|name|linkedin|civility", re.IGNORECASE
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(provider: str) -> requests.Session:
    """One Session per provider and process: keep-alive connections, no shared cookies."""
    with _sessions_lock:
        session = _sessions.get(provider)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "Sourcier/0.1 (+self-hosted)"
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[provider] = session
        return session


@dataclass
class HttpResult:
    status: int
    body: bytes
    headers: Mapping[str, str]  # case-insensitive, as requests gives them
    latency_ms: int
    call: ProviderCall

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, RETRY_AFTER_CAP_SECONDS))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                "***" if _REDACT_KEYS.search(str(k)) and v not in (None, "", [], {}) else _redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value[:5]] + (["…"] if len(value) > 5 else [])
    if isinstance(value, str):
        return _EMAIL_RE.sub("***@***", value)
    return value


def redacted_excerpt(body: bytes) -> str:
    """A short, personal-data-free view of an answer, for debugging vendor behaviour."""
    try:
        text = json.dumps(_redact(json.loads(body)), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        text = _EMAIL_RE.sub("***@***", body[:EXCERPT_LIMIT].decode("utf-8", "replace"))
    return text[:EXCERPT_LIMIT]


def send(
    provider: str,
    request: ProviderRequest,
    *,
    workspace_id: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    cost: Decimal = Decimal("0"),
    records: int = 0,
    timeout: float | None = None,
) -> HttpResult:
    """Send one request to `provider`'s configured base URL and record it.

    Network failures (timeout, refused, reset) raise a TEMPORARY ProviderError after being
    recorded; HTTP error statuses are returned for the adapter to classify.
    """
    url = settings.PROVIDER_BASE_URLS[provider] + request.path
    timeout = timeout or settings.PROVIDER_TIMEOUT_SECONDS
    started = time.monotonic()
    call = ProviderCall(
        workspace_id=workspace_id,
        provider=provider,
        endpoint=request.path,
        method=request.method,
        records=records,
    )
    try:
        response = session_for(provider).request(
            request.method,
            url,
            params={**request.params, **(params or {})} or None,
            json=request.json,
            headers={**request.headers, **(headers or {})},
            # (connect, read): a vendor that accepts the connection but never answers is cut.
            timeout=(min(timeout, 5.0), timeout),
        )
    except requests.RequestException as exc:
        call.latency_ms = int((time.monotonic() - started) * 1000)
        call.outcome = "timeout" if isinstance(exc, requests.Timeout) else "network_error"
        call.error = type(exc).__name__
        call.save()
        raise ProviderError(
            f"{provider}: {call.outcome} ({type(exc).__name__})", kind=ErrorKind.TEMPORARY
        ) from exc
    body = response.content
    call.latency_ms = int((time.monotonic() - started) * 1000)
    call.status_code = response.status_code
    call.outcome = "ok" if response.ok else f"http_{response.status_code}"
    call.cost = cost if response.ok else Decimal("0")
    call.response_excerpt = redacted_excerpt(body)
    call.save()
    return HttpResult(
        status=response.status_code,
        body=body,
        headers=response.headers,
        latency_ms=call.latency_ms,
        call=call,
    )


def record_outcome(call: ProviderCall, outcome: str, error: str = "") -> None:
    """Refine a recorded call's outcome once the adapter has read the answer."""
    ProviderCall.objects.for_workspace(call.workspace_id).filter(pk=call.pk).update(
        outcome=outcome, error=error[:1000]
    )
