"""Email waterfall: ask providers in turn for a person's work email, stop at the first verified
address, keep every candidate as provenance.

One item (one prospect) is worked on by one worker at a time: it is claimed with a conditional
UPDATE that writes a lease token, and every later write is conditional on that token. Each
provider is asked at most once per item and job: its attempt row (unique key
`{job}:{item}:email:{provider}`) keeps the answer, and the ledger reservation uses the same key,
so a replayed step neither pays twice nor asks again a provider that already answered. Money
and limits are the gateway's: an open breaker skips a provider, the daily cap pauses the job
until midnight (Europe/Paris) and it resumes by itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import credentials
from ..engine import breaker, claims, gateway, ledger, limits, outcomes, retry
from ..engine.claims import LeaseLost
from ..engine.jobs import charge_jobs
from ..models import EnrichmentItem, EnrichmentJob, ProviderAttempt, attempt_key
from ..providers.base import ErrorKind, ProviderError
from ..providers.finders import DEFAULT_EMAIL_ORDER, EMAIL_FINDERS, Finding, Person
from ..providers.registry import get_provider
from . import waterfall_apply

log = logging.getLogger(__name__)

PIPELINE = "waterfall_email"
FIELD = "email"
Item = EnrichmentItem.Status
# Answers that settle a provider for this item and job: it is not asked again.
FINAL_RESULTS = {"found", "not_found", ErrorKind.PERMANENT, "not_asked"}
# 429: wait 1 s, 2 s, 4 s (or what Retry-After says, within a cap), then the next provider.
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
BACKOFF_CAP_SECONDS = 8.0


@dataclass(frozen=True)
class Candidate:
    """One provider's finding about the item's person."""

    provider: str
    finding: Finding
    call_id: int | None


def lease_seconds() -> float:
    return float(settings.ENRICHMENT_LEASE_SECONDS)


# --- Claiming --------------------------------------------------------------------------------


def claim_item(item_id: int) -> EnrichmentItem | None:
    """Take a due item (or one whose worker's lease ran out); None if it is not ours to do."""
    now = timezone.now()
    token = claims.new_token()
    taken = (
        EnrichmentItem.objects.unscoped()
        .filter(
            pk=item_id,
            provider=PIPELINE,
            status__in=(Item.PENDING, Item.SUBMITTED),
            next_attempt_at__lte=now,
        )
        .update(
            status=Item.SUBMITTED,
            next_attempt_at=now + timezone.timedelta(seconds=lease_seconds()),
            lease_token=token,
            updated_at=now,
        )
    )
    if not taken:
        return None
    return (
        EnrichmentItem.objects.unscoped().select_related("prospect__company", "job").get(pk=item_id)
    )


def renew_lease(item: EnrichmentItem) -> None:
    """Keep the item for another lease before a call (LeaseLost if someone took it over)."""
    item.next_attempt_at = timezone.now() + timezone.timedelta(seconds=lease_seconds())
    claims.write_claimed(item, statuses=(Item.SUBMITTED,), next_attempt_at=item.next_attempt_at)


# --- The steps -------------------------------------------------------------------------------


def process_item(item_id: int) -> str:
    """Run the waterfall for one item. Returns a short status word for the task log."""
    item = claim_item(item_id)
    if item is None:
        return "not-due"
    try:
        return run_item(item)
    except LeaseLost:
        log.warning("waterfall item %s: lease lost to another worker, nothing written", item_id)
        return "lease-lost"


def provider_order(item: EnrichmentItem) -> list[str]:
    """The job's own order when it has one, else the default; only vendors that find emails."""
    order = item.job.providers if item.job and item.job.providers else DEFAULT_EMAIL_ORDER
    return [slug for slug in order if slug in EMAIL_FINDERS]


def person_of(item: EnrichmentItem) -> Person:
    prospect = item.prospect
    company = prospect.company
    return Person(
        first_name=prospect.first_name,
        last_name=prospect.last_name,
        domain=company.domain if company else "",
        company=company.name if company else "",
        linkedin_url=prospect.linkedin_url,
    )


def run_item(item: EnrichmentItem) -> str:
    """Ask each provider in turn; then apply what was found, retry, wait or pause."""
    person = person_of(item)
    candidates: list[Candidate] = []
    unresolved: list[tuple[str, ProviderError]] = []
    asked = 0
    for provider in provider_order(item):
        attempt = attempt_for(item, provider)
        if attempt.result in FINAL_RESULTS:
            asked += 1
            if attempt.result == "found":
                candidates.append(candidate_of(attempt))
                if attempt.verified:
                    break
            continue
        if not EMAIL_FINDERS[provider].can_ask(person):
            record_attempt(item, attempt, result="not_asked")
            asked += 1
            continue
        api_key = credentials.get_api_key(item.workspace_id, provider)
        if api_key is None:
            continue
        asked += 1
        renew_lease(item)
        # A new key only when an earlier try of this attempt was settled (a passing failure).
        key = ledger.open_key(item.workspace_id, attempt.idempotency_key)
        try:
            reply = ask_with_backoff(item, provider, person, api_key=api_key, key=key)
        except breaker.BreakerOpen:
            # The vendor is down for everyone: the next one is asked, and what was held for
            # this call (it opened while the call waited for its turn) is given back.
            ledger.release_held(item.workspace_id, key=key)
            continue
        except ledger.DailyCapReached as stop:
            return pause(item, outcomes.Outcome.DAILY_CAP, resume_at=stop.resume_at)
        except ledger.InsufficientCredits:
            resume_at = timezone.now() + timezone.timedelta(minutes=15)
            return pause(item, outcomes.Outcome.NO_CREDITS, resume_at=resume_at)
        except limits.SlotUnavailable:
            return defer(item, seconds=1.0)
        record_reply(item, attempt, reply)
        if reply.error is not None:
            if reply.error.kind == ErrorKind.AUTH:
                credentials.mark_key_refused(item.workspace_id, provider)
            elif reply.error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
                unresolved.append((provider, reply.error))
            continue
        if reply.value.found:
            candidates.append(Candidate(provider, reply.value, reply.call.pk))
            if reply.value.verified:
                break
    return finish(item, candidates, unresolved=unresolved, asked=asked)


def attempt_for(item: EnrichmentItem, provider: str) -> ProviderAttempt:
    key = attempt_key(item, FIELD, provider)
    attempt, _created = ProviderAttempt.objects.for_workspace(item.workspace_id).get_or_create(
        idempotency_key=key,
        defaults={
            "workspace_id": item.workspace_id,
            "item": item,
            "provider": provider,
            "field": FIELD,
        },
    )
    return attempt


def candidate_of(attempt: ProviderAttempt) -> Candidate:
    finding = Finding(
        email=attempt.value, verified=attempt.verified, signal=attempt.signal, detail=attempt.detail
    )
    return Candidate(attempt.provider, finding, attempt.call_id)


def ask_with_backoff(
    item: EnrichmentItem, provider: str, person: Person, *, api_key: str, key: str
) -> gateway.Reply:
    """Ask once, and again after 1, 2 and 4 s while the vendor answers 429."""
    finder = EMAIL_FINDERS[provider]
    spec = get_provider(provider)
    for wait in (*BACKOFF_SECONDS, None):
        reply = gateway.ask(
            provider,
            finder.build(person),
            workspace_id=item.workspace_id,
            key=key,
            read=finder.read,
            cost_of=lambda finding: (
                spec.cost_per_call + (spec.cost_per_success if finding.found else 0)
            ),
            headers=finder.auth_headers(api_key),
            params=finder.auth_params(api_key),
        )
        if reply.error is None or reply.error.kind != ErrorKind.RATE_LIMITED or wait is None:
            return reply
        time.sleep(min(reply.error.retry_after or wait, BACKOFF_CAP_SECONDS))
        renew_lease(item)
    return reply  # pragma: no cover - the loop always returns


def record_attempt(item: EnrichmentItem, attempt: ProviderAttempt, **values) -> None:
    """Write an attempt's result while the item is still ours."""
    with transaction.atomic():
        claims.write_claimed(item, statuses=(Item.SUBMITTED,), updated_at=timezone.now())
        ProviderAttempt.objects.for_workspace(item.workspace_id).filter(pk=attempt.pk).update(
            finished_at=timezone.now(), **values
        )


def record_reply(item: EnrichmentItem, attempt: ProviderAttempt, reply: gateway.Reply) -> None:
    """The attempt's result and the money, together: both are written or neither is."""
    values = {"call_id": reply.call.pk if reply.call else None, "cost": reply.cost}
    if reply.error is not None:
        values["result"] = str(reply.error.kind)
    else:
        finding: Finding = reply.value
        values.update(
            result="found" if finding.found else "not_found",
            value=finding.email,
            verified=finding.verified,
            signal=finding.signal,
            detail=finding.detail[:64],
        )
    with transaction.atomic():
        record_attempt(item, attempt, **values)
        gateway.settle(reply)
        if reply.cost:
            charge_jobs([item], reply.cost)


# --- Endings ---------------------------------------------------------------------------------


def finish(
    item: EnrichmentItem,
    candidates: list[Candidate],
    *,
    unresolved: list[tuple[str, ProviderError]],
    asked: int,
) -> str:
    verified = any(c.finding.verified for c in candidates)
    if not verified and unresolved:
        # A vendor that failed for a passing reason may still know: try again later (only it,
        # since the others' answers are kept), then the item needs review.
        provider, error = unresolved[-1]
        code, detail = outcomes.of_error(error)
        with transaction.atomic():
            claims.write_claimed(item, statuses=(Item.SUBMITTED,), updated_at=timezone.now())
            retry.fail_items(
                item.workspace_id,
                [item],
                code,
                provider=provider,
                detail=detail,
                now=timezone.now(),
            )
        return "retry"
    if asked == 0:
        return park_without_key(item)
    waterfall_apply.apply_candidates(item, candidates)
    return "verified" if verified else "not-found" if not candidates else "unverified"


def park_without_key(item: EnrichmentItem) -> str:
    """No provider of the waterfall has a usable key: the item waits, visibly, for one."""
    claims.write_claimed(
        item,
        statuses=(Item.SUBMITTED,),
        status=Item.WAITING_KEY,
        outcome=outcomes.Outcome.NO_PROVIDER,
        outcome_detail="",
        updated_at=timezone.now(),
    )
    return "no-key"


def defer(item: EnrichmentItem, *, seconds: float) -> str:
    """Every slot is busy: back in the queue for a moment (not the item's fault)."""
    claims.write_claimed(
        item,
        statuses=(Item.SUBMITTED,),
        status=Item.PENDING,
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=seconds),
    )
    return "deferred"


def pause(item: EnrichmentItem, code: str, *, resume_at) -> str:
    """The workspace's money says stop: its running waterfall jobs pause until `resume_at`
    and every queued item waits for it; nothing is lost, everything resumes by itself."""
    local = timezone.localtime(resume_at).strftime("%d/%m/%Y %H:%M")
    now = timezone.now()
    with transaction.atomic():
        claims.write_claimed(
            item,
            statuses=(Item.SUBMITTED,),
            status=Item.PENDING,
            next_attempt_at=resume_at,
            outcome=code,
            outcome_detail=local,
            updated_at=now,
        )
        EnrichmentItem.objects.for_workspace(item.workspace_id).filter(
            provider=PIPELINE, status=Item.PENDING, next_attempt_at__lt=resume_at
        ).update(next_attempt_at=resume_at, outcome=code, outcome_detail=local, updated_at=now)
        EnrichmentJob.objects.for_workspace(item.workspace_id).filter(
            kind=EnrichmentJob.Kind.EMAIL,
            status__in=(EnrichmentJob.Status.PENDING, EnrichmentJob.Status.RUNNING),
        ).update(status=EnrichmentJob.Status.PAUSED, pause_reason=code, paused_until=resume_at)
    log.info("workspace %s: waterfall paused until %s (%s)", item.workspace_id, local, code)
    return "paused"
