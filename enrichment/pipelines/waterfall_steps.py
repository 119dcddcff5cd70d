"""The steps of a waterfall that talk to a vendor: ask (with 429 backoff), start and poll an
asynchronous job, and record each answer with its money, all while the item's claim holds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from ..engine import claims, gateway
from ..engine.jobs import charge_jobs
from ..models import EnrichmentItem, ProviderAttempt
from ..providers.base import ErrorKind, ProviderError
from ..providers.finders import Finding
from ..providers.registry import get_provider

Item = EnrichmentItem.Status
# An asynchronous job started and paid for, not finished yet: polled, never started again.
SUBMITTED = "submitted"
# How long a step polls an asynchronous job before coming back later.
POLL_WITHIN_STEP_SECONDS = (1.0, 1.0, 2.0, 4.0)
# 429: wait 1 s, 2 s, 4 s (or what Retry-After says, within a cap), then the next provider.
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
BACKOFF_CAP_SECONDS = 8.0


def lease_seconds() -> float:
    return float(settings.ENRICHMENT_LEASE_SECONDS)


def renew_lease(item: EnrichmentItem, *, if_needed: bool = True) -> None:
    """Keep the item for another lease before a call (LeaseLost if someone took it over).

    With `if_needed`, a lease with more than three quarters of its time left (the calls just
    after the claim or the last renewal) is kept as it is, without a write: each call still
    starts with most of a lease ahead, and every write of the step checks the claim."""
    now = timezone.now()
    seconds = lease_seconds()
    left = item.next_attempt_at - now if item.next_attempt_at else None
    if if_needed and left is not None and left > timezone.timedelta(seconds=0.75 * seconds):
        return
    item.next_attempt_at = now + timezone.timedelta(seconds=seconds)
    claims.write_claimed(item, statuses=(Item.SUBMITTED,), next_attempt_at=item.next_attempt_at)


def price(provider: str) -> Callable[[Finding], Decimal]:
    """What a finding costs: the price per call, plus the price per success when found."""
    spec = get_provider(provider)
    return lambda finding: (
        spec.cost_per_call + (spec.cost_per_success if finding.found else Decimal(0))
    )


def ask_with_backoff(
    item: EnrichmentItem,
    finder: Any,
    query: Any,
    *,
    api_key: str,
    key: str,
    unsaved_calls: list | None = None,
) -> gateway.Reply:
    """Ask once, and again after 1, 2 and 4 s while the vendor answers 429.

    With `unsaved_calls` the question is one of a round: reserved before, its calls' rows
    left unsaved and appended there, for the round to write them with the others."""
    provider = finder.slug
    in_round = unsaved_calls is not None
    for wait in (*BACKOFF_SECONDS, None):
        reply = gateway.ask(
            provider,
            finder.build(query),
            workspace_id=item.workspace_id,
            key=key,
            read=finder.read,
            cost_of=price(provider),
            headers=finder.auth_headers(api_key),
            params=finder.auth_params(api_key),
            reserved=in_round,
            record=not in_round,
        )
        if in_round and reply.call is not None:
            unsaved_calls.append(reply.call)
        if reply.error is None or reply.error.kind != ErrorKind.RATE_LIMITED or wait is None:
            return reply
        time.sleep(min(reply.error.retry_after or wait, BACKOFF_CAP_SECONDS))
        renew_lease(item)
    return reply  # pragma: no cover - the loop always returns


def wait_for_job(
    item: EnrichmentItem,
    finder: Any,
    attempt: ProviderAttempt,
    started: gateway.Reply,
    *,
    api_key: str,
    key: str,
) -> gateway.Reply | None:
    """A job was started (and its price reserved): keep its id on the attempt, then poll it a
    few times. None when it is still running: the item comes back to poll it later."""
    record_attempt(item, attempt, result=SUBMITTED, detail=started.value.detail[:64])
    attempt.result, attempt.detail = SUBMITTED, started.value.detail[:64]
    for wait in POLL_WITHIN_STEP_SECONDS:
        time.sleep(wait)
        renew_lease(item)
        reply = poll_job(item, finder, attempt, api_key=api_key, key=key)
        if reply is not None:
            return reply
    return None


def poll_job(
    item: EnrichmentItem, finder: Any, attempt: ProviderAttempt, *, api_key: str, key: str
) -> gateway.Reply | None:
    """Ask how a started job is doing (free: its price was reserved, under `key`, when it
    started)."""
    reply = gateway.Reply(provider=finder.slug, workspace_id=item.workspace_id, key=key)
    try:
        result = gateway.call(
            finder.slug,
            finder.poll(attempt.detail),
            workspace_id=item.workspace_id,
            headers=finder.auth_headers(api_key),
            params=finder.auth_params(api_key),
        )
        reply.call = result.call
        finding = finder.read_poll(result.status, result.body, result.retry_after)
    except ProviderError as error:
        if error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
            return None  # ask again later: the job itself is still there
        reply.error = error
        return reply
    if finding.pending:
        return None
    reply.value = finding
    reply.cost = price(finder.slug)(finding)
    return reply


def record_attempt(item: EnrichmentItem, attempt: ProviderAttempt, **values) -> None:
    """Write an attempt's result while the item is still ours: one UPDATE, conditional on the
    item's claim (LeaseLost, and nothing written, when another worker holds it now)."""
    claimed = EnrichmentItem.objects.unscoped().filter(
        pk=item.pk, lease_token=item.lease_token, status=Item.SUBMITTED
    )
    updated = (
        ProviderAttempt.objects.for_workspace(item.workspace_id)
        .filter(pk=attempt.pk, item_id=item.pk)
        .filter(Exists(claimed))
        .update(finished_at=timezone.now(), **values)
    )
    if not updated:
        raise claims.LeaseLost(item.pk)


def finding_values(finding: Finding) -> dict:
    """A vendor's finding as an attempt row and the cache keep it (facts as JSON)."""
    return {
        "result": "found" if finding.found else "not_found",
        "value": json.dumps(finding.facts) if finding.facts else finding.email,
        "verified": finding.verified,
        "signal": finding.signal,
        "detail": finding.detail[:64],
    }


def reply_values(reply: gateway.Reply) -> dict:
    """What an attempt row keeps of a reply: its finding, or the kind of its failure."""
    if reply.error is not None:
        return {"result": str(reply.error.kind)}
    return finding_values(reply.value)


def record_reply(item: EnrichmentItem, attempt: ProviderAttempt, reply: gateway.Reply) -> None:
    """The money, then the attempt's result (only while the item is still ours). A worker that
    dies between the two leaves the attempt open: it is asked again under a new ledger key."""
    values = {"call_id": reply.call.pk if reply.call else None, "cost": reply.cost}
    values.update(reply_values(reply))
    # The call was made: what the vendor charges is charged even if the item was taken over or
    # cancelled meanwhile (a held reservation would otherwise count against the cap forever).
    with transaction.atomic():
        gateway.settle(reply)
        if reply.cost:
            charge_jobs([item], reply.cost)
    record_attempt(item, attempt, **values)
