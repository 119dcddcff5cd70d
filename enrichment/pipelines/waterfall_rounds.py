"""The email waterfall for several items at once, in rounds: each round asks every item still
looking its next provider, and writes what the round did in one transaction of a few
statements (the calls, the ledger's closings, the attempts, the jobs' spend), instead of a
dozen statements per call. Each question is still reserved before it is sent (one
`reserve_many` per round), asked alone through the gateway (breaker, slot, rate, 429 backoff),
and never inside a transaction.

The items are claimed together under one lease token; every write of the round holds them
first (`claims.hold_many`, which renews their lease), and an item taken over by another worker
meanwhile gets nothing more written, as with one item alone. The money of a call made is
settled however that ends; a round that meets an unexpected error writes what it did (and
gives back the holds of the questions it never sent) before the error propagates. How each
item ends is `waterfall_runs`'s. Items this shape does not cover (the company waterfall,
in-house discovery as a step) run alone, through `waterfall.run_item`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import credentials
from ..engine import breaker, cache, claims, ledger, ledger_many, limits, outcomes
from ..models import (
    CreditEntry,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
    ProviderCall,
    attempt_key,
)
from ..providers.base import ErrorKind
from ..providers.finders import DISCOVERY
from ..providers.registry import get_provider
from . import waterfall
from .waterfall_attempts import Candidate, candidate_of
from .waterfall_runs import Run, finish
from .waterfall_steps import ask_with_backoff, finding_values, lease_seconds, reply_values

log = logging.getLogger(__name__)

Item = EnrichmentItem.Status
ATTEMPT_VALUES = ["result", "value", "verified", "signal", "detail", "from_cache", "cost"]


@dataclass
class Question:
    run: Run
    provider: str
    key: str
    api_key: str


def in_rounds(item: EnrichmentItem) -> bool:
    """The email waterfall over vendors' synchronous APIs (not in-house discovery)."""
    if item.provider != waterfall.PIPELINE:
        return False
    return DISCOVERY not in waterfall.provider_order(item, waterfall.PLANS[item.provider])


class Rounds:
    """Several claimed items of one workspace, run in rounds."""

    def __init__(self, workspace_id: int, items: list[EnrichmentItem]) -> None:
        self.workspace_id = workspace_id
        self.plan = waterfall.PLANS[waterfall.PIPELINE]
        self.token = items[0].lease_token
        self.runs = []
        for item in items:
            order = waterfall.provider_order(item, self.plan)
            self.runs.append(Run(item, self.plan.query_of(item), order))
        self.keys = credentials.KeyRing(workspace_id)
        self.attempts: dict[str, ProviderAttempt] = {
            attempt.idempotency_key: attempt
            for attempt in ProviderAttempt.objects.for_workspace(workspace_id).filter(
                item_id__in=[item.pk for item in items], field=self.plan.field
            )
        }
        providers = sorted({p for run in self.runs for p in run.order})
        self.cached = cache.lookup_for_many(
            workspace_id, providers, self.plan.field, [run.query for run in self.runs]
        )
        self.bought: dict[int, dict[str, dict]] = {}
        # Their lease runs from the claim (items run alone may have gone first): renewed
        # before the first call if a quarter of it has passed since.
        self.renewed_at = min(item.next_attempt_at for item in items) - dt.timedelta(
            seconds=lease_seconds()
        )
        self.writes: dict[str, ProviderAttempt] = {}  # attempt rows to write with the round

    # --- Choosing each item's next question ------------------------------------------------

    def attempt(self, run: Run, provider: str) -> ProviderAttempt:
        key = attempt_key(run.item, self.plan.field, provider)
        attempt = self.attempts.get(key)
        if attempt is None:
            attempt = ProviderAttempt(
                workspace_id=self.workspace_id,
                item=run.item,
                provider=provider,
                field=self.plan.field,
                idempotency_key=key,
            )
            self.attempts[key] = attempt
        return attempt

    def write(self, attempt: ProviderAttempt, **values) -> None:
        for name, value in values.items():
            setattr(attempt, name, value)
        attempt.finished_at = timezone.now()
        self.writes[attempt.idempotency_key] = attempt

    def found(self, run: Run, candidate: Candidate) -> None:
        run.candidates.append(candidate)
        if candidate.finding.verified:
            run.done = True

    def next_question(self, run: Run) -> Question | None:
        """Settle what needs no call (answers kept from an earlier run, from the cache, a
        vendor that cannot take the question) until a vendor must be asked."""
        while run.step < len(run.order) and not run.done:
            provider = run.order[run.step]
            run.step += 1
            finder = self.plan.finders[provider]
            attempt = self.attempt(run, provider)
            if attempt.result in waterfall.FINAL_RESULTS:
                run.asked += 1
                if attempt.result == "found":
                    self.found(run, candidate_of(attempt))
                continue
            if not finder.can_ask(run.query):
                self.write(attempt, result="not_asked")
                run.asked += 1
                continue
            cached = self.cached.get((cache.fingerprint(run.query), provider))
            if cached is not None:
                run.asked += 1
                self.write(
                    attempt,
                    **{name: getattr(cached, name) for name in ATTEMPT_VALUES[:5]},
                    cost=0,
                    from_cache=True,
                )
                if cached.result == "found":
                    self.found(run, candidate_of(attempt))
                continue
            api_key = self.keys.get(provider)
            if api_key is None:
                continue
            run.asked += 1
            # A new key only when an earlier try of this attempt was settled.
            key = attempt.idempotency_key
            if attempt.pk is not None:
                key = ledger.open_key(self.workspace_id, key)
            return Question(run, provider, key, api_key)
        run.done = True
        return None

    # --- The rounds --------------------------------------------------------------------------

    def run(self) -> dict[int, str]:
        while True:
            questions = [q for run in self.runs if run.looking for q in [self.next_question(run)]]
            questions = [q for q in questions if q is not None]
            if not questions and not self.writes:
                break
            self.ask_round([q for q in questions if not q.run.lost])
            if not questions:
                break
        cache.remember_for_many(
            self.workspace_id,
            self.plan.field,
            [(run.query, self.bought.get(run.item.pk, {})) for run in self.runs],
        )
        return finish(self.workspace_id, self.token, self.runs)

    def ask_round(self, questions: list[Question]) -> None:
        self.reopen_closed_keys(questions)
        reserved = ledger_many.reserve_many(
            self.workspace_id,
            [(q.key, get_provider(q.provider).max_cost, q.provider) for q in questions],
        )
        # A key an earlier try of the question holds at another price (prices changed
        # meanwhile): that reservation stands, as a batch's does (`dropcontact.submit`).
        refused = {
            key: refusal
            for key, refusal in reserved.refused.items()
            if not isinstance(refusal, ledger.IdempotencyConflict)
        }
        replies, releases, calls = [], [], []
        for index, question in enumerate(questions):
            try:
                reply = self.ask(question, refused.get(question.key), releases, calls)
            except Exception:
                # What the round did is written before this propagates (the calls answered,
                # their money, the attempts) and the questions it never sent give their hold
                # back. This one keeps its hold: its call may have gone out, and asked again
                # (after the lease) it is paid once, under the same key.
                unsent = [q.key for q in questions[index + 1 :] if q.key not in refused]
                self.write_round(replies, [*releases, *unsent], calls)
                raise
            if reply is not None:
                replies.append((question, reply))
        self.write_round(replies, releases, calls)
        for question, reply in replies:
            self.read_reply(question, reply)

    def ask(
        self,
        question: Question,
        refusal: ledger.LedgerError | None,
        releases: list[str],
        calls: list[ProviderCall],
    ):
        """Ask one question of the round; None when it was not asked (its key in `releases`
        when its hold is to be given back)."""
        self.keep_lease()
        run = question.run
        if run.lost:
            releases.append(question.key)
            return None
        if refusal is not None:
            run.stop = self.refusal_stop(refusal)
            return None
        finder = self.plan.finders[question.provider]
        try:
            return ask_with_backoff(
                run.item,
                finder,
                run.query,
                api_key=question.api_key,
                key=question.key,
                unsaved_calls=calls,
            )
        except breaker.BreakerOpen:
            # Down for everyone: the next vendor is asked, the hold given back.
            releases.append(question.key)
            self.write(self.attempt(run, question.provider), result=waterfall.SKIPPED, cost=0)
        except limits.SlotUnavailable:
            run.stop = ("defer", 1.0)  # the hold stays, under the same key, for the retry
        except claims.LeaseLost:
            run.lost = True
            releases.append(question.key)
        return None

    def reopen_closed_keys(self, questions: list[Question]) -> None:
        """A question whose key was already closed (a worker that lost the item settled it
        without writing the attempt) is asked under the next open key, as `ledger.open_key`
        gives it: one query for the round."""
        closed = set(
            CreditEntry.objects.for_workspace(self.workspace_id)
            .filter(
                kind__in=[CreditEntry.Kind.SETTLE, CreditEntry.Kind.RELEASE],
                idempotency_key__in=[q.key for q in questions],
            )
            .values_list("idempotency_key", flat=True)
        )
        for question in questions:
            if question.key in closed:
                question.key = ledger.open_key(self.workspace_id, question.key)

    def keep_lease(self) -> None:
        """A long round (slow vendors) keeps its items: their lease is renewed once a quarter
        of it has passed, before the next call."""
        now = timezone.now()
        if now - self.renewed_at < dt.timedelta(seconds=lease_seconds() / 4):
            return
        self.hold(now)

    def hold(self, now: dt.datetime) -> set[int]:
        """Renew the lease of the items still ours; those taken over are lost."""
        live = [run for run in self.runs if not run.lost]
        until = now + dt.timedelta(seconds=lease_seconds())
        held = claims.hold_many(
            EnrichmentItem,
            [run.item.pk for run in live],
            self.token,
            statuses=(Item.SUBMITTED,),
            next_attempt_at=until,
        )
        for run in live:
            run.lost = run.item.pk not in held
            run.item.next_attempt_at = until
        self.renewed_at = now
        return held

    def refusal_stop(self, refusal: ledger.LedgerError) -> tuple:
        if isinstance(refusal, ledger.DailyCapReached):
            return ("pause", outcomes.Outcome.DAILY_CAP, refusal.resume_at)
        if isinstance(refusal, ledger.InsufficientCredits):
            resume_at = timezone.now() + dt.timedelta(minutes=15)
            return ("pause", outcomes.Outcome.NO_CREDITS, resume_at)
        log.warning("waterfall: reservation refused: %s", refusal)
        return ("defer", 30.0)

    def write_round(self, replies: list, releases: list[str], calls: list[ProviderCall]) -> None:
        """What the round did, in one transaction: the items held (their lease renewed), the
        calls, the money (settled even for an item lost meanwhile: the call was made), the
        attempts of the items still held, the jobs' spend."""
        now = timezone.now()
        for question, reply in replies:
            self.write(
                self.attempt(question.run, question.provider),
                call=reply.call,
                cost=reply.cost,
                **reply_values(reply),
            )
        with transaction.atomic():
            held = self.hold(now)
            if calls:
                ProviderCall.objects.bulk_create(calls)
            closings = [(q.key, r.cost if r.cost > 0 else None) for q, r in replies]
            problems = ledger_many.close_many(
                self.workspace_id, [*closings, *((key, None) for key in releases)], savepoint=False
            )
            for key, problem in problems.items():
                log.warning("waterfall: reservation %s not closed: %s", key, problem)
            self.charge_jobs(replies)
            rows = [a for a in self.writes.values() if a.item_id in held]
            for attempt in rows:
                attempt.call_id = attempt.call.pk if attempt.call else attempt.call_id
            if rows:
                ProviderAttempt.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["idempotency_key"],
                    update_fields=[*ATTEMPT_VALUES, "call", "finished_at"],
                )
        self.writes = {}

    def charge_jobs(self, replies: list) -> None:
        spent: dict[int, object] = {}
        for question, reply in replies:
            job_id = question.run.item.job_id
            if job_id and reply.cost:
                spent[job_id] = spent.get(job_id, 0) + reply.cost
        for job_id, total in spent.items():
            EnrichmentJob.objects.unscoped().filter(pk=job_id).update(
                spent_credits=F("spent_credits") + total
            )

    def read_reply(self, question: Question, reply) -> None:
        run = question.run
        if run.lost:
            return
        if reply.value is not None and reply.error is None:
            self.bought.setdefault(run.item.pk, {})[question.provider] = finding_values(reply.value)
        if reply.error is not None:
            if reply.error.kind == ErrorKind.AUTH:
                credentials.mark_key_refused(self.workspace_id, question.provider)
                self.keys.forget(question.provider)  # not used again in the next rounds
            elif reply.error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
                run.unresolved.append((question.provider, reply.error))
            return
        if reply.value.found:
            self.found(run, Candidate(question.provider, reply.value, reply.call.pk))


def process_items(item_ids: list[int]) -> dict[int, str]:
    """Run the waterfall for several items (claimed together first: those not due, or held by
    another worker, are "not-due"); a short status word per item for the task log."""
    results = dict.fromkeys(item_ids, "not-due")
    together: dict[int, list[EnrichmentItem]] = {}
    for item in waterfall.claim_items(item_ids):
        if in_rounds(item):
            together.setdefault(item.workspace_id, []).append(item)
        else:
            results[item.pk] = waterfall.run_claimed(item)
    for workspace_id, items in together.items():
        results.update(Rounds(workspace_id, items).run())
    return results
