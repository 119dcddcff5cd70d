"""What one prospect costs the database on its way through the email waterfall.

The benchmark prints the same figure for a whole job under real workers; here each item is run
in turn, so the count is exact. Every provider asked costs its attempt row, its reservation and
settlement in the ledger, its call record and its cache entry: the bound below is per item,
and does not depend on how many items the job has.
"""

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment import bulk
from enrichment.models import EnrichmentItem, ProviderCall
from enrichment.pipelines import waterfall
from tests.enrichment.test_waterfall import import_world

# Queries per provider asked, and per item, on SQLite without Redis (limits and breakers in the
# database: the most expensive setting; every transaction is a savepoint inside the test's).
# These 20 items and their 30 calls took 1,917 queries before attempts and keys were read once
# per item, the cache written in one statement and a settlement read its entries in one query;
# 1,656 then; 1,382 since an attempt's result is one UPDATE conditional on the claim, a young
# lease is not renewed, the cache is read and written once per item, and a settlement takes no
# savepoint of its own (nor a balance write when it charges what was reserved).
PER_CALL = 33
PER_ITEM = 21


def _table(sql: str) -> str:
    words = sql.split('"')
    return f"{sql.split()[0]} {words[1] if len(words) > 1 else ''}"


def test_an_item_costs_a_bounded_number_of_queries_per_provider_asked(email_ws, world):
    import_world(email_ws, world, limit=20)
    bulk.start_job(email_ws, bulk.estimate_job(email_ws.pk))
    ids = list(EnrichmentItem.objects.for_workspace(email_ws).values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as queries:
        for pk in ids:
            assert waterfall.process_item(pk) in {"verified", "unverified", "not-found"}

    calls = ProviderCall.objects.for_workspace(email_ws).count()
    assert calls >= len(ids)
    tables = Counter(_table(q["sql"]) for q in queries.captured_queries)
    detail = ", ".join(f"{name} {n}" for name, n in tables.most_common(8))
    assert len(queries) <= PER_CALL * calls + PER_ITEM * len(ids), detail
    # Read once per item, whatever the number of providers asked.
    assert tables["SELECT enrichment_providercredential"] <= len(ids)
    assert tables["SELECT enrichment_providerattempt"] <= len(ids)
    assert tables["SELECT enrichment_cachedanswer"] <= len(ids)
    assert tables["INSERT enrichment_cachedanswer"] <= len(ids)
    # The claim and the settlement: no renewal of a young lease, no write per attempt.
    assert tables["UPDATE enrichment_enrichmentitem"] <= 2 * len(ids)
