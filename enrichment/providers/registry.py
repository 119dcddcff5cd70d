"""What Sourcier knows of each vendor: fields it fills, prices, documented and default limits.

Prices are in euros and are *defaults*: public list prices of an entry plan as best known
(USD converted at about 0.92), for estimates and spending caps. What a workspace really pays
depends on its plan, so an operator sets their own with SOURCIER_PROVIDER_PRICES
(`prospeo:call=0,success=0.039;…`); `get_provider` applies them. Vendors that only bill a
result ("pay on success") cost nothing per call.

`concurrency` and `requests_per_second` are what Sourcier allows itself (the limits module
enforces them across workers), kept at or under `rate_limit`, the vendor's documented limit.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _


class Kind(enum.StrEnum):
    # Many people per request, answered later (submit, then poll).
    BATCH = "batch"
    # One person in, an email address (and maybe more) out.
    EMAIL = "email"
    # A company (domain, name, URL) in, company facts out.
    COMPANY = "company"
    # An email address in, the person and their company out.
    PERSON = "person"


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    label: str
    kind: Kind
    fields: tuple[str, ...]
    cost_per_call: Decimal
    cost_per_success: Decimal
    concurrency: int
    requests_per_second: int
    rate_limit: str
    auth: str
    docs_url: str

    @property
    def max_cost(self) -> Decimal:
        """The most one subject can cost (a call that succeeds): what an estimate reserves."""
        return self.cost_per_call + self.cost_per_success


PERSON_FIELDS = ("email", "phone", "job_title", "linkedin_url")
COMPANY_FIELDS = ("company", "website", "industry", "headcount", "linkedin_url")

PROVIDERS: dict[str, ProviderSpec] = {
    spec.slug: spec
    for spec in (
        ProviderSpec(
            slug="dropcontact",
            label="Dropcontact",
            kind=Kind.BATCH,
            fields=("email", "phone", "job_title", "linkedin_url", "company", "siren", "website"),
            # Pay on success: a credit is taken per record sent and given back when no
            # verified email is found (developer.dropcontact.com/en/credits/); about
            # 24 € for 500 credits on the entry plan.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.048"),
            # Dropcontact allows 10 concurrent calls per account.
            concurrency=10,
            requests_per_second=20,
            rate_limit="60 requests/s; 250 records and 15 kB per record per request",
            auth="X-Access-Token header",
            docs_url="https://developer.dropcontact.com/en/rate-limits/",
        ),
        ProviderSpec(
            slug="prospeo",
            label="Prospeo",
            kind=Kind.EMAIL,
            fields=("email", "job_title", "linkedin_url", "company", "website"),
            # One credit per match; NO_MATCH is free. About 39 $ for 1,000 credits.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.036"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="per plan (not in the archived docs)",
            auth="X-KEY header",
            docs_url="https://prospeo.io/api-docs/enrich-person",
        ),
        ProviderSpec(
            slug="leadmagic",
            label="LeadMagic",
            kind=Kind.EMAIL,
            fields=("email", "company", "industry", "headcount"),
            # `credits_consumed` is 0 on a miss; about 60 $ for 2,500 credits.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.022"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="per plan (not in the archived docs)",
            auth="X-API-Key header",
            docs_url="https://leadmagic.io/docs/reference/email-finder",
        ),
        ProviderSpec(
            slug="findymail",
            label="FindyMail",
            kind=Kind.EMAIL,
            fields=("email",),
            # Only found (verified) addresses are billed; about 49 $ for 1,000 credits.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.045"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="per plan (not in the archived docs)",
            auth="Authorization: Bearer",
            docs_url="https://app.findymail.com/docs",
        ),
        ProviderSpec(
            slug="aiark",
            label="AI Ark",
            kind=Kind.COMPANY,
            fields=COMPANY_FIELDS,
            # No public list price was found: a deliberately high guess, to be overridden.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.05"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="per plan (not in the archived docs)",
            auth="X-TOKEN header",
            docs_url="https://docs.ai-ark.com/reference/company-search-1.md",
        ),
        ProviderSpec(
            slug="firecrawl",
            label="Firecrawl",
            kind=Kind.COMPANY,
            fields=COMPANY_FIELDS,
            # Extract is billed per job started, found or not (about 16 $ for 3,000 credits,
            # several credits per extract).
            cost_per_call=Decimal("0.01"),
            cost_per_success=Decimal("0"),
            concurrency=2,
            requests_per_second=1,
            rate_limit="/extract 10 requests/min (free) to 1,000 (growth); status 25,000/min",
            auth="Authorization: Bearer",
            docs_url="https://docs.firecrawl.dev/rate-limits",
        ),
        ProviderSpec(
            slug="discovery",
            label=_("In-house discovery"),
            kind=Kind.EMAIL,
            fields=("email",),
            # Our own DNS and SMTP questions: no vendor, no credit; the mail hosts' politeness
            # limits are the SMTP prober's (SOURCIER_SMTP_HOST_*).
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0"),
            concurrency=10,
            requests_per_second=50,
            rate_limit="per mail host: SOURCIER_SMTP_HOST_CONCURRENCY and SOURCIER_SMTP_HOST_RATE",
            auth="none",
            docs_url="",
        ),
        ProviderSpec(
            slug="hunter",
            label="Hunter",
            kind=Kind.EMAIL,
            fields=("email", "job_title", "linkedin_url", "company"),
            # Email Finder: one credit only when an address is returned; 49 € for 2,000.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.0245"),
            concurrency=10,
            requests_per_second=10,
            rate_limit="Email Finder 15 requests/s and 500/min; Email Verifier 10/s and 300/min",
            auth="api_key query parameter",
            docs_url="https://hunter.io/api/v2/docs",
        ),
        ProviderSpec(
            slug="apollo",
            label="Apollo",
            kind=Kind.EMAIL,
            fields=("email", "job_title", "linkedin_url", "company", "website", "headcount"),
            # One credit per enriched person; credits cost roughly 0.10 € beyond the plan's.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.10"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="enrichment 1,000 requests/min (paid plans); free: 50/min, 200/h, 600/day",
            auth="X-Api-Key header",
            docs_url="https://docs.apollo.io/reference/rate-limits",
        ),
        ProviderSpec(
            slug="clearbit",
            label="Clearbit",
            kind=Kind.PERSON,
            fields=("job_title", "linkedin_url", "company", "website", "industry", "headcount"),
            # Legacy product (now HubSpot); a 404 (unknown) was not billed.
            cost_per_call=Decimal("0"),
            cost_per_success=Decimal("0.30"),
            concurrency=5,
            requests_per_second=5,
            rate_limit="600 requests/min (legacy docs)",
            auth="Authorization: Bearer",
            docs_url="https://dashboard.clearbit.com/docs#enrichment-api-combined-api",
        ),
    )
}

# The providers a key can be saved for (in-house discovery needs none).
PROVIDER_CHOICES = [(slug, spec.label) for slug, spec in PROVIDERS.items() if spec.auth != "none"]
MISSING_KEY_MESSAGE = _("API key missing")


def get_provider(slug: str) -> ProviderSpec:
    """The provider's spec with the operator's prices (SOURCIER_PROVIDER_PRICES), request
    rate (SOURCIER_PROVIDER_RATES) and calls at once (SOURCIER_PROVIDER_CONCURRENCIES)
    applied."""
    spec = PROVIDERS[slug]
    rate = getattr(settings, "SOURCIER_PROVIDER_RATES", {}).get(slug)
    if rate:
        spec = dataclasses.replace(spec, requests_per_second=rate)
    concurrency = getattr(settings, "SOURCIER_PROVIDER_CONCURRENCIES", {}).get(slug)
    if concurrency:
        spec = dataclasses.replace(spec, concurrency=concurrency)
    prices = getattr(settings, "SOURCIER_PROVIDER_PRICES", {}).get(slug)
    if not prices:
        return spec
    return dataclasses.replace(
        spec,
        cost_per_call=prices.get("call", spec.cost_per_call),
        cost_per_success=prices.get("success", spec.cost_per_success),
    )
