"""The gateway: the one way out to a vendor, for every pipeline.

In order: a concurrency slot of the workspace for the provider, the provider's request rate,
the transport (pure, in `providers/`), then the `ProviderCall` row that records what was asked,
how long it took, its outcome and cost, and a redacted excerpt of the answer. No transaction is
held here: callers write their results after the call returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from ..models import ProviderCall
from ..providers import transport
from ..providers.base import ProviderRequest
from ..providers.registry import get_provider
from . import limits
from .redaction import redacted_excerpt


@dataclass
class Result:
    """A vendor's answer and the `ProviderCall` row that records it."""

    answer: transport.Answer
    call: ProviderCall

    @property
    def status(self) -> int:
        return self.answer.status

    @property
    def body(self) -> bytes:
        return self.answer.body

    @property
    def headers(self) -> Mapping[str, str]:
        return self.answer.headers

    @property
    def retry_after(self) -> float | None:
        return self.answer.retry_after


def call(
    provider: str,
    request: ProviderRequest,
    *,
    workspace_id: int,
    headers: dict[str, str] | None = None,
    cost: Decimal = Decimal("0"),
    records: int = 0,
    slot_wait: float = 2.0,
) -> Result:
    """Send one request within the provider's limits and record it.

    Raises `limits.SlotUnavailable` when every slot stays busy or the rate is spent for longer
    than `slot_wait` (nobody's fault: the caller tries again shortly), and the transport's
    TransportError, recorded first, when the vendor did not answer.
    """
    spec = get_provider(provider)
    limit = min(spec.concurrency, settings.PROVIDER_CONCURRENCY)
    with limits.concurrency_slot(
        workspace_id,
        provider,
        limit=limit,
        ttl=float(settings.ENRICHMENT_LEASE_SECONDS),
        wait=slot_wait,
    ):
        if not limits.wait_for_rate(
            provider, per_second=spec.requests_per_second, max_wait=slot_wait
        ):
            raise limits.SlotUnavailable(provider)
        return send(
            provider,
            request,
            workspace_id=workspace_id,
            headers=headers,
            cost=cost,
            records=records,
        )


def send(
    provider: str,
    request: ProviderRequest,
    *,
    workspace_id: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    cost: Decimal = Decimal("0"),
    records: int = 0,
) -> Result:
    """Send through the transport to the provider's configured base URL and record the call."""
    row = ProviderCall(
        workspace_id=workspace_id,
        provider=provider,
        endpoint=request.path,
        method=request.method,
        records=records,
    )
    try:
        answer = transport.send(
            provider,
            request,
            base_url=settings.PROVIDER_BASE_URLS[provider],
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
            headers=headers,
            params=params,
        )
    except transport.TransportError as error:
        row.latency_ms = error.latency_ms
        row.outcome = error.call_outcome
        row.error = error.error
        row.save()
        raise
    row.latency_ms = answer.latency_ms
    row.status_code = answer.status
    row.outcome = "ok" if answer.ok else f"http_{answer.status}"
    row.cost = cost if answer.ok else Decimal("0")
    row.response_excerpt = redacted_excerpt(answer.body)
    row.save()
    return Result(answer=answer, call=row)
