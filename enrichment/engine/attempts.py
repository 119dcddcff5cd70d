"""Attempt rows: which provider was asked about which item, for which field, with what result.

The key `{job}:{item}:{field}:{provider}` is unique in the database: recording an attempt twice
(a redelivered task, a batch sent again after its lease) finds the row already there.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from ..models import EnrichmentItem, ProviderAttempt, ProviderBatch, attempt_key


def record_batch_attempts(batch: ProviderBatch, *, field: str) -> None:
    """One attempt per item claimed into the batch (an item sent again points to its new batch)."""
    items = list(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch)
        .only("pk", "job_id")
    )
    keys = [attempt_key(item, field, batch.provider) for item in items]
    ProviderAttempt.objects.bulk_create(
        [
            ProviderAttempt(
                workspace_id=batch.workspace_id,
                item=item,
                provider=batch.provider,
                field=field,
                idempotency_key=key,
                batch=batch,
            )
            for item, key in zip(items, keys, strict=True)
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    ProviderAttempt.objects.for_workspace(batch.workspace_id).filter(
        idempotency_key__in=keys
    ).exclude(batch=batch).update(batch=batch, result="", call=None, finished_at=None)


def settle_batch_attempts(
    batch: ProviderBatch, result: str, *, item_ids: Iterable[int] | None = None, call_id=None
) -> None:
    """Write the result (found, not_found or a kind of failure) of the batch's attempts."""
    attempts = ProviderAttempt.objects.for_workspace(batch.workspace_id).filter(batch=batch)
    if item_ids is not None:
        attempts = attempts.filter(item_id__in=list(item_ids))
    values = {"result": result, "finished_at": timezone.now()}
    if call_id is not None:
        values["call_id"] = call_id
    attempts.update(**values)
