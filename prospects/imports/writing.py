"""Writing one chunk of classified rows: companies, prospects, rejected rows, counters."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .. import companies, normalize, services
from ..models import ImportBatch, Prospect, RejectedRow, Source
from ..signals import notify_prospects_created
from .bulk import BulkInsert, Encoded, commits_lazily
from .checks import MAX_CELL_CHARS
from .classify import DUPLICATE, KEYS, SUPPRESSED, ImportCounts, Row, reject_existing
from .lease import lease_deadline
from .provenance import RETURNED, after_prospects, import_detail, insert_provenance
from .reading import row_as_dict


def refresh_statistics(added: int) -> bool:
    """PostgreSQL: ANALYZE the prospects table after an import that grew it by a fifth or more
    of what the planner knows, as PostgreSQL's guide advises after a bulk load: the next
    preview or re-import of a large file then probes the key indexes instead of reading the
    whole workspace (autovacuum would get there, a minute or so later). Only the columns those
    lookups filter on, in half the time of the whole table: autovacuum does the rest. True if
    it ran."""
    if connection.vendor != "postgresql" or not added:
        return False
    table = Prospect._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        known = max(cursor.fetchone()[0], 0)
        if added < known / 5:
            return False
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in ("workspace_id", *KEYS))
        cursor.execute(f"ANALYZE {quote(table)} ({columns})")
    return True


class Superseded(Exception):
    """Another run of the same batch committed this chunk first; this run stops."""


_PROSPECT_VALUES = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "linkedin_url",
    "company_id",
    "email_key",
    "linkedin_key",
    "name_key",
    "search_key",
    "import_line",
    "seniority",
    "department",
)
_prospects = BulkInsert(Prospect, _PROSPECT_VALUES)
_rejected = BulkInsert(RejectedRow, ("line_number", "reason", "detail", "data"))


class CompanyCache:
    """Each row's company, resolved as every path resolves it (`companies.resolve_companies`):
    one lookup per company while it is among the `size` most recently used ones.

    Bounded, so that a file naming a million companies imports in the memory of a small one:
    a company that fell out is resolved again (found, not created twice) when it comes back.
    """

    def __init__(self, workspace_id: int, *, filename: str = "", size: int = 20_000) -> None:
        self.workspace_id = workspace_id
        self.filename = filename
        self.size = size
        # (domain, company key) as the row gives them -> (company id, the company's key in
        # prospects' name keys), least recently used first
        self.ids: OrderedDict[tuple[str, str], tuple[int, str]] = OrderedDict()

    @staticmethod
    def key(row: Row) -> tuple[str, str] | None:
        assert row.clean is not None
        return (row.clean.company["domain"], row.company_key) if row.company_key else None

    def assign(self, rows: list[Row]) -> list[Row]:
        """Set each new row's company id (found, identified or created) and its name key at
        that company: before the chunk's own transaction, as creating a company does not
        depend on whether its prospects are written."""
        rows = [row for row in rows if not row.reason]
        keys = [self.key(row) for row in rows]
        missing: dict[tuple[str, str], Row] = {}
        for key, row in zip(keys, rows, strict=True):
            if key and key not in self.ids:
                missing.setdefault(key, row)
        if missing:
            found = companies.resolve_companies(
                self.workspace_id,
                [row.clean.company for row in missing.values()],
                source=Source.IMPORT,
                details=[import_detail(self.filename, row.line) for row in missing.values()],
            )
            for key, row in missing.items():
                company = found[companies.Identity.of(row.clean.company)]
                self.ids[key] = (company.pk, normalize.company_key(company.domain, company.name))
        for row, key in zip(rows, keys, strict=True):
            row.company_id = None
            if key:
                row.company_id, company_key = self.ids[key]
                self.ids.move_to_end(key)
                if company_key != row.company_key:
                    # The key a prospect keeps is its company's (see `Prospect.refresh_keys`).
                    p = row.clean.prospect
                    row.name_key = normalize.name_key(p["first_name"], p["last_name"], company_key)
        while len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return rows


class NormalizedCompanies:
    """The companies whose derived fields (industry code, legal form) one import run wrote
    already: a company named again by a later chunk is not read and normalised again.

    Most chunks of a large file only name companies that earlier ones did, so most skip
    both queries. Bounded: past `size` companies it starts again (they are then checked once
    more, which writes nothing new). Another path changing a company's name meanwhile
    derives its fields itself, as every write does.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.ids: set[int] = set()

    def missing(self, company_ids: Iterable[int | None]) -> set[int]:
        return {pk for pk in company_ids if pk is not None and pk not in self.ids}

    def add(self, company_ids: set[int]) -> None:
        """Once the chunk that normalised them committed."""
        if len(self.ids) + len(company_ids) > self.size:
            self.ids.clear()
        self.ids |= company_ids


def _prospect_values(row: Row) -> tuple:
    assert row.clean is not None
    p = row.clean.prospect
    return (
        p["first_name"],
        p["last_name"],
        p["email"],
        p["phone"],
        p["job_title"],
        p["linkedin_url"],
        row.company_id,
        row.email_key,
        row.linkedin_key,
        row.name_key,
        normalize.search_key(p["first_name"], p["last_name"], p["email"]),
        row.line,
        # Derived here rather than updated after the insert: on PostgreSQL an UPDATE of every
        # row just written cost a third of the import's time.
        *services.derived_prospect_fields(p["job_title"]),
    )


def encode_new(rows: list[Row]) -> Encoded:
    """The chunk's new rows as `_insert_prospects` inserts them (company ids assigned)."""
    return _prospects.encode([_prospect_values(row) for row in rows if not row.reason])


def _insert_prospects(batch: ImportBatch, rows: list[Row], encoded: Encoded) -> None:
    """Insert the chunk's new people; a row whose key is already taken becomes a duplicate.

    The unique indexes decide (ON CONFLICT DO NOTHING), so nobody is looked up beforehand: a
    person already in the workspace, brought by an earlier chunk of this file, or created by
    someone else since the chunk was read, is simply not inserted, then found again to say
    which prospect (or which line of the file) they duplicate.
    """
    # On PostgreSQL the same statement writes their provenance (see `write_chunk`).
    then = after_prospects(batch, ["import_line"]) if connection.vendor == "postgresql" else None
    inserted = _prospects.insert(
        encoded,
        returning=RETURNED if then else ["import_line"],
        skip_conflicts=True,
        then=then,
        workspace_id=batch.workspace_id,
        source=Source.IMPORT.value,
        import_batch_id=batch.pk,
        created_by_id=batch.created_by_id,
    )
    # Each row inserted says its line (one number back, rather than its three keys); a row
    # whose keys became another's of the chunk once their companies were resolved (the same
    # company named, then given by its domain) was not inserted, and is that one's duplicate.
    ids = {line: pk for pk, line in inserted}
    taken = []
    for row in rows:
        row.prospect_id = ids.get(row.line)
        if row.prospect_id is None:
            taken.append(row)
    if taken:
        reject_existing(batch.workspace_id, taken, batch_id=batch.pk, few=True)
        for row in taken:
            if not row.reason:  # gone again since (deleted meanwhile)
                row.reject(
                    DUPLICATE, _("Already exists: created elsewhere while this file was imported.")
                )


def _lazy_commit() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.

    A chunk commits with its batch counters, so a server crash can only lose the last chunks
    as a whole (never half of one, never corrupt anything), and the import resumes from the
    counters; meanwhile no chunk waits for a disk flush (a few milliseconds each on most
    servers). SET LOCAL ends with the transaction. Within `bulk_write_tuning` (an import's
    writing connection) the whole session commits so already: nothing to send.
    """
    if connection.vendor == "postgresql" and not commits_lazily():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _kept_cells(row: Row, columns: list[str]) -> dict[str, str]:
    """A rejected row as read, for the person to correct: a NUL byte in any cell (which
    PostgreSQL cannot store, and which rejected the row if it fed a field) shows as U+FFFD."""
    raw = row_as_dict(row.cells, columns)
    return {name: normalize.storable_text(_shown(value)) for name, value in raw.items()}


def _shown(value: str) -> str:
    """A cell as kept: one past a spreadsheet cell's size (a megabyte on one line, say) cut
    there, with "…" to say so."""
    return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS] + "…"


def write_chunk(
    batch: ImportBatch,
    rows: list[Row],
    encoded: Encoded | None = None,
    normalized: NormalizedCompanies | None = None,
) -> ImportCounts:
    """Create the chunk's new prospects, keep its rejected rows, count: one transaction.

    `encoded` is `encode_new(rows)` when the caller built it already; `normalized`, the
    companies earlier chunks of the same run normalised already."""
    columns = list(batch.mapping.get("columns", []))
    new = [row for row in rows if not row.reason]
    if encoded is None:
        encoded = encode_new(rows)
    if normalized is None:
        normalized = NormalizedCompanies()
    counts = ImportCounts()
    company_ids: set[int] = set()
    with transaction.atomic():
        _lazy_commit()
        if new:
            _insert_prospects(batch, new, encoded)
            new = [row for row in new if row.prospect_id]
            if connection.vendor != "postgresql":  # written with the prospects there
                insert_provenance(batch, [row.prospect_id for row in new])
            # The prospects' derived fields went in with them (`_prospect_values`).
            company_ids = normalized.missing(row.company_id for row in new)
            if company_ids:
                services.apply_normalizers(batch.workspace_id, companies=company_ids)
        services.record_blocked_attempts(
            batch.workspace_id,
            [row.suppression_id for row in rows if row.reason == SUPPRESSED and row.suppression_id],
        )
        _rejected.insert(
            [
                (
                    row.line,
                    row.reason,
                    row.detail,
                    # A person who objected leaves no trace in clear: only the line number.
                    {} if row.reason == SUPPRESSED else _kept_cells(row, columns),
                )
                for row in rows
                if row.reason
            ],
            workspace_id=batch.workspace_id,
            batch_id=batch.pk,
        )
        for row in rows:
            counts.add(row.outcome)
        # Conditional on the count we started from and on still holding the batch: if another
        # run committed a chunk or took the batch over meanwhile, ours rolls back and stops,
        # so no row is counted twice. The same UPDATE renews this run's lease.
        updated = (
            ImportBatch.objects.for_workspace(batch.workspace_id)
            .filter(
                pk=batch.pk,
                status=ImportBatch.Status.IMPORTING,
                total_rows=batch.total_rows,
                lease_token=batch.lease_token,
            )
            .update(
                lease_until=lease_deadline(),
                total_rows=F("total_rows") + counts.total,
                created_count=F("created_count") + counts.new,
                duplicate_count=F("duplicate_count") + counts.duplicate,
                suppressed_count=F("suppressed_count") + counts.suppressed,
                invalid_count=F("invalid_count") + counts.invalid,
            )
        )
        if updated != 1:
            raise Superseded()
        notify_prospects_created(
            batch.workspace_id, [row.prospect_id for row in new if row.prospect_id]
        )
    normalized.add(company_ids)
    batch.total_rows += counts.total
    batch.created_count += counts.new
    batch.duplicate_count += counts.duplicate
    batch.suppressed_count += counts.suppressed
    batch.invalid_count += counts.invalid
    return counts
