"""A background import whose worker is killed: real workers and beat, PostgreSQL, Redis."""

from __future__ import annotations

import time

import pytest
from django.db.models import Count

from prospects import imports
from prospects.imports.classify import CHUNK_SIZE
from prospects.models import ImportBatch, Prospect, RejectedRow
from tests.fixtures import csv_files

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 30_000


def people(count: int) -> list[list[str]]:
    header = ["Prénom", "Nom", "E-mail", "Société", "Site web"]
    return [header] + [
        [f"Éloïse{i}", f"Lefèvre{i}", f"eloise{i}@salon-lyon.fr", f"Société {i % 700}", ""]
        for i in range(count)
    ]


def wait_for(condition, *, timeout: float, what: str, workers, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout:.0f} s\n{workers.logs()}")


def test_an_import_whose_worker_is_killed_is_resumed_by_the_sweeper(
    workspace, member, tmp_path, settings, workers_factory
):
    var = tmp_path / "var"
    # The workers read the uploaded file where this process stores it.
    settings.MEDIA_ROOT = var / "media"
    path = csv_files.write_csv(tmp_path / "salon.csv", people(ROWS))
    with open(path, "rb") as fh:
        batch = imports.create_batch(
            workspace, chunks=iter(lambda: fh.read(1 << 20), b""), filename="salon.csv", user=member
        )
    scope = ImportBatch.objects.for_workspace(workspace).filter(pk=batch.pk)
    workers = workers_factory(
        SOURCIER_VAR_DIR=str(var), SOURCIER_IMPORT_LEASE_SECONDS="4", SOURCIER_SWEEP_SECONDS="1"
    )
    victim = workers.start(concurrency=1)

    assert imports.queue_import(batch)
    # Kill the worker once it has committed a chunk, well before the end of the file.
    wait_for(
        lambda: scope.filter(total_rows__gte=CHUNK_SIZE).exists(),
        timeout=90,
        what="no chunk was committed",
        workers=workers,
    )
    workers.kill(victim)
    cut = scope.get()
    assert cut.status == ImportBatch.Status.IMPORTING
    assert CHUNK_SIZE <= cut.total_rows < ROWS, "the import ended before the kill: use more rows"

    # A new worker with beat: the sweeper finds the abandoned batch once its lease has run out
    # (Redis would only hand the killed worker's message back after an hour).
    workers.start(2, "--beat")
    wait_for(
        lambda: scope.filter(status=ImportBatch.Status.DONE).exists(),
        timeout=180,
        what="the import was not resumed and finished",
        workers=workers,
        interval=0.5,
    )

    done = scope.get()
    assert (done.total_rows, done.created_count, done.rejected_count) == (ROWS, ROWS, 0)
    prospects = Prospect.objects.for_workspace(workspace)
    assert prospects.count() == ROWS
    assert prospects.filter(import_batch=done).count() == ROWS
    assert not prospects.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not RejectedRow.objects.for_workspace(workspace).exists()
    # Resumed by the sweeper, after the rows committed before the kill.
    sweeper_log = (tmp_path / "worker1.log").read_text(errors="replace")
    assert f"resumed after {cut.total_rows} rows" in sweeper_log
    # Its file goes with the import, just after the batch is marked done (and analysed).
    wait_for(
        lambda: not imports.stored_path(batch.stored_file).exists(),
        timeout=30,
        what="the uploaded file was not deleted",
        workers=workers,
        interval=0.2,
    )
