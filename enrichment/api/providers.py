"""Providers: the registry, and whether the workspace has a key (never the key)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from config.api_support.errors import errors, not_found
from config.api_support.principal import workspace_of

from .. import credentials
from ..models import ProviderCredential
from ..providers.registry import PROVIDERS, get_provider
from .money import Euros

router = Router(tags=["providers"])


class ProviderOut(Schema):
    slug: str
    label: str
    kind: str
    fields: list[str]
    cost_per_call: Euros
    cost_per_success: Euros
    rate_limit: str
    docs_url: str
    has_key: bool = Field(description="the workspace saved a key (never shown)")
    key_usable: bool = Field(description="saved and not refused by the provider")


def _providers(workspace_id: int) -> list[dict]:
    keys = dict(
        ProviderCredential.objects.for_workspace(workspace_id).values_list("provider", "refused_at")
    )
    return [
        {
            "slug": spec.slug,
            "label": str(spec.label),
            "kind": str(spec.kind),
            "fields": list(spec.fields),
            "cost_per_call": spec.cost_per_call,
            "cost_per_success": spec.cost_per_success,
            "rate_limit": str(spec.rate_limit),
            "docs_url": str(spec.docs_url),
            "has_key": spec.slug in keys,
            "key_usable": (
                credentials.probing_configured()
                if spec.slug in credentials.KEYLESS
                else spec.slug in keys and keys[spec.slug] is None
            ),
        }
        for spec in (get_provider(slug) for slug in PROVIDERS)
    ]


@router.get("/providers", response={200: list[ProviderOut], **errors()}, summary="Providers")
def list_providers(request: HttpRequest):
    return _providers(workspace_of(request).pk)


@router.get("/providers/{slug}", response={200: ProviderOut, **errors(404)}, summary="A provider")
def get_provider_detail(request: HttpRequest, slug: str):
    for provider in _providers(workspace_of(request).pk):
        if provider["slug"] == slug:
            return provider
    raise not_found()
