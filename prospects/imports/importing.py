"""Preview and import of a stored CSV file.

Rows are handled in chunks (`classify` then `writing`): per chunk a handful of queries, one
multi-row insert and one counters update in one transaction, so a crash leaves a batch whose
counters match what was written, and `run_import` resumes after the last committed chunk.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import ImportBatch, Workspace
from .bulk import Encoded, bulk_write_tuning
from .classify import CHUNK_SIZE, ImportCounts, Row, SeenKeys, classify
from .classify import chunks as row_chunks
from .lease import claim_import, finish_import, reload_run
from .reading import (
    IGNORE,
    ImportFileError,
    count_rows,
    discard_file,
    has_identity,
    identity_error,
    iter_records,
    read_header,
    store_file,
    stored_path,
)
from .writing import (
    CompanyCache,
    NormalizedCompanies,
    Superseded,
    encode_new,
    refresh_statistics,
    write_chunk,
)

logger = logging.getLogger(__name__)


@dataclass
class PreviewRow:
    line: int
    outcome: str  # "new" or a RejectedRow.Reason value
    detail: str
    values: dict[str, str]  # by FIELD_LABELS key: as stored for a new row, as read otherwise


@dataclass
class ImportPreview:
    counts: ImportCounts
    rows: list[PreviewRow]
    complete: bool = True  # False when only the first `max_rows` rows were counted


def _records(batch: ImportBatch) -> Iterator[tuple[int, list[str]]]:
    path = stored_path(batch.stored_file)
    if not batch.stored_file or not path.exists():
        raise ImportFileError(_("The uploaded file is no longer available; upload it again."))
    return iter_records(path, batch.encoding, batch.delimiter)


def batch_fields(batch: ImportBatch) -> list[str]:
    return list(batch.mapping.get("fields", []))


def batch_columns(batch: ImportBatch) -> list[str]:
    return list(batch.mapping.get("columns", []))


def create_batch(
    workspace: Workspace,
    *,
    chunks: Iterable[bytes],
    filename: str,
    user: Any = None,
    allow_unknown_columns: bool = True,
) -> ImportBatch:
    """Store a file and its batch, ready for the mapping step or the preview.

    Raises ImportFileError (keeping nothing) for an empty, undecodable or non-CSV file, or one
    whose recognised columns cannot identify anybody and that has no other column to map.
    """
    relative, digest = store_file(chunks)
    path = stored_path(relative)
    try:
        header = read_header(path)
        row_count = count_rows(path, header)
        if not has_identity(header.fields) and (
            not header.unknown_columns or not allow_unknown_columns
        ):
            raise ImportFileError(identity_error())
    except BaseException:
        discard_file(relative)
        raise
    return ImportBatch.objects.create(
        workspace=workspace,
        filename=filename[:255],
        encoding=header.encoding,
        delimiter=header.delimiter,
        mapping={**header.mapping(), "row_count": row_count},
        file_sha256=digest,
        stored_file=relative,
        created_by=user if getattr(user, "pk", None) else None,
    )


def needs_mapping(batch: ImportBatch) -> bool:
    """Whether some column is not matched to a field yet (the admin then asks the user)."""
    return IGNORE in batch_fields(batch)


# --- Preview -------------------------------------------------------------------------------


def _preview_values(row: Row) -> dict[str, str]:
    if row.clean is None:
        return dict(row.data)
    company = row.clean.company
    return {
        **row.clean.prospect,
        "company_name": company["name"],
        "company_domain": company["domain"],
        "company_website": company["website"],
    }


def preview_import(
    batch: ImportBatch, *, limit: int = 10, max_rows: int | None = None
) -> ImportPreview:
    """What importing the batch would do (whole file, or its first `max_rows` rows) and its
    first `limit` rows as they will be stored. Writes nothing."""
    counts, shown = ImportCounts(), []
    fields = batch_fields(batch)
    records = _records(batch)
    if max_rows is not None:
        records = islice(records, max_rows)
    with SeenKeys() as seen, _older_objects_left_alone():
        for rows in row_chunks(records, CHUNK_SIZE):
            classify(batch.workspace_id, rows, fields, seen)
            for row in rows:
                counts.add(row.outcome)
                if len(shown) < limit:
                    shown.append(
                        PreviewRow(row.line, row.outcome, row.detail, _preview_values(row))
                    )
    complete = max_rows is None or counts.total < max_rows
    return ImportPreview(counts=counts, rows=shown, complete=complete)


# --- Import --------------------------------------------------------------------------------


@contextmanager
def _older_objects_left_alone() -> Iterator[None]:
    """While rows are classified, the cyclic garbage collector skips the objects that existed
    before (Django's, the application's: some 100,000, walked in 50 to 100 ms).

    A chunk of rows alive at once is enough to start a full collection every chunk or two,
    and each walked all of them: a fifth of the import's CPU time. Frozen for the duration
    (`gc.freeze`), then given back, they are still freed when no longer referenced; objects
    made meanwhile are collected as before, so memory stays bounded. Left alone when
    something else froze objects already (a server that forks) or turned the collector off.
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _import_rows(batch: ImportBatch, progress: Callable[[int], Any] | None) -> None:
    records = _records(batch)
    done = batch.total_rows
    if done:
        # Resuming: the first `total_rows` rows were committed with their counters.
        records = islice(records, done, None)
        if progress:
            progress(done)
    companies = CompanyCache(batch.workspace_id, filename=batch.filename)
    fields = batch_fields(batch)

    def prepared(rows: list[Row]) -> tuple[list[Row], Encoded]:
        # Rows repeating an earlier chunk's are found by the insert (see `classify`).
        classify(batch.workspace_id, rows, fields, look_up_existing=False)
        companies.assign(rows)
        return rows, encode_new(rows)

    chunks = map(prepared, row_chunks(records, CHUNK_SIZE))
    normalized = NormalizedCompanies()
    with _older_objects_left_alone():
        if _can_overlap():
            _write_behind(batch, chunks, progress, normalized)
            return
        with bulk_write_tuning():
            for rows, encoded in chunks:
                write_chunk(batch, rows, encoded, normalized)
                if progress:
                    progress(len(rows))


def _can_overlap() -> bool:
    """Whether chunks may be written on a connection of their own (see `_write_behind`).

    Only on PostgreSQL, whose server does the writing on another core. (SQLite's writing is
    this process's own work, and binding a chunk's parameters holds the GIL: measured, a
    writer thread made it slower.) Only outside a transaction: the caller's open transaction
    (a test's, say) must see the rows, and another connection would not see its uncommitted
    ones.
    """
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _write_behind(
    batch: ImportBatch,
    chunks: Iterator[tuple[list[Row], Encoded]],
    progress: Callable[[int], Any] | None,
    normalized: NormalizedCompanies,
) -> None:
    """Write chunk N in a writer thread while this thread reads and classifies chunk N+1.

    Reading and classifying is Python; writing is mostly the database's work (PostgreSQL's
    server, or SQLite's C code, which lets go of the GIL): overlapped, the two halves take
    little more than the longer one. At most one chunk is in flight and each write is awaited
    before the next is handed over, so chunks commit in order with their counters, a write's
    error stops the import here, and resuming works as before. Rows of the chunk being written
    are not in the database yet when the next one is classified: a row repeating one of them is
    found by its own insert, which comes after theirs.
    """
    language = translation.get_language()
    tuning = ExitStack()

    def write(rows: list[Row], encoded: Encoded) -> int:
        with translation.override(language):
            write_chunk(batch, rows, encoded, normalized)
        return len(rows)

    def close() -> None:
        # The writer thread's connections are its own: undo the tuning, close them.
        tuning.close()
        connections.close_all()

    pending: Future[int] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
        try:
            writer.submit(tuning.enter_context, bulk_write_tuning()).result()
            for rows, encoded in chunks:
                if pending is not None:
                    written = pending.result()
                    if progress:
                        progress(written)
                pending = writer.submit(write, rows, encoded)
            if pending is not None:
                written = pending.result()
                if progress:
                    progress(written)
        except BaseException as exc:
            # Reading failed while a chunk was being written: that write ends first, and an
            # error of its own is logged, not lost behind the reading error.
            if pending is not None and (error := pending.exception()) not in (None, exc):
                logger.error(
                    "Import batch %s: writing a chunk failed as well", batch.pk, exc_info=error
                )
            raise
        finally:
            writer.submit(close).result()


def run_import(batch: ImportBatch, *, progress: Callable[[int], Any] | None = None) -> ImportBatch:
    """Import the batch's file; a done batch is left alone, a failed or cut one resumes, one
    that another run holds is left to it."""
    claimed = claim_import(batch)
    if claimed is None:
        batch.refresh_from_db()
        return batch
    return import_claimed(claimed, progress=progress)


def import_claimed(
    batch: ImportBatch, *, progress: Callable[[int], Any] | None = None
) -> ImportBatch:
    """Import a batch this run holds (`claim_import`) from its last committed chunk on."""
    try:
        _import_rows(batch, progress)
    except Superseded:
        # Another run took the batch over (this one outlived its lease): it writes, not us.
        reload_run(batch)
        return batch
    except ImportFileError as exc:
        finish_import(batch, ImportBatch.Status.FAILED, str(exc))
        return batch
    except Exception:
        logger.exception("Import batch %s failed after %s rows", batch.pk, batch.total_rows)
        finish_import(
            batch,
            ImportBatch.Status.FAILED,
            ngettext(
                "The import stopped unexpectedly after %(rows)s row; it can be resumed.",
                "The import stopped unexpectedly after %(rows)s rows; it can be resumed.",
                batch.total_rows,
            )
            % {"rows": batch.total_rows},
        )
        return batch
    if finish_import(batch, ImportBatch.Status.DONE):
        refresh_statistics(batch.created_count)
        discard_upload(batch)
    return batch


def discard_upload(batch: ImportBatch) -> None:
    """Delete the uploaded copy once imported: its rows now live in the database (and people
    who objected must not linger in a file). A file given on the command line is the user's."""
    uploads = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    path = stored_path(batch.stored_file).resolve()
    if batch.stored_file and path.is_relative_to(uploads):
        path.unlink(missing_ok=True)


def summary_text(batch: ImportBatch) -> str:
    """One sentence with the batch's counts, for messages and the command's output."""
    return _(
        "Created: %(created)s, duplicates: %(duplicates)s, on the objection list: "
        "%(suppressed)s, invalid: %(invalid)s."
    ) % {
        "created": batch.created_count,
        "duplicates": batch.duplicate_count,
        "suppressed": batch.suppressed_count,
        "invalid": batch.invalid_count,
    }


def previous_import(batch: ImportBatch) -> ImportBatch | None:
    """An earlier, finished import of the same file in the same workspace."""
    if not batch.file_sha256:
        return None
    return (
        ImportBatch.objects.for_workspace(batch.workspace_id)
        .filter(file_sha256=batch.file_sha256, status=ImportBatch.Status.DONE)
        .exclude(pk=batch.pk)
        .order_by("-finished_at")
        .first()
    )
