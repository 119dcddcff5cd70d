"""What the prospect page's enrichment panel shows (the change form context is not ours)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from prospects.models import ImportBatch, Prospect

from ..found_address import found_verified_email
from ..models import EnrichmentItem
from ..providers.registry import get_provider
from ..services import DROPCONTACT, REENRICHABLE

register = template.Library()

PANEL_ITEMS = 5


@register.simple_tag
def prospect_enrichment(prospect: Prospect) -> dict[str, Any]:
    """The prospect's latest enrichment items and whether it may be re-enriched."""
    items = list(
        EnrichmentItem.objects.for_workspace(prospect.workspace_id)
        .filter(prospect=prospect)
        .select_related("job")
        .order_by("-created_at", "-id")[:PANEL_ITEMS]
    )
    live = prospect.status == Prospect.Status.ENRICHING or any(
        item.status in EnrichmentItem.ACTIVE_STATUSES for item in items
    )
    return {
        # While its enrichment runs, the panel polls itself (views.prospect_panel).
        "live": live,
        "poll_url": reverse("enrichment:prospect-panel", args=[prospect.pk]),
        "items": items,
        "can_reenrich": prospect.status in REENRICHABLE,
        "reenrich_url": reverse("enrichment:reenrich", args=[prospect.pk]),
        "cost": get_provider(DROPCONTACT).max_cost,
        "found_email": found_verified_email(prospect),
        "use_email_url": reverse("enrichment:use-email", args=[prospect.pk]),
    }


@register.simple_tag
def prospect_history(prospect: Prospect) -> list:
    """The prospect's timeline: imports, jobs, provider calls and value changes, newest first."""
    from ..history import prospect_timeline

    return prospect_timeline(prospect)


@register.simple_tag
def import_enrichment(batch: ImportBatch) -> Any:
    """What enriching this import's prospects did and cost."""
    from ..history import import_work

    return import_work(batch)


@register.filter
def provider_name(slug: str) -> str:
    """A provider's or a waterfall's name ("Cascade e-mail"), for an item's row."""
    from ..admin import provider_label

    return provider_label(slug)
