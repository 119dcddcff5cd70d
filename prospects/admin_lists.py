"""What makes a long admin list usable at a million rows: a count that does not scan the table
on every page, a search in folded (accent- and case-free) columns that an index serves, and
filters whose choices are read in one short query each."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Exists, IntegerField, OuterRef, Q, Subquery
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import normalize, services
from .admin_base import scope_for
from .models import Company, FieldProvenance, ImportBatch, Prospect

# Past this many rows a list says "more than N" (SQLite) or "about N" (PostgreSQL's estimate)
# instead of counting every row for every page.
EXACT_COUNT_LIMIT = 10_000
# A search's count stops here: past it, the list says "more than" (the matches are read).
SEARCH_COUNT_LIMIT = 1_000
# A search word matches at most this many companies by name or domain (one short query each).
SEARCH_COMPANY_LIMIT = 500
SEARCH_WORD_LIMIT = 5
# The companies and import batches offered as filters: the most recent ones, plus the chosen one.
FILTER_CHOICES = 30


class BoundedCountPaginator(Paginator):
    """A paginator whose count stops at EXACT_COUNT_LIMIT + 1 rows, or is PostgreSQL's estimate.

    `count_kind` says what the figure is: "exact", "bound" (more than `limit`) or "estimate";
    the list then says "plus de 10000 prospects" or "environ 1000000 prospects".
    `count_source`, when given, is a queryset with as many rows as the list, cheaper to count
    (a campaign's members rather than the prospects joined to them). `bound`, when given, is
    where a count stops on every database (a search: "plus de 1000 prospects").
    """

    count_kind = "exact"
    limit = EXACT_COUNT_LIMIT

    def __init__(
        self,
        *args: Any,
        count_source: models.QuerySet | None = None,
        bound: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.count_source = count_source
        self.bound = bound

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, models.QuerySet):
            return len(queryset)
        if self.count_source is not None:
            return self.count_source.count()
        limit = self.bound or EXACT_COUNT_LIMIT
        if self.bound is None and connections[queryset.db].vendor == "postgresql":
            estimate = _planner_estimate(queryset)
            if estimate > limit:
                self.count_kind = "estimate"
                return estimate
            return queryset.count()
        bounded = queryset.order_by().values("pk")[: limit + 1].count()
        if bounded > limit:
            self.count_kind, self.limit = "bound", limit
        return bounded


def _planner_estimate(queryset: models.QuerySet) -> int:
    """The number of rows PostgreSQL's planner expects (EXPLAIN, nothing is read)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def choice_label(model: type[models.Model], field_name: str, value: Any) -> str:
    """`get_FOO_display()` without rebuilding the field's choices for every row of a list."""
    return _choice_labels(model, field_name, get_language()).get(value, value)


@functools.lru_cache(maxsize=128)
def _choice_labels(model: type[models.Model], field_name: str, language: str) -> dict:
    field = model._meta.get_field(field_name)
    return {value: str(label) for value, label in field.flatchoices}


def search_words(term: str) -> list[str]:
    """The folded words of a search, as the search keys store them ('Ménard' -> 'menard')."""
    return normalize.fold(term).split()[:SEARCH_WORD_LIMIT]


def search_prospects(request: HttpRequest, queryset: models.QuerySet, term: str) -> models.QuerySet:
    """Prospects whose folded name or address, or whose company's name or domain, holds every
    word of `term`, accents and case aside."""
    companies = scope_for(request, Company.objects.all())
    for word in search_words(term):
        company_ids = list(
            companies.filter(Q(name_key__contains=word) | Q(domain__contains=word))
            .order_by()
            .values_list("pk", flat=True)[:SEARCH_COMPANY_LIMIT]
        )
        match = Q(search_key__contains=word)
        if company_ids:
            match |= Q(company_id__in=company_ids)
        queryset = queryset.filter(match)
    return queryset


def with_email_score(queryset: models.QuerySet) -> models.QuerySet:
    """Each prospect's score: the confidence of its stored email (one subquery, indexed)."""
    confidence = FieldProvenance.objects.filter(
        prospect=OuterRef("pk"), field="email", is_current=True
    ).values("confidence")[:1]
    if "email_score" in queryset.query.annotations:
        return queryset
    return queryset.annotate(email_score=Subquery(confidence, output_field=IntegerField()))


class ScoreFilter(admin.SimpleListFilter):
    title = _("score")
    parameter_name = "score"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return [
            ("high", _("90 and above")),
            ("medium", _("50 to 89")),
            ("low", _("below 50")),
            ("none", _("no score")),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet):
        ranges = {
            "high": Q(confidence__gte=90),
            "medium": Q(confidence__gte=50, confidence__lt=90),
            "low": Q(confidence__lt=50),
            "none": Q(),
        }
        value = self.value()
        if value not in ranges:
            return queryset
        # A semi-join on the provenance index rather than a comparison of the annotated
        # subquery: the planner can then read the matching rows first.
        scored = FieldProvenance.objects.filter(
            ranges[value], prospect=OuterRef("pk"), field="email", is_current=True
        )
        if value == "none":
            return queryset.filter(~Exists(scored))
        return queryset.filter(Exists(scored))


class RecentChoicesFilter(admin.SimpleListFilter):
    """A filter on a foreign key offering the workspace's most recent rows (and the chosen one):
    a list of every company of a large workspace would be the slowest part of the page."""

    model: type[models.Model]
    field_name: str
    order_by: tuple[str, ...] = ("-pk",)

    def choices_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_for(request, self.model.objects.all())

    def lookups(self, request: HttpRequest, model_admin: Any):
        rows = self.choices_queryset(request)
        chosen = self.value()
        picked = list(rows.order_by(*self.order_by)[:FILTER_CHOICES])
        if chosen and chosen.isdigit() and all(str(row.pk) != chosen for row in picked):
            picked.extend(rows.filter(pk=int(chosen)))
        return [(str(row.pk), str(row)) for row in picked]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet):
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit()):
            return queryset.none()
        # Another workspace's id finds nothing: the prospects are already scoped.
        return queryset.filter(**{f"{self.field_name}_id": int(value)})


class CompanyFilter(RecentChoicesFilter):
    title = _("company")
    parameter_name = "company__id__exact"
    model = Company
    field_name = "company"
    order_by = ("-updated_at", "-pk")


class ImportBatchFilter(RecentChoicesFilter):
    title = _("import")
    parameter_name = "import_batch__id__exact"
    model = ImportBatch
    field_name = "import_batch"
    order_by = ("-created_at", "-pk")


class ProspectChangeList(ChangeList):
    """The prospect list, knowing in one query which of the page's people objected."""

    def get_results(self, request: HttpRequest) -> None:
        request.list_count_source = self.count_source(request)
        super().get_results(request)
        prospects = list(self.result_list)
        by_workspace: dict[int, list[Prospect]] = {}
        for prospect in prospects:
            by_workspace.setdefault(prospect.workspace_id, []).append(prospect)
        objected = set()
        for workspace_id, group in by_workspace.items():
            objected |= services.objecting_prospect_ids(workspace_id, group)
        for prospect in prospects:
            prospect.objected = prospect.pk in objected

    def count_source(self, request: HttpRequest) -> Any:
        """A cheaper count of the same rows when one filter alone narrows the list and knows
        one (`count_alone`: a campaign's members rather than the prospects joined to them)."""
        params = self.get_filters_params()
        if self.query or len(params) != 1:
            return None
        for spec in self.filter_specs:
            if set(spec.used_parameters) == set(params) and hasattr(spec, "count_alone"):
                return spec.count_alone(request)
        return None
