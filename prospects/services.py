"""Prospect services: creation with every guard, suppression, provenance and the merge rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import companies, company_merge, normalize
from .lookups import in_workspace
from .models import (
    HUMAN_SOURCES,
    Company,
    FieldProvenance,
    ImportBatch,
    Prospect,
    Source,
    SuppressionEntry,
    Workspace,
)
from .models import auto_enrich_steps as models_auto_enrich_steps
from .normalizing import (  # noqa: F401  (services)
    BackfillCount,
    NormalizedCount,
    apply_normalizers,
    count_records,
    derived_prospect_fields,
    normalize_records,
)
from .signals import notify_persons_objected, notify_prospects_created
from .spreadsheet import spreadsheet_safe  # noqa: F401  (the one CSV-injection guard)

PROSPECT_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "linkedin_url")


# The raw values `clean_prospect_data` reads, with the label a person knows them by.
FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "job_title": gettext_lazy("Job title"),
    "linkedin_url": gettext_lazy("LinkedIn URL"),
    "company_name": gettext_lazy("Company"),
    "company_website": gettext_lazy("Website"),
    "company_domain": gettext_lazy("Domain"),
}


class ProspectRejected(ValueError):
    """A prospect that may not be created; `reason` is a RejectedRow.Reason value."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SuppressedPerson(ProspectRejected):
    def __init__(self) -> None:
        super().__init__(
            _("This person is on the objection list and cannot be added."), reason="suppressed"
        )


# --- Objection list ----------------------------------------------------------------------
# The one place that turns an email or a phone into the keyed hash the list stores, and that
# looks the list up: imports, enrichment and campaigns all ask through these functions.


def objection_hashes(*, email: str = "", phone: str = "") -> list[tuple[str, str]]:
    """(kind, keyed hash) pairs for the normalised email and phone that are present."""
    pairs = []
    if email:
        pairs.append((SuppressionEntry.Kind.EMAIL, normalize.keyed_hash("email", email.lower())))
    if phone:
        pairs.append((SuppressionEntry.Kind.PHONE, normalize.keyed_hash("phone", phone)))
    return pairs


def objection_entries(
    workspace_id: int, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The entry id of every (kind, keyed hash) pair on the workspace's list (one query)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    # An import asks for thousands of hashes a chunk: one JSON parameter, not an `__in`. The
    # hashes are keyed by kind, so an email's can never be a phone's: the kind is checked
    # here, and the query still probes the (workspace, kind, hash) index once per kind.
    rows = in_workspace(
        SuppressionEntry,
        workspace_id,
        "key_hash",
        sorted({key_hash for _kind, key_hash in wanted}),
        where=" AND t.kind IN (%s, %s)",
        where_params=[SuppressionEntry.Kind.EMAIL, SuppressionEntry.Kind.PHONE],
        also=("kind",),
    )
    return {(kind, key_hash): pk for key_hash, pk, kind in rows if (kind, key_hash) in wanted}


def objecting_prospect_ids(workspace_id: int, prospects: Iterable[Prospect]) -> set[int]:
    """The prospects whose email or phone is on the objection list."""
    wanted = {
        prospect.pk: objection_hashes(email=prospect.email, phone=prospect.phone)
        for prospect in prospects
    }
    found = objection_entries(workspace_id, (pair for pairs in wanted.values() for pair in pairs))
    return {pk for pk, pairs in wanted.items() if any(pair in found for pair in pairs)}


def objecting_emails(workspace_id: int, emails: Iterable[str]) -> set[str]:
    """The normalised addresses among `emails` that are on the objection list."""
    by_pair = {objection_hashes(email=email)[0]: email for email in emails if email}
    return {by_pair[pair] for pair in objection_entries(workspace_id, by_pair)}


def find_suppression(
    workspace: Workspace, *, email: str = "", phone: str = ""
) -> SuppressionEntry | None:
    """The list entry matching this email or phone, if any."""
    found = objection_entries(workspace.pk, objection_hashes(email=email, phone=phone))
    if not found:
        return None
    return SuppressionEntry.objects.for_workspace(workspace).get(pk=min(found.values()))


def is_objecting(workspace: Workspace, *, email: str = "", phone: str = "") -> bool:
    return bool(objection_entries(workspace.pk, objection_hashes(email=email, phone=phone)))


def record_blocked_attempt(entry: SuppressionEntry) -> None:
    """Count a refused creation, so the list shows it is working (nothing else is stored)."""
    record_blocked_attempts(entry.workspace_id, [entry.pk])


def record_blocked_attempts(workspace_id: int, entry_ids: list[int]) -> None:
    """Count refused creations, an entry once per time it appears: one UPDATE per count."""
    by_count: dict[int, list[int]] = {}
    for pk, count in Counter(entry_ids).items():
        by_count.setdefault(count, []).append(pk)
    now = timezone.now()
    entries = SuppressionEntry.objects.for_workspace(workspace_id)
    for count, ids in by_count.items():
        entries.filter(pk__in=ids).update(
            blocked_attempts=F("blocked_attempts") + count, last_blocked_at=now
        )


def ensure_not_suppressed(workspace: Workspace, *, email: str = "", phone: str = "") -> None:
    """Raise SuppressedPerson (and count the attempt) when the email or phone objected."""
    entry = find_suppression(workspace, email=email, phone=phone)
    if entry:
        record_blocked_attempt(entry)
        raise SuppressedPerson()


def suppress_person(
    workspace: Workspace,
    *,
    email: str = "",
    phone: str = "",
    reason: str = SuppressionEntry.Reason.OBJECTION,
    user: Any = None,
) -> list[SuppressionEntry]:
    """Add an email and/or phone to the objection list (idempotent); returns the entries."""
    email = normalize.normalize_email(email) if email else ""
    phone = normalize.normalize_phone(phone) if phone else ""
    entries = []
    for kind, key_hash in objection_hashes(email=email, phone=phone):
        entry, _created = SuppressionEntry.objects.for_workspace(workspace).get_or_create(
            workspace=workspace,
            kind=kind,
            key_hash=key_hash,
            defaults={"reason": reason, "created_by": user},
        )
        entries.append(entry)
    # The workspace's prospects who are this person: what is under way for them must stop.
    match = (Q(email_key=normalize.email_key(email)) if email else Q()) | (
        Q(phone=phone) if phone else Q()
    )
    if match:
        _stop_objectors(workspace.pk, match)
    return entries


def suppress_emails(workspace_id: int, emails: Iterable[str], *, reason: str) -> None:
    """Add normalised addresses to the objection list at once (idempotent): what
    `suppress_person` does for one email, in three queries for any number."""
    emails = sorted(set(filter(None, emails)))
    if not emails:
        return
    SuppressionEntry.objects.bulk_create(
        [
            SuppressionEntry(workspace_id=workspace_id, kind=kind, key_hash=key_hash, reason=reason)
            for email in emails
            for kind, key_hash in objection_hashes(email=email)
        ],
        ignore_conflicts=True,
    )
    _stop_objectors(workspace_id, Q(email_key__in=[normalize.email_key(e) for e in emails]))


def _stop_objectors(workspace_id: int, match: Q) -> None:
    """The prospects matching `match` just objected: no verdict stands, nothing goes on."""
    matching = Prospect.objects.for_workspace(workspace_id).filter(match)
    # A verdict given before the objection no longer stands: the person is not verified
    # (so no campaign, no "Vérifié" filter) and the page says why.
    matching.filter(status=Prospect.Status.VERIFIED).update(
        status=Prospect.Status.NOT_VERIFIED,
        verified_at=None,
        verification_reason=Prospect.Reason.OBJECTED,
        last_error=str(Prospect.Reason.OBJECTED.label),
        updated_at=timezone.now(),
    )
    notify_persons_objected(workspace_id, list(matching.values_list("pk", flat=True)))


def is_prospect_suppressed(prospect: Prospect) -> bool:
    return is_objecting(prospect.workspace, email=prospect.email, phone=prospect.phone)


# --- Creation ----------------------------------------------------------------------------


@dataclass
class CleanProspect:
    """Normalised values of a prospect to create, with its company's and its match keys."""

    prospect: dict[str, str]
    company: dict[str, str]
    company_key: str = ""  # the company's domain, else its folded name
    name_key: str = ""  # folded first and last name at that company


# Storage limits, checked with the other rules so that one long value rejects its prospect
# with a message instead of failing the write (for an import, the write of a whole chunk).
_MAX_LENGTHS = (
    ("", tuple((name, Prospect._meta.get_field(name).max_length) for name in PROSPECT_FIELDS)),
    (
        "company_",
        tuple(
            (name, Company._meta.get_field(name).max_length)
            for name in ("name", "domain", "website")
        ),
    ),
)


def _too_long(prospect: dict[str, str], company: dict[str, str]) -> str:
    """The message for the first value longer than its field allows, else ''."""
    for values, (prefix, limits) in zip((prospect, company), _MAX_LENGTHS, strict=True):
        for name, limit in limits:
            if len(values[name]) > limit:
                return _("%(field)s is too long (%(length)s characters, at most %(max)s).") % {
                    "field": FIELD_LABELS[prefix + name],
                    "length": len(values[name]),
                    "max": limit,
                }
    return ""


def _unstorable(data: dict[str, Any]) -> str:
    """The message for the first value no database can store (a NUL character), else ''."""
    values = [data.get(name) or "" for name in FIELD_LABELS]
    # One check of the whole row first: an import checks every row, and nearly all are fine.
    if normalize.is_storable("".join(values)):
        return ""
    for label, value in zip(FIELD_LABELS.values(), values, strict=True):
        if not normalize.is_storable(value):
            return _(
                "%(field)s contains a character that cannot be stored "
                "(a null character or an invalid code)."
            ) % {"field": label}
    return ""


def clean_prospect_data(data: dict[str, Any], *, storable: bool = False) -> CleanProspect:
    """Normalise raw values; raise ProspectRejected('invalid') with a French message if unusable.

    `storable`: the caller has already made sure no value holds what a database cannot store
    (an import checks a whole chunk of cells at once)."""
    # First: the other messages quote the value, and the message is stored too.
    if not storable and (message := _unstorable(data)):
        raise ProspectRejected(message, reason="invalid")
    try:
        prospect = {
            "first_name": normalize.clean_text(data.get("first_name")),
            "last_name": normalize.clean_text(data.get("last_name")),
            "email": normalize.normalize_email(data.get("email")),
            "phone": normalize.normalize_phone(data.get("phone")),
            "job_title": normalize.clean_text(data.get("job_title")),
            "linkedin_url": normalize.canonical_linkedin(data.get("linkedin_url")),
        }
        website = normalize.clean_text(data.get("company_website"))
        domain_source = data.get("company_domain") or website
        company = {
            "name": normalize.clean_text(data.get("company_name")),
            "domain": normalize.normalize_domain(domain_source) if domain_source else "",
            "website": website if website.startswith("http") else "",
        }
    except normalize.InvalidValue as exc:
        raise ProspectRejected(str(exc), reason="invalid") from exc
    if not company["name"] and company["domain"]:
        company["name"] = company["domain"]
    has_name = prospect["first_name"] and prospect["last_name"]
    if not (prospect["email"] or prospect["linkedin_url"] or has_name):
        raise ProspectRejected(
            _("A prospect needs an email, a LinkedIn URL or a first and last name."),
            reason="invalid",
        )
    if message := _too_long(prospect, company):
        raise ProspectRejected(message, reason="invalid")
    company_key = normalize.company_key(company["domain"], company["name"])
    name_key = normalize.name_key(prospect["first_name"], prospect["last_name"], company_key)
    if not (prospect["email"] or prospect["linkedin_url"] or name_key):
        # Without a match key nothing could tell that this person is already here: a second
        # import of the same file, or the same person typed twice, would create a duplicate.
        raise ProspectRejected(
            _(
                "This person cannot be recognised: give an email, a LinkedIn URL, "
                "or a first name, last name and company."
            ),
            reason="invalid",
        )
    return CleanProspect(
        prospect=prospect, company=company, company_key=company_key, name_key=name_key
    )


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


def find_duplicate(workspace: Workspace, candidate: Prospect) -> Prospect | None:
    """An existing prospect with the same email, LinkedIn URL or name at the same company."""
    candidate.refresh_keys()
    prospects = Prospect.objects.for_workspace(workspace)
    for key in ("email_key", "linkedin_key", "name_key"):
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
) -> Prospect:
    """Create one prospect from raw values after every guard (invalid, suppressed, duplicate)."""
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
        record_initial_provenance(prospect, source=source)
        apply_normalizers(workspace.pk, prospects=[prospect], companies=[company])
    notify_prospects_created(workspace.pk, [prospect.pk])
    return prospect


def record_initial_provenance(
    subject: Prospect | Company, *, source: str, fields: tuple[str, ...] = PROSPECT_FIELDS
) -> None:
    """Provenance rows for the values a person gave when creating or editing a record."""
    now = timezone.now()
    owner = _owner(subject)
    rows = [
        FieldProvenance(
            workspace_id=subject.workspace_id,
            field=field,
            value=str(getattr(subject, field)),
            source=source,
            confidence=100,
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


# --- Merge rules -------------------------------------------------------------------------


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
            if stored in (None, ""):
                apply = True
            elif str(stored) == text:
                apply = previous is None or previous.source not in HUMAN_SOURCES
            elif previous is None or previous.source in HUMAN_SOURCES:
                # No record of who set it means a person did (before provenance existed).
                apply = False
            else:
                apply = confidence > previous.confidence
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


def auto_enrich_steps(workspace_id: int) -> tuple[str, ...]:
    """What a workspace's new prospects get automatically, in order ("dropcontact", "email")."""
    choice = Workspace.objects.filter(pk=workspace_id).values_list("auto_enrich", flat=True).first()
    return models_auto_enrich_steps(choice or Workspace.AutoEnrich.NONE)


class SelectionFileError(ValueError):
    """A selection file that cannot be read; the message is French, for the user."""


def select_prospects_from_csv(workspace_id: int, path: Any) -> Any:
    """The workspace's prospects a CSV names by email, LinkedIn URL or id (nothing is written):
    a `CsvSelection` with their ids, the number of rows and the lines that matched no one."""
    from .imports.checks import ImportFileError
    from .imports.selection import select_from_csv

    try:
        return select_from_csv(workspace_id, path)
    except ImportFileError as error:
        raise SelectionFileError(str(error)) from error


# --- CSV -----------------------------------------------------------------------------------


def prospects_csv(
    rows: Iterable[tuple[Prospect, list[Any]]], *, extra_header: list[str], bom: bool = True
) -> Iterator[str]:
    """Prospects as the lines of a French-Excel CSV (exports.py), each with extra cells."""
    from .exports import prospect_header, prospect_row
    from .spreadsheet import csv_lines

    lines = ([*prospect_row(prospect), *extra] for prospect, extra in rows)
    return csv_lines([*prospect_header(), *extra_header], lines, bom=bom)
