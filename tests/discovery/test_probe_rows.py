"""A probe row is one INSERT with its unique key: alone in autocommit (no transaction around
it), and a replay inside a caller's transaction leaves that transaction usable."""

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.discovery import records
from enrichment.models import EmailProbe


def start(email, attempt=1):
    return records.start_probe(
        workspace_id=None, email=email, domain="exemple.example", attempt=attempt,
        now=timezone.now(),
    )  # fmt: skip


def test_a_probe_row_is_one_statement_in_autocommit(transactional_db):
    with CaptureQueriesContext(connection) as queries:
        probe = start("marie.curie@exemple.example")
    assert probe is not None and probe.pk
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    with CaptureQueriesContext(connection) as queries:
        assert start("marie.curie@exemple.example") is None  # the same probe: a replay
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    assert EmailProbe.objects.unscoped().count() == 1


def test_a_replay_inside_a_transaction_leaves_it_usable(transactional_db):
    start("marie.curie@exemple.example")
    with transaction.atomic():
        assert start("marie.curie@exemple.example") is None
        assert start("marie.curie@exemple.example", attempt=2) is not None
        rows = records.start_probes([
            {"workspace_id": None, "email": "marie.curie@exemple.example",
             "domain": "exemple.example", "attempt": 2, "now": timezone.now()},
        ])  # fmt: skip
        assert rows == [None]
    assert EmailProbe.objects.unscoped().count() == 2
