"""Who runs an import, and what happens to the imports nobody runs any more.

A run claims its batch with a conditional UPDATE that gives it a token and a lease; each
committed chunk renews the lease in the same UPDATE as the counters, and every write of the
run is conditional on the token. A worker killed mid-import leaves a batch whose lease runs
out: the sweeper (beat) sends it to a worker again, which resumes after the last committed
chunk. A run that merely outlived its lease finds its token gone and stops without writing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import ImportBatch

logger = logging.getLogger(__name__)

Status = ImportBatch.Status


def lease_seconds() -> int:
    return settings.SOURCIER_IMPORT_LEASE_SECONDS


def lease_deadline(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(seconds=lease_seconds())


def _scope(batch: ImportBatch):
    return ImportBatch.objects.for_workspace(batch.workspace_id).filter(pk=batch.pk)


def _expired(now: dt.datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def claim_import(batch: ImportBatch, *, now: dt.datetime | None = None) -> ImportBatch | None:
    """Take the batch for this run until its lease ends; None if another run holds it (or
    it is done, or expired). A dispatched batch waiting for a worker may be taken at once."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimable = Q(status__in=[Status.PREVIEW, Status.FAILED]) | (
        Q(status=Status.IMPORTING) & (Q(lease_token="") | _expired(now))
    )
    taken = (
        _scope(batch)
        .filter(claimable)
        .update(
            status=Status.IMPORTING,
            error="",
            lease_token=token,
            lease_until=lease_deadline(now),
            finished_at=None,
        )
    )
    if not taken:
        return None
    claimed = _scope(batch).first()
    return claimed if claimed is not None and claimed.lease_token == token else None


def reload_run(batch: ImportBatch) -> None:
    """Refresh the batch as stored, keeping this run's token: a successor's token read back
    must not let this run write as if it were the successor."""
    batch.refresh_from_db(
        fields=[f.attname for f in ImportBatch._meta.concrete_fields if f.name != "lease_token"]
    )


def finish_import(batch: ImportBatch, status: str, error: str = "") -> bool:
    """End the run that holds `batch`'s token; False (nothing written) if it no longer does."""
    ended = (
        _scope(batch)
        .filter(status=Status.IMPORTING, lease_token=batch.lease_token)
        .update(status=status, error=error, finished_at=timezone.now(), lease_until=None)
    )
    reload_run(batch)
    return bool(ended)


def queue_import(batch: ImportBatch, *, now: dt.datetime | None = None) -> bool:
    """Send the batch to a worker: a preview, a failed batch or an abandoned one. False when it
    is running (or already waiting for a worker), done or expired.

    The batch waits for its worker under a lease of its own, so a lost message is sent again
    by the sweeper once that lease runs out, and only then.
    """
    from ..tasks import import_batch_task

    now = now or timezone.now()
    resumable = Q(status__in=[Status.PREVIEW, Status.FAILED]) | (
        Q(status=Status.IMPORTING) & _expired(now)
    )
    queued = (
        _scope(batch)
        .filter(resumable)
        .update(status=Status.IMPORTING, error="", lease_token="", lease_until=lease_deadline(now))
    )
    if queued:
        batch_id = batch.pk
        transaction.on_commit(lambda: import_batch_task.delay(batch_id))
    return bool(queued)


def resume_abandoned_imports(*, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Send every importing batch whose lease ran out to a worker again (run by beat)."""
    now = now or timezone.now()
    abandoned = list(
        ImportBatch.objects.unscoped()
        .abandoned(now)
        .order_by("lease_until")
        .only("pk", "workspace_id", "total_rows")[:limit]
    )
    resumed = []
    for batch in abandoned:
        if queue_import(batch, now=now):
            logger.warning(
                "Import batch %s made no progress within its lease: resumed after %s rows",
                batch.pk,
                batch.total_rows,
            )
            resumed.append(batch.pk)
    return resumed


def expire_previews(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Previews untouched for SOURCIER_IMPORT_PREVIEW_TTL_HOURS lose their stored file and
    become expired; returns how many."""
    from .importing import discard_upload

    hours = settings.SOURCIER_IMPORT_PREVIEW_TTL_HOURS
    if hours <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=hours)
    stale = list(
        ImportBatch.objects.unscoped()
        .filter(status=Status.PREVIEW, touched_at__lte=cutoff)
        .only("pk", "workspace_id", "stored_file")[:limit]
    )
    expired = 0
    for batch in stale:
        # Conditional: someone who opened the preview (or started the import) meanwhile wins.
        if (
            _scope(batch)
            .filter(status=Status.PREVIEW, touched_at__lte=cutoff)
            .update(status=Status.EXPIRED, stored_file="", finished_at=now)
        ):
            transaction.on_commit(lambda batch=batch: discard_upload(batch))
            expired += 1
    if expired:
        logger.info("Expired %s import previews untouched for %s hours", expired, hours)
    return expired


def touch_preview(batch: ImportBatch) -> None:
    """Someone is working on this preview: its expiry starts again."""
    _scope(batch).filter(status=Status.PREVIEW).update(touched_at=timezone.now())
