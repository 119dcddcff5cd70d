"""What the prospect page's enrichment panel shows (the change form context is not ours)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from prospects.models import Prospect

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
    return {
        "items": items,
        "can_reenrich": prospect.status in REENRICHABLE,
        "reenrich_url": reverse("enrichment:reenrich", args=[prospect.pk]),
        "cost": get_provider(DROPCONTACT).max_cost,
        "found_email": found_verified_email(prospect),
        "use_email_url": reverse("enrichment:use-email", args=[prospect.pk]),
    }
