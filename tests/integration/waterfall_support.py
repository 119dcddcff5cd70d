"""What the waterfall worker tests share: a keyed workspace, the world imported as prospects,
a job run by real workers until it settles, and the sandbox's calls counted per person."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.db.models import Sum

from enrichment import bulk, credentials, sweeper
from enrichment.engine import ledger
from enrichment.models import (
    CreditEntry,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
    ProviderCall,
)
from prospects import services as prospect_services
from prospects.models import Prospect, Source
from prospects.normalize import normalize_domain

FINDERS = ("prospeo", "leadmagic", "findymail")
KEY = "sandbox-key"
TOP_UP = Decimal("500")


@dataclass
class Imported:
    """One prospect made from a row of the world's import file, with its ground truth."""

    prospect_id: int
    row: dict[str, str]
    truth: dict[str, str]


def reset_breakers() -> None:
    """Breakers live in Redis across processes: each test starts with closed ones."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(*(f"sourcier:breaker:{slug}" for slug in FINDERS))


def key_workspace(workspace) -> None:
    """Keys for the three finders, credit, and no automatic enrichment (the job does it)."""
    workspace.auto_enrich = "none"
    workspace.save()
    for slug in FINDERS:
        credentials.set_api_key(workspace, slug, KEY)
    ledger.top_up(workspace.pk, TOP_UP, key="integration-top-up")


def import_world(workspace, world, count: int) -> list[Imported]:
    """The first `count` importable rows of the world as prospects, in the world's order."""
    imported: list[Imported] = []
    rows = zip(world.prospect_rows(), world.prospect_data(), world.truth_rows(), strict=True)
    for row, data, truth in rows:
        try:
            prospect = prospect_services.create_prospect(workspace, data=data, source=Source.IMPORT)
        except prospect_services.ProspectRejected:
            continue
        imported.append(Imported(prospect.pk, row, truth))
        if len(imported) == count:
            return imported
    pytest.fail(f"the sandbox world has only {len(imported)} importable rows, {count} needed")


def start_job(workspace) -> EnrichmentJob:
    """Estimate and start an email job over every prospect (its items go to the broker)."""
    estimate = bulk.estimate_job(workspace.pk)
    return bulk.start_job(workspace, estimate)


def items_of(job: EnrichmentJob):
    return EnrichmentItem.objects.for_workspace(job.workspace_id).filter(job=job)


def run_until_settled(job: EnrichmentJob, *, timeout: float, workers, sweep_every=2.0) -> float:
    """Play beat (every `sweep_every` s, production's is 5 s) until no item of the job is
    queued or in flight; returns the seconds it took."""
    started = time.monotonic()
    last_sweep = 0.0
    while time.monotonic() - started < timeout:
        if time.monotonic() - last_sweep >= sweep_every:
            sweeper.dispatch_due_work()
            last_sweep = time.monotonic()
        # The worker that settles the last item recounts the job just after: wait for both.
        if not items_of(job).active().exists() and job_finished(job):
            return time.monotonic() - started
        time.sleep(0.2)
    counts = Counter(items_of(job).values_list("status", flat=True))
    pytest.fail(f"job not settled after {timeout:.0f} s: {dict(counts)}\n{workers.logs()}")


def job_finished(job: EnrichmentJob) -> bool:
    return EnrichmentJob.objects.unscoped().filter(pk=job.pk, finished_at__isnull=False).exists()


def answered_calls(sandbox, vendor: str) -> list:
    """The vendor's calls that were answered for the question asked (not its own 429s)."""
    return [c for c in sandbox.calls if c.vendor == vendor and c.outcome != "rate_limited"]


def repeats_per_person(sandbox) -> dict[str, int]:
    """Per vendor, how many calls asked a question already asked (same person, same vendor)."""
    repeats = {}
    for vendor in FINDERS:
        counts = Counter(c.subject for c in answered_calls(sandbox, vendor))
        repeats[vendor] = sum(n - 1 for n in counts.values())
    return repeats


def assert_money_adds_up(job: EnrichmentJob) -> Decimal:
    """One settlement per ledger key, Σ entries = balance, job spend = Σ calls = ledger spend."""
    workspace_id = job.workspace_id
    entries = CreditEntry.objects.for_workspace(workspace_id)
    closes = Counter(
        entries.filter(kind__in=["settle", "release"]).values_list("idempotency_key", flat=True)
    )
    assert not [key for key, n in closes.items() if n > 1], "a reservation was closed twice"
    reserved = set(entries.filter(kind="reserve").values_list("idempotency_key", flat=True))
    assert reserved == set(closes), "a reservation was never closed, or a close has none"
    assert ledger.in_flight(workspace_id) == 0
    total = entries.aggregate(total=Sum("amount"))["total"]
    assert total == ledger.balance(workspace_id)
    spent = ledger.spent_total(workspace_id)
    assert ledger.balance(workspace_id) == TOP_UP - spent
    calls = ProviderCall.objects.for_workspace(workspace_id).aggregate(total=Sum("cost"))["total"]
    job.refresh_from_db()
    assert job.spent_credits == calls == spent
    attempts = ProviderAttempt.objects.for_workspace(workspace_id).aggregate(total=Sum("cost"))
    assert attempts["total"] == spent
    return spent


def assert_counters_exact(job: EnrichmentJob) -> None:
    """Nothing lost: every item done or in review, and the job's counters say so."""
    job.refresh_from_db()
    statuses = Counter(items_of(job).values_list("status", flat=True))
    assert set(statuses) <= {"done", "needs_review"}, statuses
    assert job.total_items == job.done_items + job.failed_items == sum(statuses.values())
    assert (job.done_items, job.failed_items) == (statuses["done"], statuses["needs_review"])
    assert job.status in (
        EnrichmentJob.Status.COMPLETED,
        EnrichmentJob.Status.PARTIALLY_COMPLETED,
    ), job.status


def found_emails(imported: list[Imported], workspace) -> dict[int, Prospect]:
    return Prospect.objects.for_workspace(workspace).in_bulk([i.prospect_id for i in imported])


def check_against_truth(imported, prospects, *, vendors=FINDERS) -> tuple[int, int, list]:
    """(prospects some vendor knows, how many of them got one of its answers, wrong ones).

    An email is wrong when it is none of the vendors' answers for that row; the one exception
    is a row without a website whose company got its domain from another row, so FindyMail
    could be asked after all (the truth is computed on the row alone)."""
    knowable = got = 0
    wrong = []
    for entry in imported:
        prospect = prospects[entry.prospect_id]
        answers = {entry.truth[f"{slug}_email"] for slug in vendors} - {""}
        if answers:
            knowable += 1
            if prospect.email in answers:
                got += 1
                continue
        if not prospect.email:
            continue
        late_domain = not entry.row["Site web"] and prospect.company and prospect.company.domain
        if not (late_domain and prospect.enrichment_source == "findymail"):
            wrong.append((entry.truth["first_name"], entry.truth["last_name"], prospect.email))
    return knowable, got, wrong


def unexplained_misses(imported, prospects, *, vendors=FINDERS) -> list[tuple]:
    """Prospects a vendor knows that got none of its answers, and no reason for it.

    Two reasons are the design's, not faults: the address is another prospect's already (it is
    kept once per workspace), or the prospect's company is one with another row's domain (one
    company per identity: the vendors were asked with that domain, not this row's)."""
    unexplained = []
    for entry in imported:
        prospect = prospects[entry.prospect_id]
        answers = {entry.truth[f"{slug}_email"] for slug in vendors} - {""}
        if not answers or prospect.email in answers:
            continue
        if prospect.verification_reason == Prospect.Reason.ADDRESS_TAKEN:
            continue
        company_domain = prospect.company.domain if prospect.company else ""
        if company_domain != normalize_domain(entry.row["Site web"]):
            continue
        unexplained.append(
            (entry.truth["first_name"], entry.truth["last_name"], prospect.verification_reason)
        )
    return unexplained
