"""The attempt rows of a waterfall item: one per provider asked for one field in one job (unique
key `{job}:{item}:{field}:{provider}`), what an earlier run or the cache already answered, and
the answers kept for the next item that asks the same question."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from ..engine import cache, gateway
from ..models import EnrichmentItem, ProviderAttempt, attempt_key
from ..providers.finders import Finding
from .waterfall_steps import finding_values, record_attempt


@dataclass(frozen=True)
class Candidate:
    """One provider's finding about the item's person."""

    provider: str
    finding: Finding
    call_id: int | None


def attempt_for(item: EnrichmentItem, provider: str, field: str) -> ProviderAttempt:
    key = attempt_key(item, field, provider)
    attempt, _created = ProviderAttempt.objects.for_workspace(item.workspace_id).get_or_create(
        idempotency_key=key,
        defaults={
            "workspace_id": item.workspace_id,
            "item": item,
            "provider": provider,
            "field": field,
        },
    )
    return attempt


class AttemptBook:
    """The item's attempts for one field in this job: those recorded by earlier runs, read in
    one query; a provider asked for the first time gets its row then."""

    def __init__(self, item: EnrichmentItem, field: str) -> None:
        self.item = item
        self.field = field
        self.new: set[int] = set()
        self.known = {
            attempt.idempotency_key: attempt
            for attempt in ProviderAttempt.objects.for_workspace(item.workspace_id).filter(
                item_id=item.pk, field=field
            )
        }

    def get(self, provider: str) -> ProviderAttempt:
        key = attempt_key(self.item, self.field, provider)
        attempt = self.known.get(key)
        if attempt is not None:
            return attempt
        try:
            with transaction.atomic():
                attempt = ProviderAttempt.objects.create(
                    workspace_id=self.item.workspace_id,
                    item=self.item,
                    provider=provider,
                    field=self.field,
                    idempotency_key=key,
                )
            self.new.add(attempt.pk)
        except IntegrityError:
            # Written meanwhile by a worker whose lease ran out: that row is this attempt.
            attempt = attempt_for(self.item, provider, self.field)
        self.known[key] = attempt
        return attempt

    def is_new(self, attempt: ProviderAttempt) -> bool:
        """Created by this run: nothing was ever reserved under its key."""
        return attempt.pk in self.new


def use_cached(item: EnrichmentItem, attempt: ProviderAttempt, cached) -> Candidate | None:
    """Record a cached answer as this attempt's (free, marked as from the cache)."""
    values = {
        "result": cached.result,
        "value": cached.value,
        "verified": cached.verified,
        "signal": cached.signal,
        "detail": cached.detail,
        "cost": 0,
        "from_cache": True,
    }
    record_attempt(item, attempt, **values)
    for name, value in values.items():
        setattr(attempt, name, value)
    return candidate_of(attempt) if cached.result == "found" else None


class AnswerCache:
    """The cache as one item's run sees it: the providers' kept answers to its question, read
    in one query when the first is needed, and the answers it buys, kept in one statement at
    the end of the run (`save`)."""

    def __init__(self, item: EnrichmentItem, field: str, query: Any, providers: list[str]):
        self.item = item
        self.field = field
        self.query = query
        self.providers = providers
        self._kept: dict[str, Any] | None = None
        self.bought: dict[str, dict[str, Any]] = {}

    def get(self, provider: str):
        """A still valid answer of `provider` to the item's question, if one was bought."""
        if self._kept is None:
            self._kept = cache.lookup_many(
                self.item.workspace_id, self.providers, self.field, self.query
            )
        return self._kept.get(provider)

    def remember(self, reply: gateway.Reply) -> None:
        """A bought answer (found or not) is not bought again within the cache period."""
        if reply.error is not None or reply.value is None:
            return
        self.bought[reply.provider] = finding_values(reply.value)

    def save(self) -> None:
        cache.remember_many(self.item.workspace_id, self.field, self.query, self.bought)
        self.bought = {}


def candidate_of(attempt: ProviderAttempt) -> Candidate:
    """The finding an earlier run recorded (facts are kept as JSON, an address as itself)."""
    facts = json.loads(attempt.value) if attempt.field == "company" and attempt.value else {}
    finding = Finding(
        email="" if facts else attempt.value,
        facts=facts,
        verified=attempt.verified,
        signal=attempt.signal,
        detail=attempt.detail,
    )
    return Candidate(attempt.provider, finding, attempt.call_id)
