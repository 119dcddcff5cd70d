"""Running an import: the creation hook, idempotency, resuming, the Celery task."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from prospects import imports
from prospects.imports.classify import CHUNK_SIZE
from prospects.models import ImportBatch, Prospect, RejectedRow
from prospects.tasks import import_batch_task
from tests.fixtures import csv_files


def many_rows(count: int, start: int = 0) -> list[list[str]]:
    header = ["Prénom", "Nom", "E-mail", "Société"]
    return [header] + [
        [f"Éloïse{i}", f"Lefèvre{i}", f"eloise{i}@sge.fr", "Société Générale d'Équipement"]
        for i in range(start, start + count)
    ]


def test_prospects_created_is_sent_after_commit_with_the_created_ids(
    workspace, make_batch, tmp_path, created_signals, django_capture_on_commit_callbacks
):
    rows = 2 * CHUNK_SIZE + 300
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", many_rows(rows)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        imports.run_import(batch)
        # Nothing is announced before the chunk's transaction commits.
        assert created_signals == []
    for callback in callbacks:
        callback()

    ids = set(Prospect.objects.for_workspace(workspace).values_list("pk", flat=True))
    assert len(ids) == rows
    # One signal per committed chunk, every created id exactly once, nothing else.
    assert [len(s["prospect_ids"]) for s in created_signals] == [CHUNK_SIZE, CHUNK_SIZE, 300]
    sent = [pk for s in created_signals for pk in s["prospect_ids"]]
    assert sorted(sent) == sorted(ids)
    assert {s["workspace_id"] for s in created_signals} == {workspace.pk}


def test_duplicates_and_rejected_rows_are_not_announced(
    workspace, make_batch, tmp_path, created_signals, django_capture_on_commit_callbacks
):
    path = csv_files.excel_utf8_bom(tmp_path / "f.csv")
    with django_capture_on_commit_callbacks(execute=True):
        imports.run_import(make_batch(path))
        imports.run_import(make_batch(path))

    assert len(created_signals) == 1
    assert len(created_signals[0]["prospect_ids"]) == 3


def test_a_done_batch_is_not_imported_twice(workspace, make_batch, tmp_path):
    batch = imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv")))
    Prospect.objects.for_workspace(workspace).delete()

    again = imports.run_import(batch)

    assert again.status == ImportBatch.Status.DONE
    assert again.created_count == 3
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_a_cut_import_resumes_after_its_last_committed_chunk(workspace, make_batch, tmp_path):
    path = csv_files.write_csv(tmp_path / "f.csv", many_rows(2500))
    batch = make_batch(path)
    # A worker died after committing the first 1,000 rows: the database says so, nothing else.
    first_chunk = make_batch(csv_files.write_csv(tmp_path / "part.csv", many_rows(1000)))
    imports.run_import(first_chunk)
    Prospect.objects.for_workspace(workspace).update(import_batch=batch)
    ImportBatch.objects.for_workspace(workspace).filter(pk=batch.pk).update(
        status=ImportBatch.Status.IMPORTING, total_rows=1000, created_count=1000
    )

    batch = imports.run_import(batch)

    assert batch.status == ImportBatch.Status.DONE
    assert (batch.total_rows, batch.created_count, batch.duplicate_count) == (2500, 2500, 0)
    assert batch.prospects.count() == 2500
    assert not batch.rejected_rows.exists()


def test_a_failed_import_can_be_resumed(workspace, make_batch, tmp_path, media_root):
    batch = make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    stored = imports.stored_path(batch.stored_file)
    content = stored.read_bytes()
    stored.unlink()

    batch = imports.run_import(batch)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == "Le fichier envoyé n'est plus disponible ; envoyez-le à nouveau."

    stored.write_bytes(content)
    batch = imports.run_import(batch)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.created_count == 3


def test_import_task_runs_twice_with_the_same_result(workspace, make_batch, tmp_path):
    batch = make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv"))

    assert import_batch_task(batch.pk) == "done"
    assert import_batch_task(batch.pk) == "done"

    batch.refresh_from_db()
    assert (batch.created_count, batch.duplicate_count) == (3, 0)
    assert Prospect.objects.for_workspace(workspace).count() == 3


def test_import_task_for_a_deleted_batch_does_nothing(db):
    assert import_batch_task(987654) == "missing"


def test_sqlite_tuning_is_undone_after_the_import(workspace, make_batch, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite connection pragmas")

    def pragmas():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            return cache, cursor.fetchone()[0]

    before = pragmas()
    imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv")))
    assert pragmas() == before


def test_postgresql_tuning_commits_lazily_then_is_undone(workspace, make_batch, tmp_path):
    """The writing connection commits without waiting for the disk for the whole import (set
    once, not once per chunk), and gets its own setting back afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit")
    from prospects.imports.bulk import bulk_write_tuning, commits_lazily

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit')")
            return cursor.fetchone()[0]

    before = setting()
    assert before != "off" and not commits_lazily()
    with bulk_write_tuning():
        assert setting() == "off" and commits_lazily()
    assert setting() == before and not commits_lazily()
    imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv")))
    assert setting() == before


@pytest.mark.django_db(transaction=True)
def test_a_large_import_outside_a_transaction_gives_the_same_result(
    workspace, member, tmp_path, media_root, created_signals
):
    """Outside a transaction, PostgreSQL imports write each chunk in a writer thread while the
    next one is read: the outcome must be the one the step-by-step import gives."""
    from prospects import services

    started = timezone.now()

    existing = services.create_prospect(
        workspace,
        data={"first_name": "Déjà", "last_name": "Là", "email": f"eloise{CHUNK_SIZE + 5}@sge.fr"},
    )
    services.suppress_person(workspace, email=f"eloise{2 * CHUNK_SIZE + 7}@sge.fr")
    rows = many_rows(2 * CHUNK_SIZE + 40)
    rows.append(rows[3])  # the same person again, in the last chunk
    path = csv_files.write_csv(tmp_path / "f.csv", rows)
    with open(path, "rb") as fh:
        batch = imports.create_batch(
            workspace, chunks=iter(lambda: fh.read(4096), b""), filename="f.csv", user=member
        )

    del created_signals[:]  # the prospect created above
    batch = imports.run_import(batch)

    total = 2 * CHUNK_SIZE + 41
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.total_rows, batch.created_count) == (total, total - 3)
    assert (batch.duplicate_count, batch.suppressed_count, batch.invalid_count) == (2, 1, 0)
    assert batch.prospects.count() == total - 3
    details = dict(
        RejectedRow.objects.for_workspace(workspace)
        .filter(batch=batch)
        .values_list("line_number", "detail")
    )
    assert details == {
        CHUNK_SIZE + 7: f"Existe déjà : même e-mail que le prospect n° {existing.pk}.",
        2 * CHUNK_SIZE + 9: "L'adresse e-mail figure sur la liste d'opposition.",
        total + 1: "Même e-mail que la ligne 4 de ce fichier.",
    }
    # Each chunk was committed once, in order; on PostgreSQL by the writer thread, on a
    # connection of its own, on SQLite by the importing thread itself.
    assert [len(s["prospect_ids"]) for s in created_signals] == [CHUNK_SIZE, CHUNK_SIZE - 1, 39]
    threads = {s["thread"] for s in created_signals}
    connections_used = {s["connection"] for s in created_signals}
    if connection.vendor == "postgresql":
        assert len(threads) == 1 and threads.pop().startswith("import-writer")
        assert len(connections_used) == 1
        assert connections_used.pop() != id(connection.connection)
        # The table grew from nothing: its statistics were refreshed after the import.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s",
                [Prospect._meta.db_table],
            )
            assert cursor.fetchone()[0] >= started
    else:
        assert threads == {threading.current_thread().name}


@pytest.mark.django_db(transaction=True)
def test_a_write_failing_while_reading_fails_is_logged_not_lost(
    workspace, member, tmp_path, media_root, caplog
):
    """Reading chunk 2 fails while chunk 1 is being written, and that write fails too: the
    import stops with the reading error, and the writing error is in the log."""
    if connection.vendor != "postgresql":
        pytest.skip("chunks are written behind the reading on PostgreSQL only")
    rows = many_rows(CHUNK_SIZE + 500)
    rows.insert(3, ["", "", "pas un e-mail", ""])  # chunk 1 keeps a rejected row
    path = csv_files.write_csv(tmp_path / "f.csv", rows)
    with open(path, "rb") as fh:
        batch = imports.create_batch(
            workspace, chunks=iter(lambda: fh.read(4096), b""), filename="f.csv", user=member
        )
    # The stored copy goes bad near its end (far past chunk 1), and rejected rows can no
    # longer be written.
    with open(imports.stored_path(batch.stored_file), "ab") as fh:
        fh.write(b"\xff\xfe;\xff\r\n")
    table = RejectedRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT test_no_rejects CHECK (line_number < 0) NOT VALID"
        )
    try:
        batch = imports.run_import(batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT test_no_rejects")

    assert batch.status == ImportBatch.Status.FAILED
    assert "ne peut pas être décodée" in batch.error
    assert batch.total_rows == 0
    lost = [r for r in caplog.records if "writing a chunk failed as well" in r.getMessage()]
    assert len(lost) == 1
    assert "test_no_rejects" in str(lost[0].exc_info[1])


def test_bulk_insert_keeps_values_as_given(workspace, make_batch, tmp_path):
    """Whatever a value holds (quotes, braces, NULLs, a JSON list or object) it is stored as
    given, on either database: the insert document must not reinterpret it."""
    from prospects.imports.bulk import BulkInsert

    batch = make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    rejected = BulkInsert(RejectedRow, ("line_number", "reason", "detail", "data"))
    rows = [
        (2, "invalid", "", ["un", "deux"]),
        (3, "invalid", 'a "quoted" {brace}, comma\\ backslash', {"Nom": "Lefèvre"}),
        (4, "invalid", "€ — é", []),
        (5, "invalid", "NULL", {"liste": [1, 2, {"x": None}]}),
    ]
    ids = rejected.insert(rows, workspace_id=workspace.pk, batch_id=batch.pk)

    assert len(ids) == len(rows)
    stored = RejectedRow.objects.for_workspace(workspace).filter(batch=batch)
    stored = stored.order_by("line_number")
    assert [(r.line_number, r.reason, r.detail, r.data) for r in stored] == rows
