"""An import's memory does not grow with its file, and its answers stay the same.

The import finds a person repeated across chunks through its unique indexes (the earlier row
is in the database, with its line); the preview, which writes nothing, keeps digests of the
keys on disk; companies are cached for a bounded number of them.
"""

import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prospects import imports, services
from prospects.imports.bulk import statement_sizes
from prospects.imports.classify import CHUNK_SIZE, Row, SeenKeys, classify
from prospects.imports.provenance import import_detail
from prospects.imports.writing import CompanyCache
from prospects.models import Company, FieldProvenance, ImportBatch, Prospect, RejectedRow
from tests.fixtures import csv_files

HEADER = ["Prénom", "Nom", "E-mail", "Société"]


def person(i: int) -> list[str]:
    return [f"Éloïse{i}", f"Lefèvre{i}", f"eloise{i}@sge.fr", "Société Générale d'Équipement"]


def details(batch: ImportBatch) -> dict[int, str]:
    return dict(
        RejectedRow.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch)
        .values_list("line_number", "detail")
    )


def test_a_resumed_import_names_the_line_a_row_repeats(workspace, make_batch, tmp_path):
    # The run that committed the first chunk is gone, and what it knew with it: the row
    # repeating line 5 is still told apart from a person who was already in the workspace.
    rows = [HEADER, *(person(i) for i in range(CHUNK_SIZE)), person(3), person(CHUNK_SIZE)]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))
    first_chunk = make_batch(csv_files.write_csv(tmp_path / "part.csv", rows[: CHUNK_SIZE + 1]))
    imports.run_import(first_chunk)
    Prospect.objects.for_workspace(workspace).update(import_batch=batch)
    lines = Prospect.objects.for_workspace(workspace).values_list("import_line", flat=True)
    assert sorted(lines) == list(range(2, CHUNK_SIZE + 2))
    ImportBatch.objects.for_workspace(workspace).filter(pk=batch.pk).update(
        status=ImportBatch.Status.IMPORTING, total_rows=CHUNK_SIZE, created_count=CHUNK_SIZE
    )

    batch = imports.run_import(batch)

    assert (batch.total_rows, batch.created_count, batch.duplicate_count) == (
        CHUNK_SIZE + 2,
        CHUNK_SIZE + 1,
        1,
    )
    assert details(batch) == {CHUNK_SIZE + 2: "Même e-mail que la ligne 5 de ce fichier."}


def test_a_person_already_there_is_not_called_a_line_of_the_file(workspace, make_batch, tmp_path):
    existing = services.create_prospect(workspace, data={"email": "eloise7@sge.fr"})
    rows = [HEADER, *(person(i) for i in range(CHUNK_SIZE + 10))]
    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))

    assert details(batch) == {9: f"Existe déjà : même e-mail que le prospect n° {existing.pk}."}
    assert existing.import_line is None


def test_the_preview_finds_a_row_repeated_chunks_later(workspace, make_batch, tmp_path):
    rows = [HEADER, *(person(i) for i in range(2 * CHUNK_SIZE)), person(10), person(11)]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))

    preview = imports.preview_import(batch, limit=0)
    imported = imports.run_import(batch)

    assert (preview.counts.new, preview.counts.duplicate) == (2 * CHUNK_SIZE, 2)
    assert (imported.created_count, imported.duplicate_count) == (2 * CHUNK_SIZE, 2)
    assert details(imported) == {
        2 * CHUNK_SIZE + 2: "Même e-mail que la ligne 12 de ce fichier.",
        2 * CHUNK_SIZE + 3: "Même e-mail que la ligne 13 de ce fichier.",
    }


def test_the_preview_leaves_no_file_behind(workspace, make_batch, tmp_path, monkeypatch):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    rows = [HEADER, *(person(i) for i in range(CHUNK_SIZE + 5))]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))

    imports.preview_import(batch, limit=0)

    assert list((tmp_path / "tmp").iterdir()) == []


# One key per row, drawn from a few values so that repeats are frequent; rows go through
# `classify` in chunks of random sizes, as the preview reads them.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=40),
    sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40),
)
def test_the_preview_names_the_first_line_of_every_repeated_person(workspace, keys, sizes):
    fields = ["email"]
    rows = [Row(line, [f"p{key}@sge.fr"]) for line, key in enumerate(keys, start=2)]
    first_line: dict[int, int] = {}
    with SeenKeys() as seen:
        start, turn = 0, 0
        while start < len(rows):
            size = sizes[turn % len(sizes)]
            classify(workspace.pk, rows[start : start + size], fields, seen)
            start, turn = start + size, turn + 1
    for row, key in zip(rows, keys, strict=True):
        if key in first_line:
            assert (row.reason, row.detail) == (
                "duplicate",
                f"Même e-mail que la ligne {first_line[key]} de ce fichier.",
            )
        else:
            assert row.reason == ""
            first_line[key] = row.line


def test_seen_keys_tell_kinds_apart():
    with SeenKeys() as seen:
        seen.add({("email_key", "a@b.fr"): 2})
        assert seen.lines([("email_key", "a@b.fr"), ("linkedin_key", "a@b.fr")]) == {
            ("email_key", "a@b.fr"): 2
        }
        seen.add({("email_key", "a@b.fr"): 9})
        assert seen.lines([("email_key", "a@b.fr")]) == {("email_key", "a@b.fr"): 2}


def test_a_bounded_company_cache_finds_each_company_again(workspace, make_batch, tmp_path):
    companies = ["Alpha", "Bêta", "Gamma"]
    rows = [HEADER] + [
        [f"P{i}", f"N{i}", f"p{i}@exemple.fr", companies[i % 3]] for i in range(30)
    ]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))
    fields = imports.batch_fields(batch)
    cache = CompanyCache(workspace.pk, filename="f.csv", size=2)
    lines = [Row(line, cells) for line, cells in enumerate(rows[1:], start=2)]
    for start in range(0, len(lines), 4):
        chunk = classify(workspace.pk, lines[start : start + 4], fields, look_up_existing=False)
        cache.assign(chunk)
        assert len(cache.ids) <= 2

    by_name = dict(Company.objects.for_workspace(workspace).values_list("name", "pk"))
    assert sorted(by_name) == sorted(companies)
    for i, row in enumerate(lines):
        assert row.company_id == by_name[companies[i % 3]]


def test_provenance_details_are_the_panel_s_for_any_file_name(workspace, make_batch, tmp_path):
    name = "100 % «prospects» d'Île-de-France, ligne " + "é" * 300 + ".csv"
    path = csv_files.write_csv(tmp_path / "f.csv", [HEADER, person(1)])
    with open(path, "rb") as fh:
        batch = imports.create_batch(
            workspace, chunks=iter(lambda: fh.read(4096), b""), filename=name
        )
    imports.run_import(batch)

    rows = FieldProvenance.objects.for_workspace(workspace).filter(prospect__isnull=False)
    expected = import_detail(batch.filename, 2)
    assert len(expected) == 255
    assert set(rows.values_list("detail", flat=True)) == {expected}
    assert rows.count() == 3


@given(count=st.integers(min_value=0, max_value=20_000), largest=st.integers(1, 2_000))
def test_inserts_take_few_distinct_sizes_and_every_row(count, largest):
    sizes = statement_sizes(count, largest)

    assert sum(sizes) == count
    assert all(size & (size - 1) == 0 and size <= largest for size in sizes)
    # SQLite keeps each distinct statement compiled: a handful, whatever the count.
    assert len(set(sizes)) <= largest.bit_length()
    power = 1 << (largest.bit_length() - 1)  # the largest power of two allowed
    assert len(sizes) <= count // power + power.bit_length()
