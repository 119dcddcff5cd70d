"""Following one piece of work: a prospect's history (imports, jobs, provider calls, value
changes) and what enriching an import's prospects did and cost. A few queries each, whatever
the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from prospects.models import FieldProvenance, ImportBatch, Prospect

from .models import EnrichmentItem, EnrichmentJob, ProviderAttempt
from .providers.registry import get_provider
from .services import DROPCONTACT, count_latest_items

# Each kind of event read for a timeline, newest first.
TIMELINE_LIMIT = 100
IMPORT_PANEL_JOBS = 10


@dataclass
class Event:
    """One line of a prospect's history."""

    at: dt.datetime
    kind: str  # import, job, call, value
    title: str
    source: str = ""
    confidence: int | None = None
    detail: str = ""
    url: str = ""


def prospect_timeline(prospect: Prospect) -> list[Event]:
    """Every import, job, provider call and value change of the prospect, newest first."""
    from .admin import provider_label
    from .admin_jobs import result_label

    events = [_creation(prospect)]
    workspace_id = prospect.workspace_id
    items = (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(prospect=prospect)
        .select_related("job")
        .order_by("-created_at", "-id")[:TIMELINE_LIMIT]
    )
    for item in items:
        title = _("Enrichment requested: %(provider)s — %(status)s") % {
            "provider": provider_label(item.provider),
            "status": item.get_status_display(),
        }
        url = ""
        if item.job_id:
            title = f"{title} ({item.job})"
            url = reverse("admin:enrichment_enrichmentjob_change", args=[item.job_id])
        events.append(Event(item.created_at, "job", title, detail=item.last_error, url=url))
    attempts = (
        ProviderAttempt.objects.for_workspace(workspace_id)
        .filter(item__prospect=prospect)
        .order_by("-created_at", "-id")[:TIMELINE_LIMIT]
    )
    for attempt in attempts:
        url = ""
        if attempt.call_id:
            url = reverse("admin:enrichment_providercall_change", args=[attempt.call_id])
        title = f"{provider_label(attempt.provider)} : {result_label(attempt.result)}"
        events.append(
            Event(
                attempt.created_at,
                "call",
                title,
                source=provider_label(attempt.provider),
                confidence=attempt.signal or None,
                detail=attempt.value,
                url=url,
            )
        )
    labels = {f.name: f.verbose_name for f in Prospect._meta.fields}
    values = (
        FieldProvenance.objects.for_workspace(workspace_id)
        .filter(prospect=prospect)
        .order_by("-observed_at", "-id")[:TIMELINE_LIMIT]
    )
    for row in values:
        title = f"{str(labels.get(row.field, row.field)).capitalize()} : {row.value or '—'}"
        if row.is_current:
            title = f"{title} ({_('stored value')})"
        events.append(
            Event(
                row.observed_at,
                "value",
                title,
                source=row.get_source_display(),
                confidence=row.confidence,
                detail=row.detail,
            )
        )
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:TIMELINE_LIMIT]


def _creation(prospect: Prospect) -> Event:
    if prospect.import_batch_id:
        batch = prospect.import_batch
        title = _("Imported from %(file)s, line %(line)s") % {
            "file": batch.filename,
            "line": prospect.import_line or "—",
        }
        url = reverse("admin:prospects_importbatch_change", args=[batch.pk])
        return Event(prospect.created_at, "import", title, prospect.get_source_display(), url=url)
    title = _("Created (%(source)s)") % {"source": prospect.get_source_display()}
    return Event(prospect.created_at, "import", title, prospect.get_source_display())


@dataclass
class ImportWork:
    """What enriching an import's prospects did: their latest items by status, the cost, the
    jobs that worked on them."""

    counts: dict[str, int]
    cost: Decimal
    jobs: list[EnrichmentJob]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def import_work(batch: ImportBatch) -> ImportWork:
    """Enrichment of the batch's prospects, each prospect counted once (its latest item).

    The cost is what the waterfall attempts for these prospects cost, plus Dropcontact's price
    per email it found for these prospects (Dropcontact bills a batch request, not
    one prospect).
    """
    workspace_id = batch.workspace_id
    items = EnrichmentItem.objects.for_workspace(workspace_id).filter(prospect__import_batch=batch)
    counts = count_latest_items(workspace_id, items)
    attempts = ProviderAttempt.objects.for_workspace(workspace_id).filter(
        item__prospect__import_batch=batch
    )
    cost = attempts.aggregate(total=Sum("cost"))["total"] or Decimal(0)
    # What Dropcontact charged for (an email found, as its pipeline charges the jobs), not
    # every prospect it merely sent a phone or a title back for.
    found = (
        attempts.filter(provider=DROPCONTACT, result="found")
        .values("item__prospect_id")
        .distinct()
        .count()
    )
    cost += get_provider(DROPCONTACT).cost_per_success * found
    job_ids = items.exclude(job=None).values("job_id").distinct()
    jobs = list(
        EnrichmentJob.objects.for_workspace(workspace_id)
        .filter(pk__in=job_ids)
        .order_by("-created_at")[:IMPORT_PANEL_JOBS]
    )
    return ImportWork(counts=counts, cost=cost, jobs=jobs)
