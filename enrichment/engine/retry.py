"""One retry policy for every pipeline: what a failed call means for the items it carried.

The table says, per kind of failure, whether it counts as one of the item's attempts (retried
after SOURCIER_RETRY_DELAYS, then *À revoir*), how long to wait when it does not, and whether
the items park until someone saves a new API key. The pipelines do not branch on error kinds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from prospects.models import Prospect

from .. import credentials
from ..models import EnrichmentItem
from ..providers.base import ErrorKind, ProviderError
from ..webhooks import events
from . import outcomes
from .jobs import refresh_jobs

Item = EnrichmentItem.Status


@dataclass(frozen=True)
class Rule:
    # A failed attempt of the item: it is retried after the next delay, then needs review.
    counts_attempt: bool
    # When it does not count: how long the items wait (the vendor's Retry-After wins).
    wait_seconds: float = 0.0
    # The key was refused: the items wait, visibly, until someone saves another one.
    park: bool = False


POLICY: dict[ErrorKind, Rule] = {
    ErrorKind.TEMPORARY: Rule(counts_attempt=True),
    ErrorKind.PERMANENT: Rule(counts_attempt=True),
    # The vendor's pace or the account's credits are not the item's fault.
    ErrorKind.RATE_LIMITED: Rule(counts_attempt=False, wait_seconds=60.0),
    ErrorKind.QUOTA: Rule(counts_attempt=False, wait_seconds=3600.0),
    # Retrying a refused key is pointless.
    ErrorKind.AUTH: Rule(counts_attempt=False, park=True),
}


def settle_failure(
    workspace_id: int,
    items: list[EnrichmentItem],
    error: ProviderError,
    *,
    provider: str,
    now: dt.datetime,
) -> None:
    """Apply the policy to in-flight items after a failed call (inside the caller's transaction)."""
    rule = POLICY[error.kind]
    code, detail = outcomes.of_error(error)
    scope = EnrichmentItem.objects.for_workspace(workspace_id).filter(
        pk__in=[item.pk for item in items], status=Item.SUBMITTED
    )
    if rule.park:
        credentials.mark_key_refused(workspace_id, provider)
        scope.update(status=Item.WAITING_KEY, outcome=code, outcome_detail=detail, updated_at=now)
    elif not rule.counts_attempt:
        wait = error.retry_after if error.retry_after is not None else rule.wait_seconds
        scope.update(
            status=Item.PENDING,
            next_attempt_at=now + dt.timedelta(seconds=wait),
            outcome=code,
            outcome_detail=detail,
            updated_at=now,
        )
    else:
        fail_items(workspace_id, items, code, provider=provider, detail=detail, now=now)


def fail_items(
    workspace_id: int,
    items: Iterable[EnrichmentItem],
    code: str,
    *,
    provider: str,
    detail: str = "",
    now: dt.datetime,
) -> None:
    """One more failed attempt: retry after 1, 5, 15 minutes, then NEEDS_REVIEW."""
    items = list(items)
    # The prospect page shows the sentence; the item keeps the code.
    message = outcomes.describe(code, provider=provider, detail=detail)
    delays = settings.ENRICHMENT_RETRY_DELAYS
    items_scope = EnrichmentItem.objects.for_workspace(workspace_id)
    prospects_scope = Prospect.objects.for_workspace(workspace_id)
    by_attempt: dict[int, list[EnrichmentItem]] = {}
    for item in items:
        by_attempt.setdefault(item.attempts + 1, []).append(item)
    for attempts, group in by_attempt.items():
        ids = [item.pk for item in group]
        prospect_ids = [item.prospect_id for item in group]
        if attempts <= len(delays):
            items_scope.filter(pk__in=ids, status=Item.SUBMITTED).update(
                status=Item.PENDING,
                attempts=attempts,
                next_attempt_at=now + dt.timedelta(seconds=delays[attempts - 1]),
                outcome=code,
                outcome_detail=detail,
                outcome_provider=provider,
                updated_at=now,
            )
            prospects_scope.filter(pk__in=prospect_ids, status=Prospect.Status.ENRICHING).update(
                last_error=message, updated_at=now
            )
        else:
            items_scope.filter(pk__in=ids, status=Item.SUBMITTED).update(
                status=Item.NEEDS_REVIEW,
                attempts=attempts,
                outcome=code,
                outcome_detail=detail,
                outcome_provider=provider,
                finished_at=now,
                updated_at=now,
            )
            # Only prospects still being enriched: a late worker whose lease was taken over
            # must not undo the verdict its successor applied. Locked, so that the prospects
            # announced as needing review are exactly the ones this moves.
            with transaction.atomic():
                enriching = prospects_scope.filter(
                    pk__in=prospect_ids, status=Prospect.Status.ENRICHING
                )
                reviewed = set(enriching.select_for_update().values_list("pk", flat=True))
                enriching.filter(pk__in=reviewed).update(
                    status=Prospect.Status.NEEDS_REVIEW, last_error=message, updated_at=now
                )
                events.emit_prospect_verdicts(
                    workspace_id,
                    [(f"item:{i.pk}", i.prospect_id) for i in group if i.prospect_id in reviewed],
                )
    refresh_jobs(item.job_id for item in items if item.job_id)
