"""The providers' circuit breakers, for administrators (the "Technique" section): the state of
each, how many of its latest calls failed, and when an open one lets a trial call through."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from prospects.admin_base import is_workspace_admin

from ..admin_costs import BREAKER_LABELS
from ..engine import breaker
from ..providers.registry import PROVIDERS


@dataclass(frozen=True)
class BreakerRow:
    slug: str
    label: str
    state: str
    state_label: str
    failures: int
    calls: int
    probe_at: dt.datetime | None


def breaker_rows(now: float | None = None) -> list[BreakerRow]:
    """One row per provider of the registry, read from the shared store (database or Redis)."""
    now = time.time() if now is None else now
    shared = breaker.default_breaker()
    rows = []
    for spec in PROVIDERS.values():
        state, _version = shared.store.load(spec.slug)
        phase = breaker.phase(state, now, shared.policy)
        probe_at = None
        if phase == breaker.OPEN and state.opened_at is not None:
            probe_at = dt.datetime.fromtimestamp(state.opened_at + shared.policy.cooldown, dt.UTC)
        rows.append(
            BreakerRow(
                slug=spec.slug,
                label=spec.label,
                state=phase,
                state_label=str(BREAKER_LABELS[phase]),
                failures=state.results.count("x"),
                calls=len(state.results),
                probe_at=probe_at,
            )
        )
    return rows


def breakers_view(request: HttpRequest) -> HttpResponse:
    if not is_workspace_admin(request):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": gettext("Providers' circuit breakers"),
        "rows": breaker_rows(),
        "policy": breaker.default_breaker().policy,
    }
    return TemplateResponse(request, "admin/technique/breakers.html", context)
