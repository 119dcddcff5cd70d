from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import (
    admin_api_keys,  # noqa: F401  (registers the API keys)
    admin_imports,  # noqa: F401  (registers the import screens)
    admin_suppression,  # noqa: F401  (registers the objection list)
    admin_workspaces,  # noqa: F401  (registers workspaces, members, invitations)
    normalize,
    services,
)
from .admin_base import WorkspaceScopedAdmin
from .admin_exports import export_csv_excel, export_csv_plain
from .admin_imports import IMPORT_PANELS  # noqa: F401  (other apps add their panels to it)
from .admin_lists import (
    SEARCH_COUNT_LIMIT,
    BoundedCountPaginator,
    CompanyFilter,
    ImportBatchFilter,
    ProspectChangeList,
    ScoreFilter,
    choice_label,
    search_prospects,
    with_email_score,
)
from .models import (
    COMPANY_FIELDS,
    Company,
    Prospect,
    Source,
    Workspace,
    validate_siren,
    validate_siret,
)
from .signals import notify_prospects_created

admin.site.site_header = _("Sourcier")
admin.site.site_title = _("Sourcier")
admin.site.index_title = _("Sales operations")

# Other apps add their prospect actions and change-page panels here (they may not be imported
# from prospects): enrichment's "re-enrich", campaigns' "add to a campaign".
PROSPECT_ACTIONS: list[Any] = []
PROSPECT_PANELS: list[str] = []
# And their filters of the prospect list (campaigns' "campaign").
PROSPECT_FILTERS: list[Any] = []


class RegistryNumberField(forms.CharField):
    """A SIREN or SIRET as people type it ('332 426 964'): the spaces go before the length
    and checksum are checked, so the answer is about the number, not its spelling."""

    def to_python(self, value: Any) -> str:
        return "".join(super().to_python(value).split())


class CompanyForm(forms.ModelForm):
    siren = RegistryNumberField(
        label=_("SIREN"), max_length=9, required=False, validators=[validate_siren]
    )
    siret = RegistryNumberField(
        label=_("SIRET"), max_length=14, required=False, validators=[validate_siret]
    )

    class Meta:
        model = Company
        fields = COMPANY_FIELDS


@admin.register(Company)
class CompanyAdmin(WorkspaceScopedAdmin):
    form = CompanyForm
    list_display = (
        "name",
        "domain",
        "industry_code",
        "legal_form",
        "headcount",
        "location",
        "siren",
    )
    list_filter = ("industry_code", "legal_form")
    search_fields = ("name", "domain", "siren")
    # The classified industry and the legal form are derived from the industry and the name.
    fields = ("workspace", *COMPANY_FIELDS, "industry_code", "legal_form")
    readonly_fields = ("industry_code", "legal_form")

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            edited = tuple(f for f in COMPANY_FIELDS if f in form.changed_data)
            if edited:
                # What a person typed is never overwritten by a provider: say so in provenance.
                services.record_initial_provenance(obj, source=Source.MANUAL, fields=edited)
            services.apply_normalizers(obj.workspace_id, companies=[obj])


class ProspectForm(forms.ModelForm):
    """Normalises what a person types and refuses objectors and duplicates with a clear message."""

    class Meta:
        model = Prospect
        fields = (
            "workspace",
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "linkedin_url",
            "company",
        )

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def _normalise(self, name: str, func) -> str:
        try:
            return func(self.cleaned_data.get(name))
        except normalize.InvalidValue as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_email(self) -> str:
        return self._normalise("email", normalize.normalize_email)

    def clean_phone(self) -> str:
        return self._normalise("phone", normalize.normalize_phone)

    def clean_linkedin_url(self) -> str:
        return self._normalise("linkedin_url", normalize.canonical_linkedin)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        workspace = self.workspace or data.get("workspace")
        if workspace is None and self.instance.workspace_id:
            workspace = self.instance.workspace
        if workspace is None:
            return data
        company = data.get("company")
        if company is not None and company.workspace_id != workspace.pk:
            raise forms.ValidationError(
                {"company": _("This company belongs to another workspace.")}
            )
        has_name = data.get("first_name") and data.get("last_name")
        if not (data.get("email") or data.get("linkedin_url") or has_name):
            raise forms.ValidationError(
                _("A prospect needs an email, a LinkedIn URL or a first and last name.")
            )
        entry = services.find_suppression(
            workspace, email=data.get("email", ""), phone=data.get("phone", "")
        )
        if entry:
            services.record_blocked_attempt(entry)
            raise forms.ValidationError(
                _("This person is on the objection list and cannot be added."), code="suppressed"
            )
        candidate = Prospect(
            pk=self.instance.pk,
            workspace=workspace,
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            email=data.get("email", ""),
            linkedin_url=data.get("linkedin_url", ""),
            company=data.get("company"),
        )
        keys = services.MATCH_KEYS
        if self.instance.pk and (
            self.instance.first_name,
            self.instance.last_name,
            self.instance.company_id,
        ) == (candidate.first_name, candidate.last_name, candidate.company_id):
            # Neither renamed nor moved: a homonym a merge of companies brought stays one.
            keys = tuple(key for key in keys if key != "name_key")
        existing = services.find_duplicate(workspace, candidate, keys=keys)
        if existing:
            raise forms.ValidationError(
                _("This prospect already exists: %(name)s."), params={"name": existing}
            )
        return data


@admin.register(Prospect)
class ProspectAdmin(WorkspaceScopedAdmin):
    form = ProspectForm
    form_takes_workspace = True
    change_form_template = "admin/prospects/prospect/change_form.html"
    change_list_template = "admin/prospects/prospect/change_list.html"
    list_display = (
        "__str__",
        "status_badge",
        "email",
        "company",
        "job_title",
        "verified_at",
        "source",
        "score",
    )
    list_display_links = ("__str__",)
    list_filter = (
        "status",
        "source",
        CompanyFilter,
        ("verified_at", admin.DateFieldListFilter),
        ScoreFilter,
        ImportBatchFilter,
        "seniority",
        "department",
        "enrichment_source",
    )
    # Searched in the folded columns (admin_lists.search_prospects), not with these lookups.
    search_fields = ("search_key",)
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    list_per_page = 50
    actions = (export_csv_excel, export_csv_plain)
    paginator = BoundedCountPaginator
    # The "N total" link would count the whole workspace on every page.
    show_full_result_count = False
    readonly_fields = (
        "seniority",
        "department",
        "status_badge",
        "source",
        "import_batch",
        "enrichment_source",
        "enriched_at",
        "verified_at",
        "email_qualification",
        "last_error",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "workspace",
                    ("first_name", "last_name"),
                    "email",
                    "phone",
                    "job_title",
                    # Read from the job title whenever it is saved.
                    ("seniority", "department"),
                    "linkedin_url",
                    "company",
                )
            },
        ),
        (
            _("Enrichment"),
            {
                "fields": (
                    "status_badge",
                    "email_qualification",
                    "last_error",
                    ("source", "import_batch"),
                    ("enrichment_source", "enriched_at"),
                    "verified_at",
                    ("created_at", "updated_at"),
                )
            },
        ),
    )

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        for action in PROSPECT_ACTIONS:
            name = action.__name__
            actions[name] = (action, name, getattr(action, "short_description", name))
        return actions

    def get_changelist(self, request: HttpRequest, **kwargs: Any):
        return ProspectChangeList

    def get_paginator(self, request: HttpRequest, queryset: Any, per_page: int, *args, **kwargs):
        source = getattr(request, "list_count_source", None)
        bound = SEARCH_COUNT_LIMIT if request.GET.get(SEARCH_VAR, "").strip() else None
        return self.paginator(queryset, per_page, *args, count_source=source, bound=bound, **kwargs)

    def get_list_filter(self, request: HttpRequest):
        return (*self.list_filter[:4], *PROSPECT_FILTERS, *self.list_filter[4:])

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            return with_email_score(queryset)
        return queryset

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str):
        if not search_term.strip():
            return queryset, False
        return search_prospects(request, queryset, search_term), False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(
            request, {"title": gettext("Prospects"), **(extra_context or {})}
        )

    def action_checkbox(self, obj: Prospect) -> str:
        # The admin renders each row's checkbox through the form template engine: a fifth of
        # the page's time. The same markup, written directly.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    @admin.display(description=_("score"), ordering="email_score")
    def score(self, obj: Prospect) -> Any:
        value = getattr(obj, "email_score", None)
        return "—" if value is None else value

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj: Prospect) -> str:
        objected = getattr(obj, "objected", None)
        if objected is None:
            # The prospect's own page: one prospect, one lookup (the list sets it in bulk).
            objected = obj.pk is not None and services.is_prospect_suppressed(obj)
        if objected:
            # Whatever an enrichment said before, this person must not be contacted.
            return format_html('<span class="badge badge-objected">{}</span>', gettext("Objected"))
        if obj.status == Prospect.Status.NOT_VERIFIED and obj.not_verified_reason:
            return format_html(
                '<span class="badge badge-not_verified">{}</span>'
                '<span class="badge-reason">{}</span>',
                choice_label(Prospect, "status", obj.status),
                obj.not_verified_reason,
            )
        if obj.status == Prospect.Status.VERIFIED:
            source = choice_label(Prospect, "enrichment_source", obj.enrichment_source)
            source = source or gettext("Sourcier")
            when = (
                formats.date_format(timezone.localtime(obj.verified_at), "SHORT_DATE_FORMAT")
                if obj.verified_at
                else ""
            )
            return format_html(
                '<span class="badge badge-verified">✓ {}</span><span class="badge-date">{}</span>',
                gettext("Verified by %(source)s") % {"source": source},
                when,
            )
        return format_html(
            '<span class="badge badge-{}">{}</span>',
            obj.status,
            choice_label(Prospect, "status", obj.status),
        )

    def save_model(self, request: HttpRequest, obj: Prospect, form: Any, change: bool) -> None:
        with transaction.atomic():
            if not change:
                obj.source = Source.MANUAL
                obj.created_by = request.user
            super().save_model(request, obj, form, change)
            edited = tuple(f for f in services.PROSPECT_FIELDS if f in form.changed_data)
            if edited:
                services.record_initial_provenance(obj, source=Source.MANUAL, fields=edited)
            services.apply_normalizers(obj.workspace_id, prospects=[obj])
        if not change:
            notify_prospects_created(obj.workspace_id, [obj.pk])

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        obj = context.get("original")
        if obj is not None:
            labels = {f.name: f.verbose_name for f in Prospect._meta.fields}
            context["provenance"] = [
                (labels.get(field, field), rows)
                for field, rows in services.provenance_by_field(obj).items()
            ]
        context["prospect_panels"] = PROSPECT_PANELS
        return super().render_change_form(request, context, *args, **kwargs)
