"""Provenance: every value given or offered for a field is kept, and the merge rules choose
the one stored (a person's value is never overwritten by a provider's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model
from django.utils import timezone

from ..models import HUMAN_SOURCES, Company, FieldProvenance, Prospect
from .cleaning import PROSPECT_FIELDS


def record_initial_provenance(
    subject: Prospect | Company,
    *,
    source: str,
    fields: tuple[str, ...] = PROSPECT_FIELDS,
    confidence: int = 100,
) -> None:
    """Provenance rows for the values a person gave when creating or editing a record (100),
    or a source as sure as `confidence` (a discovered contact's, read from a web page)."""
    now = timezone.now()
    owner = _owner(subject)
    rows = [
        FieldProvenance(
            workspace_id=subject.workspace_id,
            field=field,
            value=str(getattr(subject, field)),
            source=source,
            confidence=confidence,
            observed_at=now,
            is_current=True,
            **owner,
        )
        for field in fields
        if getattr(subject, field) not in (None, "")
    ]
    if rows:
        FieldProvenance.objects.for_workspace(subject.workspace_id).filter(
            field__in=[row.field for row in rows], **owner
        ).update(is_current=False)
        FieldProvenance.objects.bulk_create(rows)


def _owner(subject: Prospect | Company) -> dict[str, Model]:
    return {"prospect": subject} if isinstance(subject, Prospect) else {"company": subject}


def fit_column(model: type[Model], field: str, value: Any) -> Any:
    """A provider's text cut to the length of its column (PostgreSQL refuses a longer one;
    a person's text is refused with a reason instead, see `clean_prospect_data`)."""
    if isinstance(value, str):
        limit = model._meta.get_field(field).max_length
        if limit and len(value) > limit:
            return value[:limit].rstrip()
    return value


def _takes_the_field(
    stored: Any, text: str, previous: FieldProvenance | None, confidence: int
) -> bool:
    """Whether an offered value (`text`, as its column holds it) replaces the `stored` one,
    whose current provenance row is `previous`: the merge rules for one field."""
    if stored in (None, ""):
        return True
    if str(stored) == text:
        return previous is None or previous.source not in HUMAN_SOURCES
    if previous is None or previous.source in HUMAN_SOURCES:
        # No record of who set it means a person did (before provenance existed).
        return False
    return confidence > previous.confidence


class ProvenanceBuffer:
    """Applies the merge rules to many subjects and writes their provenance in a few queries.

    A value typed or imported by a person is never overwritten. A provider value fills an empty
    field, or replaces a provider value of lower confidence. Every candidate is kept as a
    provenance row, the stored one marked `is_current`.
    """

    def __init__(
        self,
        workspace_id: int,
        *,
        prospects: list[Prospect] = (),
        companies: list[Company] = (),
    ) -> None:
        self.workspace_id = workspace_id
        self.rows: list[FieldProvenance] = []
        self.superseded: list[int] = []
        # (kind, subject id, field) -> the current row, loaded once for every subject.
        self.current: dict[tuple[str, int, str], FieldProvenance] = {}
        scope = FieldProvenance.objects.for_workspace(workspace_id).filter(is_current=True)
        if prospects:
            for row in scope.filter(prospect__in=[p.pk for p in prospects]):
                self.current[("prospect", row.prospect_id, row.field)] = row
        if companies:
            for row in scope.filter(company__in=[c.pk for c in companies]):
                self.current[("company", row.company_id, row.field)] = row
        self.loaded = {("prospect", p.pk) for p in prospects} | {
            ("company", c.pk) for c in companies
        }

    def _load(self, kind: str, subject: Prospect | Company) -> None:
        if (kind, subject.pk) in self.loaded:
            return
        scope = FieldProvenance.objects.for_workspace(self.workspace_id).filter(
            is_current=True, **_owner(subject)
        )
        for row in scope:
            self.current[(kind, subject.pk, row.field)] = row
        self.loaded.add((kind, subject.pk))

    def merge(
        self,
        subject: Prospect | Company,
        values: dict[str, Any],
        *,
        source: str,
        confidence: int,
        provider_call_id: int | None = None,
        observed_at: dt.datetime | None = None,
        detail: str = "",
    ) -> list[str]:
        """Apply values to `subject` in memory; returns the fields changed (caller saves)."""
        observed_at = observed_at or timezone.now()
        kind = "prospect" if isinstance(subject, Prospect) else "company"
        self._load(kind, subject)
        changed = []
        for field, offered in values.items():
            if offered in (None, ""):
                continue
            # The provenance row keeps what was offered; the field gets what its column holds.
            offered_text, value = str(offered), fit_column(type(subject), field, offered)
            text = str(value)
            stored = getattr(subject, field)
            previous = self.current.get((kind, subject.pk, field))
            apply = _takes_the_field(stored, text, previous, confidence)
            row = FieldProvenance(
                workspace_id=self.workspace_id,
                field=field,
                value=offered_text,
                source=source,
                confidence=confidence,
                observed_at=observed_at,
                is_current=apply,
                provider_call_id=provider_call_id,
                detail=detail[:255],
                **_owner(subject),
            )
            self.rows.append(row)
            if apply:
                if previous is not None:
                    previous.is_current = False
                    if previous.pk:
                        self.superseded.append(previous.pk)
                self.current[(kind, subject.pk, field)] = row
                if str(stored) != text:
                    setattr(subject, field, value)
                    changed.append(field)
        return changed

    def observe(
        self,
        subject: Prospect | Company,
        field: str,
        value: Any,
        *,
        source: str,
        confidence: int,
        provider_call_id: int | None = None,
        observed_at: dt.datetime | None = None,
        detail: str = "",
    ) -> None:
        """Keep a candidate value as provenance without considering it for the field."""
        self.rows.append(
            FieldProvenance(
                workspace_id=self.workspace_id,
                field=field,
                value=str(value),
                source=source,
                confidence=confidence,
                observed_at=observed_at or timezone.now(),
                is_current=False,
                provider_call_id=provider_call_id,
                detail=detail[:255],
                **_owner(subject),
            )
        )

    def revert(self, subject: Prospect | Company, fields: list[str]) -> None:
        """Undo applied values that could not be saved: they stay candidates, not current."""
        kind = "prospect" if isinstance(subject, Prospect) else "company"
        owner_attr = f"{kind}_id"
        for row in self.rows:
            if getattr(row, owner_attr) == subject.pk and row.field in fields and row.is_current:
                row.is_current = False
                self.current.pop((kind, subject.pk, row.field), None)

    def flush(self) -> None:
        """Write what was merged: one UPDATE for superseded rows, one bulk INSERT."""
        if self.superseded:
            FieldProvenance.objects.for_workspace(self.workspace_id).filter(
                pk__in=self.superseded
            ).update(is_current=False)
        # As many rows a statement as the database takes: a 250-record Dropcontact batch
        # keeps about 2,500 candidates, and a fixed 500 made that five INSERTs.
        FieldProvenance.objects.bulk_create(self.rows)
        self.rows, self.superseded = [], []


def merge_provider_values(
    subject: Prospect | Company,
    values: dict[str, Any],
    *,
    source: str,
    confidence: int,
    provider_call_id: int | None = None,
    observed_at: dt.datetime | None = None,
) -> list[str]:
    """The merge rules for one subject (see ProvenanceBuffer); the caller saves the subject."""
    buffer = ProvenanceBuffer(subject.workspace_id)
    changed = buffer.merge(
        subject,
        values,
        source=source,
        confidence=confidence,
        provider_call_id=provider_call_id,
        observed_at=observed_at,
    )
    buffer.flush()
    return changed


def provenance_by_field(subject: Prospect | Company) -> dict[str, list[FieldProvenance]]:
    """Every recorded value per field, newest first: what the provenance panel shows."""
    history: dict[str, list[FieldProvenance]] = {}
    rows = FieldProvenance.objects.for_workspace(subject.workspace_id).filter(**_owner(subject))
    for row in rows.order_by("field", "-is_current", "-observed_at", "-id"):
        history.setdefault(row.field, []).append(row)
    return history
