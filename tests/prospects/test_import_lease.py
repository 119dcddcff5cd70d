"""Who runs an import: the lease, the takeover of an abandoned batch, the sweeper."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from prospects import imports
from prospects.imports.classify import CHUNK_SIZE
from prospects.imports.lease import finish_import
from prospects.models import ImportBatch, Prospect
from prospects.tasks import sweep_imports_task
from tests.fixtures import csv_files

from .test_import_run import many_rows

ROWS = CHUNK_SIZE + 100  # two chunks: a run can commit one, then stop or be overtaken


class WorkerKilled(BaseException):
    """The process running the import dies: nothing after this line of its runs."""


def kill_after_first_chunk(done: int) -> None:
    raise WorkerKilled


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.fixture
def big_batch(make_batch, tmp_path):
    return make_batch(csv_files.write_csv(tmp_path / "salon.csv", many_rows(ROWS)))


@pytest.fixture
def small_batch(make_batch, tmp_path):
    return make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv"))


def stored(batch: ImportBatch) -> ImportBatch:
    return ImportBatch.objects.for_workspace(batch.workspace_id).get(pk=batch.pk)


def assert_imported_exactly_once(workspace, batch: ImportBatch) -> None:
    batch = stored(batch)
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.total_rows, batch.created_count, batch.rejected_count) == (ROWS, ROWS, 0)
    prospects = Prospect.objects.for_workspace(workspace)
    assert prospects.filter(import_batch=batch).count() == ROWS
    assert not prospects.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_a_batch_is_claimed_once(small_batch):
    first = imports.claim_import(small_batch)
    second = imports.claim_import(small_batch)

    assert first is not None and first.lease_token
    assert second is None
    held = stored(small_batch)
    assert held.status == ImportBatch.Status.IMPORTING
    assert held.lease_token == first.lease_token
    assert held.lease_until > timezone.now()


def test_a_batch_whose_lease_ran_out_is_claimed_by_someone_else(small_batch, settings):
    settings.SOURCIER_IMPORT_LEASE_SECONDS = 60
    first = imports.claim_import(small_batch)

    assert imports.claim_import(small_batch, now=later(59)) is None
    successor = imports.claim_import(small_batch, now=later(61))

    assert successor is not None
    assert successor.lease_token != first.lease_token
    assert stored(small_batch).lease_token == successor.lease_token


def test_a_run_that_outlived_its_lease_writes_nothing_after_the_takeover(
    workspace, big_batch, settings
):
    settings.SOURCIER_IMPORT_LEASE_SECONDS = 60
    stale = imports.claim_import(big_batch)
    successor = None

    def stalls_after_first_chunk(done: int) -> None:
        # The first run commits a chunk, then stalls past its lease: another run takes over.
        nonlocal successor
        if successor is None:
            successor = imports.claim_import(big_batch, now=later(3600))

    imports.import_claimed(stale, progress=stalls_after_first_chunk)

    after = stored(big_batch)
    assert after.status == ImportBatch.Status.IMPORTING
    assert after.lease_token == successor.lease_token
    assert (after.total_rows, after.created_count) == (CHUNK_SIZE, CHUNK_SIZE)
    assert after.prospects.count() == CHUNK_SIZE
    # Waking up later, the stale run cannot end (or fail) the batch either.
    assert not finish_import(stale, ImportBatch.Status.FAILED, "interrompu")
    assert stored(big_batch).status == ImportBatch.Status.IMPORTING

    imports.import_claimed(successor)

    assert_imported_exactly_once(workspace, big_batch)


def test_the_sweeper_resumes_an_abandoned_import_from_its_last_chunk(
    workspace, big_batch, django_capture_on_commit_callbacks
):
    with pytest.raises(WorkerKilled):
        imports.run_import(big_batch, progress=kill_after_first_chunk)
    assert stored(big_batch).total_rows == CHUNK_SIZE

    # While the lease runs, the batch is its worker's: the sweeper leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports_task.delay().get() == "resumed 0, expired 0"
    assert stored(big_batch).total_rows == CHUNK_SIZE

    ImportBatch.objects.for_workspace(workspace).filter(pk=big_batch.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports_task.delay().get() == "resumed 1, expired 0"

    assert_imported_exactly_once(workspace, big_batch)


def test_an_import_stuck_before_leases_existed_is_resumed(
    workspace, big_batch, django_capture_on_commit_callbacks
):
    """A batch left importing with no lease at all (a lost message) is abandoned too."""
    ImportBatch.objects.for_workspace(workspace).filter(pk=big_batch.pk).update(
        status=ImportBatch.Status.IMPORTING
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert imports.resume_abandoned_imports() == [big_batch.pk]

    assert_imported_exactly_once(workspace, big_batch)


def test_a_resumed_import_is_sent_once_per_lease(
    workspace, small_batch, django_capture_on_commit_callbacks
):
    """A lost or slow message is sent again only once the batch has waited a whole lease."""
    ImportBatch.objects.for_workspace(workspace).filter(pk=small_batch.pk).update(
        status=ImportBatch.Status.IMPORTING
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert imports.resume_abandoned_imports() == [small_batch.pk]
        assert imports.resume_abandoned_imports() == []
    assert len(sent) == 1
    waiting = stored(small_batch)
    assert (waiting.status, waiting.lease_token) == (ImportBatch.Status.IMPORTING, "")
    assert waiting.lease_until > timezone.now()
