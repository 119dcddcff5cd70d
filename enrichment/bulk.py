"""Bulk enrichment jobs: validate what is asked, estimate it before anything is spent, start it
(its items are queued by `waterfall_queue`), cancel it, and let paused jobs resume by themselves
(admin action, command line and API)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from prospects import services as prospect_services
from prospects.models import OBJECTION_REASONS, Prospect, Workspace

from . import credentials
from .engine import bulk_sql
from .engine.jobs import refresh_jobs
from .models import EnrichmentItem, EnrichmentJob
from .pipelines import waterfall
from .providers.company_finders import COMPANY_FINDERS, DEFAULT_COMPANY_ORDER
from .providers.finders import DEFAULT_EMAIL_ORDER, DISCOVERY, EMAIL_FINDERS
from .providers.registry import PROVIDERS, get_provider
from .waterfall_queue import DEFAULT_STATUSES, queue_waterfall
from .webhooks import events

Item = EnrichmentItem.Status
FIELDS = ("email", "company")


NO_PROVIDER = {
    "email": _lazy("No provider of the email waterfall has a usable API key: add one first."),
    "company": _lazy("No provider of the company waterfall has a usable API key: add one first."),
}


class JobRefused(ValueError):
    """The job cannot be made as asked; the message says why, in French, and `code` in a
    stable word (the engine's outcome code where one applies)."""

    def __init__(self, message: str, *, code: str = "job_refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Estimate:
    """What a job would do and, at most, cost (each provider asked at most once per person)."""

    prospect_ids: list[int]
    providers: list[str]
    # The most the email waterfall can cost for one prospect.
    per_prospect: Decimal
    excluded: dict[str, int] = field(default_factory=dict)
    fields: list[str] = field(default_factory=lambda: ["email"])
    # One prospect per company, through which its company is looked up.
    company_prospect_ids: list[int] = field(default_factory=list)
    subtotal: Decimal = Decimal(0)

    @property
    def count(self) -> int:
        return len(self.prospect_ids) or len(self.company_prospect_ids)

    @property
    def most(self) -> Decimal:
        # "At most": rounded up to the cent, never down.
        return self.subtotal.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def check_fields(fields: Iterable[str]) -> list[str]:
    wanted = [f.strip() for f in fields if f.strip()]
    unknown = [f for f in wanted if f not in FIELDS]
    if unknown or not wanted:
        raise JobRefused(
            _("Unknown field(s): %(fields)s. Available: %(available)s.")
            % {"fields": ", ".join(unknown) or "—", "available": ", ".join(FIELDS)},
            code="unknown_field",
        )
    return wanted


# Each field a job can ask for: its pipeline, the vendors that can answer, their default order.
WATERFALLS = {
    "email": (waterfall.PIPELINE, EMAIL_FINDERS, DEFAULT_EMAIL_ORDER),
    "company": (waterfall.COMPANY_PIPELINE, COMPANY_FINDERS, DEFAULT_COMPANY_ORDER),
}


def _no_default_provider(workspace_id: int, wanted: str) -> JobRefused:
    """No provider of the default order has a key: name those of the field that have one
    (Hunter, Apollo…), which a job takes when its order names them."""
    others = [slug for slug in WATERFALLS[wanted][1] if slug != DISCOVERY]
    keyed = credentials.usable_keys(workspace_id, others)
    if not keyed:
        return JobRefused(NO_PROVIDER[wanted], code="no_provider")
    labels = ", ".join(str(PROVIDERS[slug].label) for slug in others if slug in keyed)
    return JobRefused(
        _(
            "No provider of the default order (%(default)s) has a usable API key. This "
            "workspace has one for %(keyed)s: name it in the job's provider order "
            "(--providers on the command line)."
        )
        % {
            "default": ", ".join(str(PROVIDERS[slug].label) for slug in WATERFALLS[wanted][2]),
            "keyed": labels,
        },
        code="no_provider",
    )


def discovery_first(workspace_id: int) -> bool:
    return (
        Workspace.objects.filter(pk=workspace_id).values_list("discovery_first", flat=True).first()
        or False
    )


def check_providers(
    workspace_id: int, providers: Iterable[str] | None, fields: Iterable[str] = ("email",)
) -> list[str]:
    """The job's provider order: known providers of the fields' waterfalls that have a usable
    key, in the given order, each once; the default order keeps only those with a key."""
    fields = list(fields)
    known = {slug: wanted for wanted in fields for slug in WATERFALLS[wanted][1]}
    if providers is None:
        order = []
        for wanted in fields:
            default = list(WATERFALLS[wanted][2])
            if wanted == "email" and discovery_first(workspace_id):
                default.insert(0, DISCOVERY)
            keyed = credentials.usable_keys(workspace_id, default)
            usable = [p for p in default if p in keyed]
            if not usable:
                raise _no_default_provider(workspace_id, wanted)
            order += usable
        return order
    order = list(dict.fromkeys(p.strip() for p in providers if p.strip()))
    unknown = [p for p in order if p not in known]
    if unknown or not order:
        raise JobRefused(
            _("Unknown provider(s) for %(fields)s: %(providers)s. Available: %(available)s.")
            % {
                "fields": ", ".join(fields),
                "providers": ", ".join(unknown) or "—",
                "available": ", ".join(known),
            },
            code="unknown_provider",
        )
    keyed = credentials.usable_keys(workspace_id, order)
    keyless = [p for p in order if p not in keyed]
    if keyless:
        raise JobRefused(
            _("No usable API key for: %(providers)s.")
            % {"providers": ", ".join(str(PROVIDERS[p].label) for p in keyless)},
            code="key_missing",
        )
    for wanted in fields:
        if not any(known[p] == wanted for p in order):
            raise JobRefused(NO_PROVIDER[wanted], code="no_provider")
    return order


def estimate_job(
    workspace_id: int,
    prospect_ids: Iterable[int] | None = None,
    *,
    fields: Iterable[str] = ("email",),
    providers: Iterable[str] | None = None,
    statuses: Iterable[str] = DEFAULT_STATUSES,
) -> Estimate:
    """Which prospects a job would take (and why others not), and the most it can cost."""
    fields = check_fields(fields)
    order = check_providers(workspace_id, providers, fields)
    scope = Prospect.objects.for_workspace(workspace_id)
    if prospect_ids is not None:
        scope = scope.filter(pk__in=bulk_sql.in_ids(prospect_ids))
    # Rows, not model instances: making 1,000 prospects took a third of an estimate's time.
    chosen = list(
        scope.filter(status__in=list(statuses)).values_list(
            "pk", "email", "phone", "company_id", "verification_reason", named=True
        )
    )
    excluded = {"status": scope.exclude(status__in=list(statuses)).count()}
    pipelines = [WATERFALLS[wanted][0] for wanted in fields]
    busy = set(
        EnrichmentItem.objects.for_workspace(workspace_id)
        .active()
        .filter(provider__in=pipelines, prospect__in=bulk_sql.in_ids(p.pk for p in chosen))
        .values_list("prospect_id", flat=True)
    )
    objecting = prospect_services.objecting_prospect_ids(workspace_id, chosen) | {
        p.pk for p in chosen if p.verification_reason in OBJECTION_REASONS
    }
    excluded["busy"] = len(busy)
    excluded["objected"] = len(objecting - busy)
    kept = [p for p in chosen if p.pk not in busy and p.pk not in objecting]
    # A company is looked up once, through one of its prospects.
    companies: dict[int, int] = {}
    for prospect in kept:
        if prospect.company_id:
            companies.setdefault(prospect.company_id, prospect.pk)
    estimate = Estimate(
        prospect_ids=[p.pk for p in kept] if "email" in fields else [],
        providers=order,
        per_prospect=Decimal(0),
        excluded=excluded,
        fields=fields,
        company_prospect_ids=list(companies.values()) if "company" in fields else [],
    )
    for wanted in fields:
        price = sum(
            (get_provider(p).max_cost for p in order if p in WATERFALLS[wanted][1]), Decimal(0)
        )
        subjects = estimate.prospect_ids if wanted == "email" else estimate.company_prospect_ids
        estimate.subtotal += price * len(subjects)
        if wanted == "email":
            estimate.per_prospect = price
    return estimate


def start_job(workspace: Workspace, estimate: Estimate, *, user: Any = None) -> EnrichmentJob:
    """Create the job an estimate describes and queue its prospects (after confirmation)."""
    with transaction.atomic():
        kinds = {
            ("email",): EnrichmentJob.Kind.EMAIL,
            ("company",): EnrichmentJob.Kind.COMPANY,
        }
        job = EnrichmentJob.objects.create(
            workspace=workspace,
            kind=kinds.get(tuple(estimate.fields), EnrichmentJob.Kind.WATERFALL),
            status=EnrichmentJob.Status.RUNNING,
            providers=estimate.providers,
            estimated_credits=estimate.most,
            created_by=user if getattr(user, "pk", None) else None,
        )
        queued = queue_waterfall(workspace.pk, estimate.prospect_ids, job=job)
        queued += queue_waterfall(
            workspace.pk,
            estimate.company_prospect_ids,
            job=job,
            pipeline=waterfall.COMPANY_PIPELINE,
        )
        job.total_items = len(queued)
        if not queued:
            job.status = EnrichmentJob.Status.COMPLETED
            job.finished_at = timezone.now()
        job.save(update_fields=["total_items", "status", "finished_at"])
        if not queued:
            events.emit_job_status(workspace.pk, [job.pk])
    return job


CANCELLABLE = (
    EnrichmentJob.Status.PENDING,
    EnrichmentJob.Status.RUNNING,
    EnrichmentJob.Status.PAUSED,
)


def cancel_job(workspace: Workspace, job_id: int) -> int:
    """Stop scheduling a job's items; calls in flight finish and are kept. Returns how many
    items were cancelled."""
    job = EnrichmentJob.objects.for_workspace(workspace).get(pk=job_id)
    if job.status not in CANCELLABLE:
        raise JobRefused(
            _("Only a job that is waiting, running or paused can be cancelled."),
            code="not_cancellable",
        )
    now = timezone.now()
    with transaction.atomic():
        waiting = EnrichmentItem.objects.for_workspace(workspace).filter(
            job=job, status__in=(Item.PENDING, Item.WAITING_KEY)
        )
        prospect_ids = list(waiting.values_list("prospect_id", flat=True))
        cancelled = waiting.update(status=Item.CANCELLED, finished_at=now, updated_at=now)
        # Back to where they were: new if never enriched, else not verified.
        prospects = Prospect.objects.for_workspace(workspace).filter(
            pk__in=bulk_sql.in_ids(prospect_ids), status=Prospect.Status.ENRICHING
        )
        prospects.filter(enriched_at__isnull=True).update(status=Prospect.Status.NEW)
        prospects.update(status=Prospect.Status.NOT_VERIFIED)
        EnrichmentJob.objects.for_workspace(workspace).filter(pk=job.pk).update(
            status=EnrichmentJob.Status.CANCELLED, paused_until=None, pause_reason=""
        )
        events.emit_job_status(workspace.pk, [job.pk])
    refresh_jobs([job.pk])
    return cancelled


def resume_paused_jobs(*, now=None) -> int:
    """Paused jobs whose time has come run again (their items were scheduled for then)."""
    now = now or timezone.now()
    return (
        EnrichmentJob.objects.unscoped()
        .filter(status=EnrichmentJob.Status.PAUSED, paused_until__lte=now)
        .update(status=EnrichmentJob.Status.RUNNING, paused_until=None, pause_reason="")
    )


def describe_estimate(estimate: Estimate) -> str:
    """One French sentence for a confirmation page or a command."""
    providers = " → ".join(str(PROVIDERS[p].label) for p in estimate.providers)
    most = formats.number_format(estimate.most, 2, use_l10n=True)
    subjects = []
    if "email" in estimate.fields:
        count = len(estimate.prospect_ids)
        subjects.append(
            ngettext("%(count)s prospect", "%(count)s prospects", count) % {"count": count}
        )
    if "company" in estimate.fields:
        count = len(estimate.company_prospect_ids)
        subjects.append(
            ngettext("%(count)s company", "%(count)s companies", count) % {"count": count}
        )
    return _("%(subjects)s through %(providers)s: at most %(most)s €.") % {
        "subjects": _(" and ").join(subjects),
        "providers": providers,
        "most": most,
    }
