"""CSV import of prospects: read any file French sales teams send, preview, import in chunks.

`reading` knows files (encodings, delimiters, headers), `classify` applies the prospect rules
to rows (preview and import share it), `writing` stores a chunk (through `bulk`'s multi-row
inserts, with its `provenance`), `importing` runs a batch and `rejected` writes the rejected
rows back as CSV, `lease` says which run holds a batch and resumes the ones nobody runs any
more.
An ImportBatch's `mapping` is `{"columns": [...], "fields": [...], "row_count": n}`: the
header as read, each column's target field ("" = ignored) and the number of data rows.
"""

from .classify import ImportCounts
from .importing import (
    ImportPreview,
    PreviewRow,
    batch_columns,
    batch_fields,
    create_batch,
    import_claimed,
    needs_mapping,
    preview_import,
    previous_import,
    run_import,
    summary_text,
)
from .lease import (
    claim_import,
    expire_previews,
    lease_seconds,
    queue_import,
    resume_abandoned_imports,
    touch_preview,
)
from .reading import (
    FIELD_LABELS,
    IGNORE,
    CsvHeader,
    ImportFileError,
    count_rows,
    discard_file,
    guess_field,
    has_identity,
    identity_error,
    iter_records,
    read_header,
    store_file,
    stored_path,
)
from .rejected import iter_rejected_csv, rejected_filename

__all__ = [
    "FIELD_LABELS",
    "IGNORE",
    "CsvHeader",
    "ImportCounts",
    "ImportFileError",
    "ImportPreview",
    "PreviewRow",
    "batch_columns",
    "batch_fields",
    "claim_import",
    "count_rows",
    "create_batch",
    "discard_file",
    "expire_previews",
    "guess_field",
    "has_identity",
    "identity_error",
    "import_claimed",
    "iter_records",
    "iter_rejected_csv",
    "lease_seconds",
    "needs_mapping",
    "preview_import",
    "previous_import",
    "queue_import",
    "read_header",
    "rejected_filename",
    "resume_abandoned_imports",
    "run_import",
    "store_file",
    "stored_path",
    "summary_text",
    "touch_preview",
]
