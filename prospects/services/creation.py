"""Creating prospects with every guard (invalid, objected, duplicate), and the companies they
work at."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import companies, company_merge
from ..models import Company, FieldProvenance, ImportBatch, Prospect, Source, Workspace
from ..models import auto_enrich_steps as models_auto_enrich_steps
from ..normalizing import apply_normalizers
from ..signals import notify_prospects_created
from .cleaning import ProspectRejected, clean_prospect_data
from .objections import ensure_not_suppressed
from .provenance import record_initial_provenance


def get_or_create_company(
    workspace: Workspace, values: dict[str, str], *, source: str | None = None
) -> Company | None:
    """The workspace's company these values identify (SIREN, else domain, else name), created
    if missing; with `source`, the values it is given are recorded as that source's."""
    return companies.resolve_company(workspace.pk, values, source=source)


def get_or_create_companies(
    workspace_id: int, values: list[dict[str, str]]
) -> list[Company | None]:
    """`get_or_create_company` for many sets of values at once (the same identity, the same
    company); None where the values name no company."""
    found = companies.resolve_companies(workspace_id, values)
    return [found.get(companies.Identity.of(item)) for item in values]


def find_company(
    workspace_id: int, *, siren: str = "", domain: str = "", exclude: int | None = None
) -> Company | None:
    """The workspace's company with this SIREN, else this domain (other than `exclude`)."""
    identity = companies.Identity(siren=siren, domain=domain)
    skip = [exclude] if exclude else []
    return companies.match_companies(workspace_id, [identity], exclude=skip).get(identity)


def merge_companies(kept: Company, others: list[Company]) -> Company:
    """Make the others one with `kept`: their prospects and provenance move to it."""
    with transaction.atomic():
        return company_merge.merge_into(
            kept, others, prospect_model=Prospect, provenance_model=FieldProvenance
        )


MATCH_KEYS = ("email_key", "linkedin_key", "name_key")


def find_duplicate(
    workspace: Workspace, candidate: Prospect, *, keys: tuple[str, ...] = MATCH_KEYS
) -> Prospect | None:
    """An existing prospect with the same email, LinkedIn URL or name at the same company
    (those of `keys` only)."""
    candidate.refresh_keys()
    prospects = Prospect.objects.for_workspace(workspace)
    for key in keys:
        value = getattr(candidate, key)
        if value:
            found = prospects.filter(**{key: value}).exclude(pk=candidate.pk).first()
            if found:
                return found
    return None


def create_prospect(
    workspace: Workspace,
    *,
    data: dict[str, Any],
    source: str = Source.MANUAL,
    user: Any = None,
    import_batch: ImportBatch | None = None,
    confidence: int = 100,
) -> Prospect:
    """Create one prospect from raw values after every guard (invalid, suppressed, duplicate);
    its values' provenance at `confidence` (100: what a person typed or imported)."""
    clean = clean_prospect_data(data)
    ensure_not_suppressed(workspace, email=clean.prospect["email"], phone=clean.prospect["phone"])
    with transaction.atomic():
        company = get_or_create_company(workspace, clean.company, source=source)
        prospect = Prospect(
            workspace=workspace,
            company=company,
            source=source,
            import_batch=import_batch,
            created_by=user if getattr(user, "pk", None) else None,
            **clean.prospect,
        )
        if find_duplicate(workspace, prospect):
            raise ProspectRejected(_("This prospect already exists."), reason="duplicate")
        try:
            with transaction.atomic():
                prospect.save()
        except IntegrityError as exc:
            raise ProspectRejected(_("This prospect already exists."), reason="duplicate") from exc
        record_initial_provenance(prospect, source=source, confidence=confidence)
        apply_normalizers(workspace.pk, prospects=[prospect], companies=[company])
    notify_prospects_created(workspace.pk, [prospect.pk])
    return prospect


def auto_enrich_steps(workspace_id: int) -> tuple[str, ...]:
    """What a workspace's new prospects get automatically, in order ("dropcontact", "email")."""
    choice = Workspace.objects.filter(pk=workspace_id).values_list("auto_enrich", flat=True).first()
    return models_auto_enrich_steps(choice or Workspace.AutoEnrich.NONE)
