"""The probe path's reads find their rows through an index of their own, on SQLite too,
where no statistics guide the planner: a workspace's probes grow by the thousand, and a read
that walks all of them for a few domains slows every batch a little more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.discovery import records

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's own planner, without statistics"
)


def plan_of(call):
    """The query plans of the statements `call` runs."""
    with CaptureQueriesContext(connection) as queries:
        call()
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            plans.append(" ".join(row[-1] for row in cursor.fetchall()))
    return plans


@pytest.mark.django_db
def test_confirmed_patterns_are_read_by_domain_not_by_walking_the_workspace():
    now = timezone.now()
    records.start_probes([
        {"workspace_id": None, "email": f"p{i}@d{i % 40}.example", "domain": f"d{i % 40}.example",
         "attempt": 1, "now": now, "pattern": "first.last"}
        for i in range(400)
    ])  # fmt: skip
    plans = plan_of(lambda: records.verified_patterns_many(["d1.example", "d2.example"], None))
    assert len(plans) == 1
    assert "probe_domain" in plans[0], plans[0]
