"""What prospects cost the database on their way through the email waterfall.

The benchmark prints the same figure for a whole job under real workers; here one worker's
message of 20 items is run, so the count is exact. The items go in rounds (each asks every
item still looking its next vendor), and what a round did is written in a few statements,
whatever the number of items: the bounds below are per round, not per call.
"""

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment import bulk, waterfall_queue
from enrichment.models import EnrichmentItem, ProviderCall
from enrichment.pipelines import waterfall_rounds
from prospects.models import FieldProvenance, Prospect
from tests.enrichment.test_waterfall import import_world

# Kept in Redis when REDIS_URL is set (the benchmark's setting); in the database here.
LIMITS = ("providerbreaker", "providerlease", "providerratewindow")
ROUNDS = 3  # Prospeo, LeadMagic, FindyMail
# 20 items and their 30 calls: 1,382 queries asked one item at a time before the rounds (33
# per call and 21 per item allowed); about 52 now, limits aside.
PER_ITEM = 4


def _table(sql: str) -> str:
    words = sql.split('"')
    return f"{sql.split()[0]} {words[1] if len(words) > 1 else ''}"


def test_items_run_together_cost_a_few_statements_per_round(email_ws, world):
    import_world(email_ws, world, limit=20)
    bulk.start_job(email_ws, bulk.estimate_job(email_ws.pk))
    ids = list(EnrichmentItem.objects.for_workspace(email_ws).values_list("pk", flat=True))
    waterfall_queue.start_items(ids)

    with CaptureQueriesContext(connection) as queries:
        results = waterfall_rounds.process_items(ids)

    assert set(results.values()) <= {"verified", "unverified", "not-found"}
    assert len(results) == 20
    calls = ProviderCall.objects.for_workspace(email_ws).count()
    assert calls > len(ids)  # some items asked a second and a third vendor
    tables = Counter(_table(q["sql"]) for q in queries.captured_queries)
    engine = sum(
        n
        for name, n in tables.items()
        if not any(t in name for t in LIMITS) and not name.startswith(("SAVEPOINT", "RELEASE"))
    )
    detail = ", ".join(f"{name} {n}" for name, n in tables.most_common(12))
    assert engine <= PER_ITEM * len(ids), detail
    # Per round, not per call: the ledger's lock (reserve, then close), the calls, the attempts.
    assert tables["SELECT enrichment_creditbudget"] <= 2 * ROUNDS, detail
    assert tables["INSERT enrichment_providercall"] <= ROUNDS, detail
    assert tables["INSERT enrichment_providerattempt"] <= ROUNDS, detail
    # Read and written once for the message.
    for name in (
        "SELECT enrichment_providercredential",
        "SELECT enrichment_providerattempt",
        "SELECT enrichment_cachedanswer",
        "INSERT enrichment_cachedanswer",
        "UPDATE prospects_prospect",
        "INSERT prospects_fieldprovenance",
    ):
        assert tables[name] <= 1, detail
    # What was found was applied to every prospect, with its provenance.
    prospects = Prospect.objects.for_workspace(email_ws)
    assert not prospects.filter(status=Prospect.Status.ENRICHING).exists()
    verified = prospects.filter(status=Prospect.Status.VERIFIED)
    assert verified.count() == list(results.values()).count("verified")
    for prospect in verified:
        row = FieldProvenance.objects.for_workspace(email_ws).get(
            prospect=prospect, field="email", is_current=True
        )
        assert (row.value, row.source) == (prospect.email, prospect.enrichment_source)


def test_a_round_the_balance_covers_in_part_asks_only_what_it_can_pay(email_ws, world):
    """Eight items, money for three questions: the round reserves the first three, the others
    wait for credit (nothing asked, nothing lost), and the ledger never goes below zero."""
    from decimal import Decimal

    from django.db.models import Sum

    from enrichment.engine import ledger
    from enrichment.models import CreditEntry, ProviderAttempt
    from enrichment.providers.registry import get_provider

    import_world(email_ws, world, limit=8)
    bulk.start_job(email_ws, bulk.estimate_job(email_ws.pk))
    ids = list(EnrichmentItem.objects.for_workspace(email_ws).values_list("pk", flat=True))
    waterfall_queue.start_items(ids)
    price = get_provider("prospeo").max_cost
    ledger.adjust(email_ws.pk, f"-{ledger.balance(email_ws.pk) - 3 * price}", key="leave-three")

    results = waterfall_rounds.process_items(ids)

    calls = ProviderCall.objects.for_workspace(email_ws)
    assert calls.filter(provider="prospeo").count() == 3
    # What a free miss gave back paid the next vendor for those three; the others asked no one.
    asked = set(
        ProviderAttempt.objects.for_workspace(email_ws)
        .exclude(call=None)
        .values_list("item_id", flat=True)
    )
    assert len(asked) == 3
    waiting = EnrichmentItem.objects.for_workspace(email_ws).filter(
        status="pending", outcome="insufficient_credits"
    )
    assert set(waiting.values_list("pk", flat=True)) >= set(ids) - asked
    assert list(results.values()).count("paused") == waiting.count() >= 5
    assert ledger.balance(email_ws.pk) >= 0
    total = CreditEntry.objects.for_workspace(email_ws).aggregate(t=Sum("amount"))["t"]
    assert Decimal(total).quantize(Decimal("0.0001")) == ledger.balance(email_ws.pk)


def test_a_key_a_lost_worker_settled_is_not_replayed_by_its_successor(email_ws, world):
    """A worker that lost an item settled its question's key without writing the attempt:
    the worker that takes the item over asks under the next key, and pays for it."""
    from enrichment.engine import ledger
    from enrichment.models import CreditEntry, attempt_key

    import_world(email_ws, world, limit=1)
    bulk.start_job(email_ws, bulk.estimate_job(email_ws.pk))
    item = EnrichmentItem.objects.for_workspace(email_ws).get()
    waterfall_queue.start_items([item.pk])
    base = attempt_key(item, "email", "prospeo")
    ledger.reserve(email_ws.pk, "0.05", key=base, provider="prospeo")
    ledger.settle(email_ws.pk, key=base, cost="0.05")

    waterfall_rounds.process_items([item.pk])

    entries = CreditEntry.objects.for_workspace(email_ws).filter(idempotency_key=f"{base}#2")
    assert set(entries.values_list("kind", flat=True)) >= {"reserve"}
    assert entries.exclude(kind="reserve").count() == 1  # settled or released, once
