"""Import screens: upload, column mapping, preview, import, rejected rows as CSV."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .admin_base import WorkspaceScopedAdmin
from .models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(WorkspaceScopedAdmin):
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
