"""“Trouver les e-mails d'un fichier”: a CSV exported from a CRM names the prospects (by id,
email or LinkedIn URL), and the same estimate page as the list's cascade action follows. The
file is read once, matched against the workspace's prospects and deleted; nothing is created,
changed or spent before the estimate is confirmed."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects import services as prospect_services
from prospects.models import Prospect
from prospects.uploads import TOO_LARGE, max_upload_bytes

from .admin_cascade import estimate_page

# Each selected prospect is one hidden field of the estimate page (Django caps a form's fields).
MAX_FILE_PROSPECTS = 4500


class SelectionFileForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One prospect per row, named by an “email”, “LinkedIn” or “id” column; "
            "other columns are ignored."
        ),
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["file"].required = not too_large

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.too_large or upload.size > max_upload_bytes():
            raise forms.ValidationError(
                gettext("The file is larger than %(max)s, the most an upload may be.")
                % {"max": filesizeformat(max_upload_bytes())}
            )
        return upload


def _select(workspace_id: int, upload) -> Any:
    """The selection the uploaded file names; the file is deleted whatever happens."""
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return prospect_services.select_prospects_from_csv(workspace_id, path)
    finally:
        os.unlink(path)


def _selection_error(selection: Any) -> str:
    if not selection.prospect_ids:
        return gettext("No row of this file names a prospect of this workspace.")
    if len(selection.prospect_ids) > MAX_FILE_PROSPECTS:
        return gettext(
            "This file names %(count)s prospects: %(max)s at most from this page. Split the "
            "file, or have an operator run the enrich command with --csv."
        ) % {"count": len(selection.prospect_ids), "max": MAX_FILE_PROSPECTS}
    return ""


def job_from_file_view(modeladmin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Upload, then the estimate page for the prospects the file names."""
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    workspace = getattr(request, "workspace", None)
    prospect_admin = modeladmin.admin_site._registry[Prospect]
    too_large = getattr(request, TOO_LARGE, False)
    posted = request.method == "POST"
    form = SelectionFileForm(
        request.POST if posted else None, request.FILES if posted else None, too_large=too_large
    )
    if workspace is None:
        form.add_error(None, gettext("Choose a workspace in the header before enriching."))
    elif posted and form.is_valid():
        try:
            selection = _select(workspace.pk, form.cleaned_data["file"])
        except prospect_services.SelectionFileError as error:
            form.add_error("file", str(error))
        else:
            if error := _selection_error(selection):
                form.add_error("file", error)
            else:
                queryset = Prospect.objects.for_workspace(workspace).filter(
                    pk__in=selection.prospect_ids
                )
                page = estimate_page(
                    prospect_admin,
                    request,
                    workspace,
                    queryset,
                    selection.prospect_ids,
                    selected=selection.prospect_ids,
                )
                if page is not None:
                    page.context_data["file_summary"] = _summary(selection)
                    return page
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": gettext("Find emails from a file"),
        "form": form,
    }
    return TemplateResponse(request, "admin/enrichment/job_from_file.html", context)


def _summary(selection: Any) -> str:
    text = ngettext(
        "%(rows)s row read; prospects of the workspace it names: %(found)s.",
        "%(rows)s rows read; prospects of the workspace they name: %(found)s.",
        selection.rows,
    ) % {"rows": selection.rows, "found": len(selection.prospect_ids)}
    if selection.unmatched:
        text += " " + gettext("Rows naming no prospect of the workspace: %(lines)s") % {
            "lines": selection.unmatched_text()
        }
    return text
