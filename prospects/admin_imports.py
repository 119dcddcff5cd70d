"""Import screens: upload, column mapping, preview, import, rejected rows as CSV."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import imports, uploads
from .admin_base import WorkspaceScopedAdmin
from .models import ImportBatch, Prospect, RejectedRow

# Above this many rows the import runs in a Celery worker and the batch page shows progress.
SYNC_IMPORT_MAX_ROWS = 20_000
# The batch's first prospects on its page; the rest are the prospect list, filtered.
BATCH_PAGE_PROSPECTS = 20
# The most characters of a sample cell the mapping step shows.
EXAMPLE_CHARS = 80
# Other apps add panels to a batch's page (enrichment: what enriching its prospects did/cost).
IMPORT_PANELS: list[str] = []
ACCEPTED_EXTENSIONS = (".csv", ".txt", ".tsv")


def _whole(number: float) -> int | float:
    """24.0 as 24 (shown as "24 heures"), 0.5 as it is."""
    return int(number) if float(number).is_integer() else number


def sync_import_max_rows() -> int:
    return getattr(settings, "SOURCIER_IMPORT_SYNC_MAX_ROWS", SYNC_IMPORT_MAX_ROWS)


class UploadForm(uploads.SizeLimitedFileForm):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            'Excel "CSV UTF-8", "CSV (semicolon separated)" or "Unicode text" files, '
            "with a header line."
        ),
    )
    too_large_message = gettext_lazy(
        "The file is larger than %(max)s, the most an upload may be. Split it into "
        "smaller files, or have an operator import it with the import_prospects "
        "command. Nothing was imported."
    )

    def clean_file(self):
        upload = super().clean_file()
        if not upload.name.lower().endswith(ACCEPTED_EXTENSIONS):
            raise forms.ValidationError(
                _("Upload a .csv file (a .txt or .tsv export from Excel also works).")
            )
        return upload


class MappingForm(forms.Form):
    """One choice per column: the field it feeds, or “ignore”."""

    def __init__(self, *args: Any, header: imports.CsvHeader, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = header.columns
        choices = [(imports.IGNORE, _("ignore")), *imports.FIELD_LABELS.items()]
        for index, column in enumerate(header.columns):
            examples = [
                _example(row[index]) for row in header.samples if index < len(row) and row[index]
            ]
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column,
                choices=choices,
                required=False,
                initial=header.fields[index],
                help_text=" · ".join(examples),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.targets = [data.get(f"col_{i}") or imports.IGNORE for i in range(len(self.columns))]
        chosen = [target for target in self.targets if target]
        for target in sorted(set(chosen)):
            if chosen.count(target) > 1:
                raise forms.ValidationError(
                    _('"%(field)s" is chosen for more than one column.')
                    % {"field": imports.FIELD_LABELS[target]}
                )
        if not imports.has_identity(self.targets):
            raise forms.ValidationError(imports.identity_error())
        return data


@admin.register(ImportBatch)
class ImportBatchAdmin(WorkspaceScopedAdmin):
    change_list_template = "admin/prospects/importbatch/change_list.html"
    change_form_template = "admin/prospects/importbatch/change_form.html"
    list_display = (
        "filename",
        "status",
        "total_rows",
        "created_count",
        "duplicate_count",
        "suppressed_count",
        "invalid_count",
        "created_by",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("filename",)
    readonly_fields = (
        "filename",
        "status",
        "encoding",
        "delimiter",
        "total_rows",
        "created_count",
        "duplicate_count",
        "suppressed_count",
        "invalid_count",
        "error",
        "created_by",
        "created_at",
        "finished_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Batches are written by the import only; people look at them.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An imported batch is the origin of its prospects' values: only an abandoned preview
        # or a failed import may go.
        deletable = obj is None or obj.status in (
            ImportBatch.Status.PREVIEW,
            ImportBatch.Status.FAILED,
            ImportBatch.Status.EXPIRED,
        )
        return deletable and super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: ImportBatch) -> None:
        stored = obj.stored_file
        super().delete_model(request, obj)
        transaction.on_commit(lambda: imports.discard_file(stored))

    def can_import(self, request: HttpRequest) -> bool:
        return getattr(request, "workspace", None) is not None and self._allowed(
            request, write=True
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.upload_view), name="{}_{}_upload".format(*info)),
            path(
                "<int:batch_id>/mapping/",
                wrap(self.mapping_view),
                name="{}_{}_mapping".format(*info),
            ),
            path(
                "<int:batch_id>/preview/",
                wrap(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            path("<int:batch_id>/run/", wrap(self.run_view), name="{}_{}_run".format(*info)),
            path(
                "<int:batch_id>/rejected.csv",
                wrap(self.rejected_view),
                name="{}_{}_rejected".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- helpers ---------------------------------------------------------------------------

    def _batch(self, request: HttpRequest, batch_id: int) -> ImportBatch:
        # Scoped like every admin page: another workspace's batch is a 404 like a missing one.
        return get_object_or_404(self.get_queryset(request), pk=batch_id)

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def _render(self, request: HttpRequest, template: str, title: str, **context: Any):
        return TemplateResponse(
            request,
            f"admin/prospects/importbatch/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "changelist_url": self._url("changelist"),
                **context,
            },
        )

    def _require_import(self, request: HttpRequest) -> None:
        if not self.can_import(request):
            raise PermissionDenied

    # --- views -----------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "can_import": self.can_import(request)}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        self._require_import(request)
        if request.method == "POST":
            files = request.FILES  # parsed first: the size limit marks the request
            too_large = getattr(request, uploads.TOO_LARGE, False)
            form = UploadForm(request.POST, files, too_large=too_large)
        else:
            form = UploadForm()
        if form.is_bound and form.is_valid():
            batch = self._store_upload(request, form)
            if batch is not None:
                step = "mapping" if imports.needs_mapping(batch) else "preview"
                return redirect(self._url(step, batch.pk))
        return self._render(
            request,
            "upload.html",
            _("Import a CSV file"),
            form=form,
            field_labels=imports.FIELD_LABELS.values(),
        )

    def _store_upload(self, request: HttpRequest, form: UploadForm) -> ImportBatch | None:
        """Keep the file and create its batch, or put the reason on the form and keep nothing."""
        upload = form.cleaned_data["file"]
        try:
            return imports.create_batch(
                request.workspace, chunks=upload.chunks(), filename=upload.name, user=request.user
            )
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
            return None

    def mapping_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        self._require_import(request)
        batch = self._batch(request, batch_id)
        if batch.status != ImportBatch.Status.PREVIEW:
            return redirect(self._url("change", batch.pk))
        imports.touch_preview(batch)
        try:
            header = imports.read_header(imports.stored_path(batch.stored_file))
        except imports.ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect(self._url("upload"))
        except OSError:
            messages.error(request, _("The uploaded file is no longer available; upload it again."))
            return redirect(self._url("upload"))
        header.fields = imports.batch_fields(batch) or header.fields
        form = MappingForm(request.POST or None, header=header)
        if request.method == "POST" and form.is_valid():
            batch.mapping = {**batch.mapping, "fields": form.targets}
            batch.save(update_fields=["mapping"])
            return redirect(self._url("preview", batch.pk))
        return self._render(
            request,
            "mapping.html",
            _("Match the columns of %(file)s") % {"file": batch.filename},
            batch=batch,
            form=form,
        )

    def preview_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch(request, batch_id)
        if batch.status != ImportBatch.Status.PREVIEW:
            return redirect(self._url("change", batch.pk))
        imports.touch_preview(batch)
        try:
            # Counting a 100,000-row file would hold the request too long: past the size
            # imported in the request, the counts cover the first rows only (and say so).
            preview = imports.preview_import(batch, limit=10, max_rows=sync_import_max_rows())
        except imports.ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect(self._url("changelist"))
        fields = imports.batch_fields(batch)
        shown = [name for name in imports.FIELD_LABELS if name in fields]
        if "company_name" not in shown and {"company_domain", "company_website"} & set(fields):
            shown.insert(0, "company_name")
        if "company_website" in shown and "company_domain" not in shown:
            # A site given without http(s):// is kept as the company's domain only: show it.
            shown.insert(shown.index("company_website"), "company_domain")
        outcome_labels = {"new": _("To create"), **dict(RejectedRow.Reason.choices)}
        rows = [
            {
                "line": row.line,
                "outcome": row.outcome,
                "outcome_label": outcome_labels[row.outcome],
                "detail": row.detail,
                "values": [row.values.get(name, "") for name in shown],
            }
            for row in preview.rows
        ]
        columns = imports.batch_columns(batch)
        return self._render(
            request,
            "preview.html",
            _("Preview of %(file)s") % {"file": batch.filename},
            batch=batch,
            counts=preview.counts,
            complete=preview.complete,
            row_count=batch.mapping.get("row_count", 0),
            headers=[imports.FIELD_LABELS[name] for name in shown],
            rows=rows,
            ignored=[col for col, target in zip(columns, fields, strict=False) if not target],
            previous=imports.previous_import(batch),
            background=batch.mapping.get("row_count", 0) > sync_import_max_rows(),
            can_import=self.can_import(request),
        )

    def run_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        """Import a previewed batch, or resume a failed or abandoned one."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_import(request)
        batch = self._batch(request, batch_id)
        change_url = self._url("change", batch.pk)
        if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.EXPIRED):
            return redirect(change_url)
        if batch.status == ImportBatch.Status.IMPORTING and not batch.is_abandoned():
            messages.info(request, _("This import is already running."))
            return redirect(change_url)
        if batch.mapping.get("row_count", 0) > sync_import_max_rows():
            if imports.queue_import(batch):
                messages.info(
                    request, _("The import runs in the background; this page shows its progress.")
                )
            else:
                messages.info(request, _("This import is already running."))
            return redirect(change_url)
        batch = imports.run_import(batch)
        if batch.status == ImportBatch.Status.DONE:
            messages.success(
                request,
                _("Import finished. %(summary)s") % {"summary": imports.summary_text(batch)},
            )
        elif batch.status == ImportBatch.Status.IMPORTING:
            messages.info(request, _("This import is already running."))
        elif batch.error:
            messages.error(request, batch.error)
        return redirect(change_url)

    def rejected_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch(request, batch_id)
        response = StreamingHttpResponse(
            imports.iter_rejected_csv(batch), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=imports.rejected_filename(batch)
        )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        batch = self.get_object(request, object_id)
        if batch is None:
            # Another workspace's batch and a missing one look the same: not found.
            raise Http404
        if request.method != "GET":
            return super().change_view(request, object_id, form_url, extra_context)
        if batch.status == ImportBatch.Status.PREVIEW:
            return HttpResponseRedirect(self._url("preview", batch.pk))
        row_count = batch.mapping.get("row_count") or 0
        rejected = (
            RejectedRow.objects.for_workspace(batch.workspace_id)
            .filter(batch=batch)
            .order_by("line_number")[:20]
        )
        abandoned = batch.is_abandoned()
        extra_context = {
            **(extra_context or {}),
            "batch": batch,
            "row_count": row_count,
            "percent": min(100, round(100 * batch.total_rows / row_count)) if row_count else 0,
            "importing": batch.status == ImportBatch.Status.IMPORTING,
            # Only a live import refreshes the page; an abandoned one waits for "resume".
            "live": batch.status == ImportBatch.Status.IMPORTING and not abandoned,
            "abandoned": abandoned,
            "failed": batch.status == ImportBatch.Status.FAILED,
            "expired": batch.status == ImportBatch.Status.EXPIRED,
            "preview_ttl_hours": _whole(settings.SOURCIER_IMPORT_PREVIEW_TTL_HOURS),
            "upload_url": self._url("upload"),
            "rejected_sample": list(rejected),
            "prospects_url": self._url_prospects(batch),
            "rejected_url": self._url("rejected", batch.pk),
            "run_url": self._url("run", batch.pk),
            "can_import": self.can_import(request),
            "batch_prospects": list(
                Prospect.objects.for_workspace(batch.workspace_id)
                .filter(import_batch=batch)
                .select_related("company")
                .order_by("import_line", "pk")[:BATCH_PAGE_PROSPECTS]
            ),
            "import_panels": IMPORT_PANELS,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _url_prospects(self, batch: ImportBatch) -> str:
        url = reverse(f"admin:{self.opts.app_label}_prospect_changelist")
        return f"{url}?import_batch__id__exact={batch.pk}"


def _example(cell: str) -> str:
    """A sample cell as the mapping step shows it: a long one (a note, a megabyte on one
    line) cut, so the page stays a page."""
    return cell if len(cell) <= EXAMPLE_CHARS else cell[:EXAMPLE_CHARS] + "…"
