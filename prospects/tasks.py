"""Celery tasks of the prospects app: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation

from . import api_keys, imports
from .models import ImportBatch


# A large file may take minutes: past the default soft limit the batch would stop as failed
# (resumable, but the user would have to press "resume").
@shared_task(soft_time_limit=3600, time_limit=3660)
def import_batch_task(batch_id: int) -> str:
    """Import one batch; a done batch is left alone and a cut one resumes, so it may run twice."""
    # Only an id crosses the broker: the batch itself says which workspace it belongs to.
    batch = ImportBatch.objects.unscoped().filter(pk=batch_id).first()
    if batch is None:
        return "missing"
    # Rejection details are stored as text, in the language of the people who read them.
    with translation.override(settings.LANGUAGE_CODE):
        batch = imports.run_import(batch)
    return batch.status


@shared_task
def sweep_imports_task() -> str:
    """Resume the imports whose worker stopped, expire the previews nobody came back to."""
    resumed = imports.resume_abandoned_imports()
    expired = imports.expire_previews()
    return f"resumed {len(resumed)}, expired {expired}"



@shared_task
def purge_idempotency_keys_task() -> str:
    """Forget the API's Idempotency-Keys older than 24 hours."""
    return f"deleted {api_keys.purge_idempotent_requests()}"
