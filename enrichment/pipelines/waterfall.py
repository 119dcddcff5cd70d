"""Waterfalls: ask providers in turn, stop at the first acceptable answer, keep every candidate
as provenance. The email waterfall looks for a person's verified work email (Prospeo ->
LeadMagic -> FindyMail); the company waterfall for the facts of their company (AI Ark ->
Firecrawl, whose extract answers later: its job id waits on the attempt, the item comes back to
poll it, and it is paid once).

One item (one prospect) is worked on by one worker at a time: it is claimed with a conditional
UPDATE that writes a lease token, and every later write is conditional on that token. Each
provider is asked at most once per item and job: its attempt row (unique key
`{job}:{item}:{field}:{provider}`) keeps the answer, and the ledger reservation uses the same key,
so a replayed step neither pays twice nor asks again a provider that already answered. Money
and limits are the gateway's: an open breaker skips a provider, the daily cap pauses the job
until midnight (Europe/Paris) and it resumes by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import credentials
from ..engine import breaker, claims, ledger, limits, outcomes, retry
from ..engine.claims import LeaseLost
from ..engine.jobs import pause_queued_work
from ..models import EnrichmentItem, EnrichmentJob
from ..providers.base import ErrorKind, ProviderError
from ..providers.company_finders import COMPANY_FINDERS, DEFAULT_COMPANY_ORDER, CompanyQuery
from ..providers.finders import DEFAULT_EMAIL_ORDER, DISCOVERY, EMAIL_FINDERS, Person
from . import waterfall_apply
from .waterfall_attempts import (
    AnswerCache,
    AttemptBook,
    Candidate,
    candidate_of,
    use_cached,
)
from .waterfall_discovery import run_discovery_step
from .waterfall_steps import (
    SUBMITTED,
    ask_with_backoff,
    lease_seconds,
    poll_job,
    record_attempt,
    record_reply,
    renew_lease,
    wait_for_job,
)

log = logging.getLogger(__name__)

PIPELINE = "waterfall_email"
COMPANY_PIPELINE = "waterfall_company"
Item = EnrichmentItem.Status
# Answers that settle a provider for this item and job: it is not asked again.
FINAL_RESULTS = {"found", "not_found", ErrorKind.PERMANENT, "not_asked"}
# Not asked because its breaker was open (the vendor failing for everyone), the next one was:
# not final, a later run of the item (a retry) asks it again.
SKIPPED = "skipped"
# A job still running after the step's polls: the item comes back for it this much later.
POLL_LATER_SECONDS = 30.0


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


def company_of(item: EnrichmentItem) -> CompanyQuery:
    company = item.prospect.company
    if company is None:
        return CompanyQuery()
    return CompanyQuery(name=company.name, domain=company.domain, website=company.website)


@dataclass(frozen=True)
class Plan:
    """What one waterfall asks, of whom, and what it does with the answers."""

    field: str
    finders: Mapping[str, Any]
    default_order: tuple[str, ...]
    query_of: Callable[[EnrichmentItem], Any]
    apply: Callable[[EnrichmentItem, list[Candidate]], None]


PLANS: dict[str, Plan] = {
    PIPELINE: Plan(
        "email", EMAIL_FINDERS, DEFAULT_EMAIL_ORDER, person_of, waterfall_apply.apply_candidates
    ),
    COMPANY_PIPELINE: Plan(
        "company",
        COMPANY_FINDERS,
        DEFAULT_COMPANY_ORDER,
        company_of,
        waterfall_apply.apply_company_facts,
    ),
}


# --- Claiming --------------------------------------------------------------------------------


def claim_items(item_ids: list[int]) -> list[EnrichmentItem]:
    """Take the due items among `item_ids` (or those whose worker's lease ran out), together
    under one lease token; the others are not ours to do."""
    now = timezone.now()
    token = claims.new_token()
    EnrichmentItem.objects.unscoped().filter(
        pk__in=list(item_ids),
        provider__in=list(PLANS),
        status__in=(Item.PENDING, Item.SUBMITTED),
        next_attempt_at__lte=now,
    ).update(
        status=Item.SUBMITTED,
        next_attempt_at=now + timezone.timedelta(seconds=lease_seconds()),
        lease_token=token,
        updated_at=now,
    )
    return list(
        EnrichmentItem.objects.unscoped()
        .select_related("prospect__company", "job", "workspace")
        .filter(pk__in=list(item_ids), lease_token=token)
        .order_by("pk")
    )


def claim_item(item_id: int) -> EnrichmentItem | None:
    """Take one due item; None if it is not ours to do."""
    claimed = claim_items([item_id])
    return claimed[0] if claimed else None


# --- The steps -------------------------------------------------------------------------------


def process_item(item_id: int) -> str:
    """Run the waterfall for one item. Returns a short status word for the task log."""
    from .waterfall_rounds import process_items  # the rounds build on this module

    return process_items([item_id])[item_id]


def run_claimed(item: EnrichmentItem) -> str:
    """Run the waterfall for one claimed item alone."""
    try:
        return run_item(item)
    except LeaseLost:
        log.warning("waterfall item %s: lease lost to another worker, nothing written", item.pk)
        return "lease-lost"


def provider_order(item: EnrichmentItem, plan: Plan) -> list[str]:
    """The job's own order (its providers of this waterfall) when it has one, else the
    default: in-house discovery first when the workspace says so."""
    chosen = [p for p in (item.job.providers if item.job else []) if p in plan.finders]
    if chosen:
        return chosen
    if plan.field == "email" and item.workspace.discovery_first:
        return [DISCOVERY, *plan.default_order]
    return list(plan.default_order)


def run_item(item: EnrichmentItem) -> str:
    """Ask each provider in turn; then apply what was found, retry, wait or pause. What was
    bought is kept in the cache however the run ends."""
    plan = PLANS[item.provider]
    query = plan.query_of(item)
    order = provider_order(item, plan)
    answers = AnswerCache(item, plan.field, query, [p for p in order if p != DISCOVERY])
    try:
        return ask_in_turn(item, plan, query, order, answers)
    finally:
        answers.save()


def ask_in_turn(
    item: EnrichmentItem, plan: Plan, query: Any, order: list[str], answers: AnswerCache
) -> str:
    candidates: list[Candidate] = []
    unresolved: list[tuple[str, ProviderError]] = []
    asked = 0
    keys = credentials.KeyRing(item.workspace_id)
    attempts = AttemptBook(item, plan.field)
    for provider in order:
        finder = plan.finders[provider]
        attempt = attempts.get(provider)
        if attempt.result in FINAL_RESULTS:
            asked += 1
            if attempt.result == "found":
                candidates.append(candidate_of(attempt))
                if attempt.verified:
                    break
            continue
        if attempt.result != SUBMITTED and not finder.can_ask(query):
            record_attempt(item, attempt, result="not_asked")
            asked += 1
            continue
        if provider == DISCOVERY:
            asked += 1
            finding = run_discovery_step(item, attempt, query)
            if finding is not None and finding.found:
                candidates.append(Candidate(provider, finding, None))
                if finding.verified:
                    break
            continue
        cached = None
        if attempt.result != SUBMITTED:
            cached = answers.get(provider)
        if cached is not None:
            asked += 1
            candidate = use_cached(item, attempt, cached)
            if candidate is not None:
                candidates.append(candidate)
                if candidate.finding.verified:
                    break
            continue
        api_key = keys.get(provider)
        if api_key is None:
            continue
        asked += 1
        renew_lease(item)
        # A new key only when an earlier try of this attempt was settled (a passing failure).
        key = (
            attempt.idempotency_key
            if attempts.is_new(attempt)
            else ledger.open_key(item.workspace_id, attempt.idempotency_key)
        )
        try:
            if attempt.result == SUBMITTED:
                reply = poll_job(item, finder, attempt, api_key=api_key, key=key)
            else:
                reply = ask_with_backoff(item, finder, query, api_key=api_key, key=key)
                if reply.error is None and reply.value.pending:
                    reply = wait_for_job(item, finder, attempt, reply, api_key=api_key, key=key)
        except breaker.BreakerOpen:
            # The vendor is down for everyone: the next one is asked, and what was held for
            # this call (it opened while the call waited for its turn) is given back.
            ledger.release_held(item.workspace_id, key=key)
            if attempt.result != SUBMITTED:
                record_attempt(item, attempt, result=SKIPPED, cost=0)
            continue
        except ledger.DailyCapReached as stop:
            return pause(item, outcomes.Outcome.DAILY_CAP, resume_at=stop.resume_at)
        except ledger.InsufficientCredits:
            resume_at = timezone.now() + timezone.timedelta(minutes=15)
            return pause(item, outcomes.Outcome.NO_CREDITS, resume_at=resume_at)
        except limits.SlotUnavailable:
            return defer(item, seconds=1.0)
        if reply is None:
            return defer(item, seconds=POLL_LATER_SECONDS)  # the job is still running
        record_reply(item, attempt, reply)
        answers.remember(reply)
        if reply.error is not None:
            if reply.error.kind == ErrorKind.AUTH:
                credentials.mark_key_refused(item.workspace_id, provider)
            elif reply.error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
                unresolved.append((provider, reply.error))
            continue
        if reply.value.found:
            candidates.append(
                Candidate(provider, reply.value, reply.call.pk if reply.call else None)
            )
            if reply.value.verified:
                break
    return finish(item, plan, candidates, unresolved=unresolved, asked=asked)


# --- Endings ---------------------------------------------------------------------------------


def finish(
    item: EnrichmentItem,
    plan: Plan,
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
    plan.apply(item, candidates)
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
    with transaction.atomic():
        claims.write_claimed(
            item,
            statuses=(Item.SUBMITTED,),
            status=Item.PENDING,
            next_attempt_at=resume_at,
            outcome=code,
            outcome_detail=local,
            updated_at=timezone.now(),
        )
        pause_queued_work(
            item.workspace_id,
            code,
            resume_at=resume_at,
            providers=PLANS,
            job_kinds=(
                EnrichmentJob.Kind.EMAIL,
                EnrichmentJob.Kind.COMPANY,
                EnrichmentJob.Kind.WATERFALL,
            ),
        )
    log.info("workspace %s: waterfall paused until %s (%s)", item.workspace_id, local, code)
    return "paused"
