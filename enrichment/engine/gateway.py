"""The gateway: the one way out to a vendor, for every pipeline.

The billable path (`ask`): the provider's breaker, a reservation in the credit ledger, then
a concurrency slot of the workspace for the provider, the provider's request rate,
the transport (pure, in `providers/`), then the `ProviderCall` row that records what was asked,
how long it took, its outcome and cost, and a redacted excerpt of the answer. No transaction is
held here: callers write their results after the call returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings

from ..models import ProviderCall
from ..providers import transport
from ..providers.base import ErrorKind, ProviderError, ProviderRequest
from ..providers.registry import get_provider
from . import breaker, ledger, limits
from .redaction import redacted_excerpt

T = TypeVar("T")


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
    params: dict[str, Any] | None = None,
    cost: Decimal = Decimal("0"),
    records: int = 0,
    slot_wait: float = 2.0,
    before_send: Callable[[], None] | None = None,
    record: bool = True,
) -> Result:
    """Send one request within the provider's limits and record it.

    Raises `limits.SlotUnavailable` when every slot stays busy or the rate is spent for longer
    than `slot_wait` (nobody's fault: the caller tries again shortly), and the transport's
    TransportError, recorded first, when the vendor did not answer. `before_send` runs once the
    slot and the rate allow the call, just before it goes out; what it raises propagates.
    With `record=False` the `ProviderCall` row is left unsaved for the caller to write with
    others (on a TransportError, as its `call`).
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
        if before_send is not None:
            before_send()
        return send(
            provider,
            request,
            workspace_id=workspace_id,
            headers=headers,
            params=params,
            cost=cost,
            records=records,
            record=record,
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
    record: bool = True,
) -> Result:
    """Send through the transport to the provider's configured base URL and record the call
    (or, with `record=False`, leave its row unsaved for the caller)."""
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
        if record:
            row.save()
        error.call = row
        raise
    row.latency_ms = answer.latency_ms
    row.status_code = answer.status
    row.outcome = "ok" if answer.ok else f"http_{answer.status}"
    row.cost = cost if answer.ok else Decimal("0")
    row.response_excerpt = redacted_excerpt(answer.body)
    if record:
        row.save()
    return Result(answer=answer, call=row)


# --- Billable questions: breaker, reservation, call, reading, settlement ---------------------


@dataclass
class Reply(Generic[T]):
    """What one billable question gave: a read answer or a classified error, and its call."""

    provider: str
    workspace_id: int
    key: str
    value: T | None = None
    error: ProviderError | None = None
    call: ProviderCall | None = None
    cost: Decimal = Decimal("0")


def ask(
    provider: str,
    request: ProviderRequest,
    *,
    workspace_id: int,
    key: str,
    read: Callable[[int, bytes, float | None], T],
    cost_of: Callable[[T], Decimal],
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    most: Decimal | None = None,
    reserved: bool = False,
    record: bool = True,
) -> Reply[T]:
    """Ask one provider one question, within its breaker, the workspace's money and limits.

    In order: the breaker (BreakerOpen propagates: ask the next provider), a reservation of
    the most the call can cost (`most`, the provider's dearest call unless the caller knows
    better: a free endpoint reserves nothing and is never refused for money) under the
    idempotency `key` (a replay finds the same one;
    InsufficientCredits and DailyCapReached propagate), the concurrency slot and rate, the
    breaker again (BreakerOpen, the reservation still held under `key`), the transport and the
    `ProviderCall` row, the adapter's reading. The caller settles the reply
    with `settle`, in the transaction that records the result, so that both happen or neither.

    A caller that asks many questions in rounds (`reserved=True, record=False`) reserved them
    all before (`ledger_many.reserve_many`), and writes the calls' rows (`reply.call`, a
    transport failure's too, its cost set) and closes the reservations together after.
    """
    spec = get_provider(provider)
    permit = breaker.before_call(provider)
    admitted = time.monotonic()
    reply: Reply[T] = Reply(provider=provider, workspace_id=workspace_id, key=key)
    try:
        if not reserved:
            _hold(workspace_id, spec.max_cost if most is None else most, key, provider)
        result = call(
            provider,
            request,
            workspace_id=workspace_id,
            headers=headers,
            params=params,
            # The breaker may have opened while this call waited for its slot and rate (a call
            # that did not wait goes out as admitted: one store read less per call).
            before_send=lambda: (
                breaker.confirm(permit)
                if time.monotonic() - admitted > breaker.CONFIRM_AFTER_SECONDS
                else None
            ),
            record=record,
        )
    except transport.TransportError as error:
        breaker.after_call(permit, ok=False)
        reply.error = error
        if not record:
            reply.call = error.call
        return reply
    except Exception:
        breaker.give_back(permit)  # it never went out: refused for money, no slot, opened
        raise
    reply.call = result.call
    try:
        reply.value = read(result.status, result.body, result.retry_after)
    except ProviderError as error:
        # Only the vendor's own failures count against it: not a refused key or a 404.
        breaker.after_call(permit, ok=error.kind != ErrorKind.TEMPORARY)
        reply.error = error
        return reply
    breaker.after_call(permit, ok=True)
    reply.cost = cost_of(reply.value)
    if not record:
        reply.call.cost = reply.cost
    return reply


def _hold(workspace_id: int, most: Decimal, key: str, provider: str) -> None:
    """Reserve the most the call can cost under `key`. An earlier try that holds the key at
    another price (prices changed since) keeps its hold and the call is made under it, as a
    round's and a Dropcontact batch's are: refusing it would refuse the same question at
    every lease."""
    try:
        ledger.reserve(workspace_id, most, key=key, provider=provider)
    except ledger.IdempotencyConflict:
        if not ledger.holds(workspace_id, key=key):
            raise


def settle(reply: Reply) -> None:
    """Charge the real cost of a reply (or give the reservation back): once, whatever happens.
    Called inside the caller's transaction, which it is part of (no savepoint of its own)."""
    if reply.cost > 0:
        ledger.settle(reply.workspace_id, key=reply.key, cost=reply.cost, savepoint=False)
    else:
        ledger.release(reply.workspace_id, key=reply.key, savepoint=False)
    if reply.call is not None and reply.call.cost != reply.cost:
        reply.call.cost = reply.cost
        ProviderCall.objects.for_workspace(reply.workspace_id).filter(pk=reply.call.pk).update(
            cost=reply.cost
        )
