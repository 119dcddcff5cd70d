"""Prospect services: creation with every guard, suppression, provenance and the merge rules.

`cleaning` (raw values made usable, or the prospect rejected), `objections` (the objection
list), `creation` (prospects and their companies), `provenance` (every value kept, the merge
rules) and `csv_files` (the prospects a file names, CSV exports); the normalisers' runs are in
`prospects.normalizing`. Other modules and apps import them from here.
"""

from ..normalizing import (
    BackfillCount,
    NormalizedCount,
    apply_normalizers,
    count_records,
    derived_prospect_fields,
    normalize_records,
)
from ..spreadsheet import spreadsheet_safe  # the one CSV-injection guard
from .cleaning import (
    FIELD_LABELS,
    PROSPECT_FIELDS,
    CleanProspect,
    ProspectRejected,
    SuppressedPerson,
    clean_prospect_data,
)
from .creation import (
    MATCH_KEYS,
    auto_enrich_steps,
    create_prospect,
    find_company,
    find_duplicate,
    get_or_create_companies,
    get_or_create_company,
    merge_companies,
)
from .csv_files import SelectionFileError, prospects_csv, select_prospects_from_csv
from .objections import (
    ensure_not_suppressed,
    find_suppression,
    is_objecting,
    is_prospect_suppressed,
    objecting_emails,
    objecting_prospect_ids,
    objection_entries,
    objection_hashes,
    record_blocked_attempt,
    record_blocked_attempts,
    suppress_emails,
    suppress_person,
)
from .provenance import (
    ProvenanceBuffer,
    fit_column,
    merge_provider_values,
    provenance_by_field,
    record_initial_provenance,
)

__all__ = [
    "FIELD_LABELS",
    "MATCH_KEYS",
    "PROSPECT_FIELDS",
    "BackfillCount",
    "CleanProspect",
    "NormalizedCount",
    "ProspectRejected",
    "ProvenanceBuffer",
    "SelectionFileError",
    "SuppressedPerson",
    "apply_normalizers",
    "auto_enrich_steps",
    "clean_prospect_data",
    "count_records",
    "create_prospect",
    "derived_prospect_fields",
    "ensure_not_suppressed",
    "find_company",
    "find_duplicate",
    "find_suppression",
    "fit_column",
    "get_or_create_companies",
    "get_or_create_company",
    "is_objecting",
    "is_prospect_suppressed",
    "merge_companies",
    "merge_provider_values",
    "normalize_records",
    "objecting_emails",
    "objecting_prospect_ids",
    "objection_entries",
    "objection_hashes",
    "prospects_csv",
    "provenance_by_field",
    "record_blocked_attempt",
    "record_blocked_attempts",
    "record_initial_provenance",
    "select_prospects_from_csv",
    "spreadsheet_safe",
    "suppress_emails",
    "suppress_person",
]
