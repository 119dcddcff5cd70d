"""The prospects routes of the JSON API (mounted in config/api.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.pagination import Page, PageQuery, paginate
from config.api_support.params import FilterText, IsoDateTime, id_path
from config.api_support.principal import principal, workspace_of

from . import services
from .models import Prospect, Source

router = Router(tags=["prospects"])

# The engine's outcome code where one applies ("objected"), the import's reasons otherwise.
REJECTION = {
    "invalid": (422, "invalid"),
    "duplicate": (409, "duplicate"),
    "suppressed": (422, "objected"),
}


# Answers are pydantic models, not ninja Schemas: the routes hand them dicts, and a Schema
# wraps each object in a getter made for ORM rows, which took a third of a page's CPU time.
# (The OpenAPI schema is the same either way.)
class CompanyOut(BaseModel):
    id: int
    name: str
    domain: str
    website: str
    siren: str


class ProspectOut(BaseModel):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    linkedin_url: str
    seniority: str
    department: str
    status: str
    verification_reason: str
    source: str
    enrichment_source: str
    company: CompanyOut | None
    created_at: dt.datetime
    updated_at: dt.datetime
    enriched_at: dt.datetime | None
    verified_at: dt.datetime | None


class ProvenanceOut(Schema):
    value: str
    source: str
    confidence: int
    observed_at: dt.datetime
    is_current: bool
    provider_call_id: int | None


class ProspectDetailOut(ProspectOut):
    provenance: dict[str, list[ProvenanceOut]]


class ProspectIn(Schema):
    first_name: str = Field("", max_length=1000)
    last_name: str = Field("", max_length=1000)
    email: str = Field("", max_length=1000)
    phone: str = Field("", max_length=1000)
    job_title: str = Field("", max_length=1000)
    linkedin_url: str = Field("", max_length=1000)
    company_name: str = Field("", max_length=1000)
    company_website: str = Field("", max_length=1000)
    company_domain: str = Field("", max_length=1000)


class ProspectFilters(Schema):
    # Not nullable in the schema: a query string has no null, only an absent parameter.
    status: Prospect.Status = None
    source: Source = None
    email: FilterText = Field(None, max_length=254, description="exact address, any case")
    company_domain: FilterText = Field(None, max_length=255)
    q: FilterText = Field(None, max_length=200, description="in the name or the email")
    created_after: IsoDateTime = None
    created_before: IsoDateTime = None


def prospect_out(prospect: Prospect) -> dict:
    data = {name: getattr(prospect, name) for name in ProspectOut.model_fields if name != "company"}
    company = prospect.company
    data["company"] = (
        None
        if company is None
        else {name: getattr(company, name) for name in CompanyOut.model_fields}
    )
    return data


# What a page of the list reads: these columns only, as rows rather than model instances
# (making 50 prospects and their companies cost more than the page's queries).
LISTED = [
    *(name for name in ProspectOut.model_fields if name != "company"),
    *(f"company__{name}" for name in CompanyOut.model_fields),
]


def listed_out(row: dict) -> dict:
    """A row of `.values(*LISTED)` as ProspectOut."""
    company = {name: row.pop(f"company__{name}") for name in CompanyOut.model_fields}
    row["company"] = None if company["id"] is None else company
    return row


def get_prospect(request: HttpRequest, prospect_id: int) -> Prospect:
    """The workspace's prospect, else the 404 a missing one gets."""
    prospect = (
        Prospect.objects.for_workspace(workspace_of(request))
        .select_related("company")
        .filter(pk=prospect_id)
        .first()
    )
    if prospect is None:
        raise not_found()
    return prospect


@router.post("/prospects", response={201: ProspectOut, **errors(409)}, summary="Add a prospect")
def create_prospect(request: HttpRequest, payload: ProspectIn):
    """The same rules as the import and the admin (invalid, objection list, duplicate); the
    prospect is then enriched as the workspace's automatic enrichment says."""
    who = principal(request)
    try:
        prospect = services.create_prospect(
            who.workspace, data=payload.model_dump(), source=Source.API, user=who.user
        )
    except services.ProspectRejected as exc:
        status, code = REJECTION.get(exc.reason, (422, "invalid"))
        raise ApiError(status, code, str(exc)) from exc
    return Status(201, prospect_out(get_prospect(request, prospect.pk)))


@router.get("/prospects", response={200: Page[ProspectOut], **errors()}, summary="List prospects")
def list_prospects(request: HttpRequest, page: Query[PageQuery], filters: Query[ProspectFilters]):
    rows = Prospect.objects.for_workspace(workspace_of(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.source:
        rows = rows.filter(source=filters.source)
    if filters.email:
        rows = rows.filter(email__iexact=filters.email.strip())
    if filters.company_domain:
        rows = rows.filter(company__domain=filters.company_domain.strip().lower())
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        rows = rows.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    if filters.created_after:
        rows = rows.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        rows = rows.filter(created_at__lt=filters.created_before)
    return paginate(rows.order_by("-created_at", "-id").values(*LISTED), page, listed_out)


@router.get(
    "/prospects/{prospect_id}",
    response={200: ProspectDetailOut, **errors(404)},
    summary="A prospect with the provenance of its values",
)
def get_prospect_detail(request: HttpRequest, prospect_id: int = id_path()):
    prospect = get_prospect(request, prospect_id)
    data = prospect_out(prospect)
    data["provenance"] = {
        field: [{name: getattr(row, name) for name in ProvenanceOut.model_fields} for row in rows]
        for field, rows in services.provenance_by_field(prospect).items()
    }
    return data
