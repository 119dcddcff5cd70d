"""What Sourcier knows of each provider: fields it fills, cost per call, default limits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    label: str
    fields: tuple[str, ...]
    cost_per_call: Decimal
    concurrency: int
    requests_per_second: int
    docs_url: str


PROVIDERS: dict[str, ProviderSpec] = {
    spec.slug: spec
    for spec in (
        ProviderSpec(
            slug="dropcontact",
            label="Dropcontact",
            fields=("email", "phone", "job_title", "linkedin_url", "company"),
            # One credit per record submitted (a batch of 250 costs up to 250).
            cost_per_call=Decimal("1"),
            # Dropcontact allows 10 concurrent calls per account.
            concurrency=10,
            requests_per_second=20,
            docs_url="https://developer.dropcontact.com/",
        ),
    )
}

PROVIDER_CHOICES = [(slug, spec.label) for slug, spec in PROVIDERS.items()]
MISSING_KEY_MESSAGE = _("API key missing")


def get_provider(slug: str) -> ProviderSpec:
    return PROVIDERS[slug]
