"""Rows written together are locked in one order by every worker: two workers saving the
same domains in opposite orders never deadlock (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection, connections

from enrichment.discovery import records
from enrichment.models import MailDomain


def test_two_workers_saving_the_same_domains_in_other_orders(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")
    names = [f"d{i}.example" for i in range(300)]
    MailDomain.objects.bulk_create([MailDomain(domain=name) for name in names])
    errors = []
    barrier = threading.Barrier(2)

    def worker(reverse: bool) -> None:
        try:
            rows = list(MailDomain.objects.order_by("pk"))
            if reverse:
                rows.reverse()
            for _ in range(15):
                for row in rows:
                    row.catch_all, row.catch_all_local = False, ""
                barrier.wait()
                records.save_catch_alls(rows)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(reverse,)) for reverse in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e for e in errors if "BrokenBarrier" not in e] == []
