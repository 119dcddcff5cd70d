"""The answer cache: the same person or domain is never bought twice from a vendor within
SOURCIER_ENRICHMENT_CACHE_DAYS (misses included), per workspace (each pays with its own keys)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from anyascii import anyascii
from django.conf import settings
from django.utils import timezone

from ..models import CachedAnswer


def fingerprint(query: Any) -> str:
    """The question, normalised: case, accents and spaces do not make it another one."""
    values = dataclasses.asdict(query) if dataclasses.is_dataclass(query) else dict(query)
    folded = {
        key: " ".join(anyascii(str(value)).lower().split())
        for key, value in sorted(values.items())
        if value
    }
    return hashlib.sha256(json.dumps(folded, sort_keys=True).encode()).hexdigest()


def lookup(workspace_id: int, provider: str, field: str, query: Any) -> CachedAnswer | None:
    """A still valid answer of `provider` to this question, if one was bought."""
    if settings.ENRICHMENT_CACHE_DAYS <= 0:
        return None
    return (
        CachedAnswer.objects.for_workspace(workspace_id)
        .filter(
            provider=provider,
            field=field,
            fingerprint=fingerprint(query),
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def lookup_many(
    workspace_id: int, providers: list[str], field: str, query: Any
) -> dict[str, CachedAnswer]:
    """The still valid answers of each of `providers` to this question, in one query."""
    if settings.ENRICHMENT_CACHE_DAYS <= 0 or not providers:
        return {}
    return {
        answer.provider: answer
        for answer in CachedAnswer.objects.for_workspace(workspace_id).filter(
            provider__in=providers,
            field=field,
            fingerprint=fingerprint(query),
            expires_at__gt=timezone.now(),
        )
    }


def lookup_for_many(
    workspace_id: int, providers: list[str], field: str, queries: list[Any]
) -> dict[tuple[str, str], CachedAnswer]:
    """The still valid answers of `providers` to each of `queries`, in one query, by
    (fingerprint of the question, provider)."""
    if settings.ENRICHMENT_CACHE_DAYS <= 0 or not providers or not queries:
        return {}
    return {
        (answer.fingerprint, answer.provider): answer
        for answer in CachedAnswer.objects.for_workspace(workspace_id).filter(
            provider__in=providers,
            field=field,
            fingerprint__in={fingerprint(query) for query in queries},
            expires_at__gt=timezone.now(),
        )
    }


def remember(workspace_id: int, provider: str, field: str, query: Any, **answer: Any) -> None:
    """Keep a bought answer (found or not) for the cache period."""
    remember_many(workspace_id, field, query, {provider: answer})


def remember_many(
    workspace_id: int, field: str, query: Any, answers: dict[str, dict[str, Any]]
) -> None:
    """Keep several providers' bought answers to one question, in one statement."""
    remember_for_many(workspace_id, field, [(query, answers)])


def remember_for_many(
    workspace_id: int, field: str, bought: list[tuple[Any, dict[str, dict[str, Any]]]]
) -> None:
    """Keep the bought answers to several questions (each `(query, {provider: answer})`), in
    one statement."""
    bought = [(query, answers) for query, answers in bought if answers]
    if settings.ENRICHMENT_CACHE_DAYS <= 0 or not bought:
        return
    expires_at = timezone.now() + dt.timedelta(days=settings.ENRICHMENT_CACHE_DAYS)
    rows: dict[tuple[str, str], CachedAnswer] = {}
    for query, answers in bought:
        key = fingerprint(query)
        for provider, answer in answers.items():
            # The same question twice (two prospects, one person): the later answer stays.
            rows[(key, provider)] = CachedAnswer(
                workspace_id=workspace_id,
                provider=provider,
                field=field,
                fingerprint=key,
                expires_at=expires_at,
                **answer,
            )
    fields = dict.fromkeys(name for _q, answers in bought for a in answers.values() for name in a)
    # One statement (INSERT … ON CONFLICT DO UPDATE): a newer answer replaces an older one.
    CachedAnswer.objects.for_workspace(workspace_id).bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["workspace", "provider", "field", "fingerprint"],
        update_fields=[*fields, "expires_at"],
    )
