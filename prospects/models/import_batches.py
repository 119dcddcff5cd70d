"""A CSV import as work rows: the batch (its file, mapping, counts and lease) and the rows it
rejected, with why."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..tenancy import TenantModel, TenantQuerySet, user_reference


class ImportBatchQuerySet(TenantQuerySet):
    def abandoned(self, now: dt.datetime) -> ImportBatchQuerySet:
        """Importing batches whose lease ran out (or that never had one): to be resumed."""
        return self.filter(status=ImportBatch.Status.IMPORTING).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now)
        )


class ImportBatch(TenantModel):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        # A preview nobody came back to: its file was deleted (SOURCIER_IMPORT_PREVIEW_TTL_HOURS).
        EXPIRED = "expired", _("Expired")

    filename = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW
    )
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    stored_file = models.CharField(max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    suppressed_count = models.PositiveIntegerField(_("suppressed"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Last time someone uploaded, mapped or looked at the preview: an untouched one expires.
    touched_at = models.DateTimeField(default=timezone.now, editable=False)
    # Whoever imports the batch holds it until `lease_until`, renewed with each committed
    # chunk; every write of the run is conditional on its token, so a run that outlived its
    # lease cannot overwrite its successor's. An empty token with a live lease: dispatched,
    # waiting for a worker.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True, editable=False)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def rejected_count(self) -> int:
        return self.duplicate_count + self.suppressed_count + self.invalid_count

    def is_abandoned(self, now: dt.datetime | None = None) -> bool:
        """Importing, but nobody has committed a chunk (or picked it up) within its lease."""
        if self.status != self.Status.IMPORTING:
            return False
        return self.lease_until is None or self.lease_until <= (now or timezone.now())


class RejectedRow(TenantModel):
    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate")
        SUPPRESSED = "suppressed", _("On the objection list")
        INVALID = "invalid", _("Invalid")

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="rejected_rows", verbose_name=_("batch")
    )
    line_number = models.PositiveIntegerField(_("line"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    data = models.JSONField(_("row"), default=dict)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["batch", "line_number"]
