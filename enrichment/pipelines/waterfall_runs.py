"""One item's way through the email waterfall's rounds (`Run`), and how it ends: the items
still held are applied together, or retried, parked, deferred or paused one at a time, as
`waterfall` writes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ..engine import claims, outcomes, retry
from ..models import EnrichmentItem
from ..providers.base import ProviderError
from . import waterfall, waterfall_apply
from .waterfall_attempts import Candidate

Item = EnrichmentItem.Status


@dataclass
class Run:
    """One item's way through the waterfall within the rounds."""

    item: EnrichmentItem
    query: object
    order: list[str]
    step: int = 0
    asked: int = 0
    done: bool = False
    lost: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    unresolved: list[tuple[str, ProviderError]] = field(default_factory=list)
    # Stopped before the end: ("pause", code, resume_at) or ("defer", seconds).
    stop: tuple | None = None

    @property
    def looking(self) -> bool:
        return not (self.done or self.lost or self.stop)


def finish(workspace_id: int, token: str, runs: list[Run]) -> dict[int, str]:
    """Each item's ending, written for the items still held: applied together, retried,
    parked, deferred or paused."""
    results: dict[int, str] = {}
    to_apply = []
    for run in runs:
        verified = any(c.finding.verified for c in run.candidates)
        if run.lost:
            results[run.item.pk] = "lease-lost"
        elif run.stop is not None or (run.unresolved and not verified) or run.asked == 0:
            results[run.item.pk] = end_alone(workspace_id, run)
        else:
            to_apply.append(run)
    if to_apply:
        applied = waterfall_apply.apply_email_findings(
            workspace_id, token, [(run.item, run.candidates) for run in to_apply]
        )
        for run in to_apply:
            verified = any(c.finding.verified for c in run.candidates)
            results[run.item.pk] = (
                "lease-lost"
                if run.item.pk not in applied
                else "verified"
                if verified
                else "unverified"
                if run.candidates
                else "not-found"
            )
    return results


def end_alone(workspace_id: int, run: Run) -> str:
    """The rarer endings, one item at a time (as `waterfall` writes them)."""
    item = run.item
    try:
        if run.stop and run.stop[0] == "pause":
            return waterfall.pause(item, run.stop[1], resume_at=run.stop[2])
        if run.stop:
            return waterfall.defer(item, seconds=run.stop[1])
        if not run.unresolved:
            return waterfall.park_without_key(item)
        # A vendor that failed for a passing reason may still know: later, only it.
        provider, error = run.unresolved[-1]
        code, detail = outcomes.of_error(error)
        with transaction.atomic():
            claims.write_claimed(item, statuses=(Item.SUBMITTED,), updated_at=timezone.now())
            retry.fail_items(
                workspace_id, [item], code, provider=provider, detail=detail, now=timezone.now()
            )
        return "retry"
    except claims.LeaseLost:
        return "lease-lost"
