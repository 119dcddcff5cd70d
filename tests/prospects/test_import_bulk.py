"""Multi-row inserts (`imports.bulk.BulkInsert`): the rows a plain INSERT would write, or its
error; on SQLite they run as INSERT OR IGNORE, and the rows left out are tried again."""

import pytest
from django.db import IntegrityError, transaction

from prospects.imports.bulk import BulkInsert
from prospects.imports.writing import _PROSPECT_VALUES
from prospects.models import Prospect, RejectedRow
from tests.fixtures import csv_files


def prospect(line: int, email: str) -> tuple:
    # In `_PROSPECT_VALUES` order.
    return ("Éloïse", f"Lefèvre{line}", email, "", "", "", None, email, "", "", "", line, "", "")


def insert_prospects(batch, rows: list[tuple]) -> list[tuple]:
    return BulkInsert(Prospect, _PROSPECT_VALUES).insert(
        rows,
        returning=["import_line"],
        skip_conflicts=True,
        workspace_id=batch.workspace_id,
        source="import",
        import_batch_id=batch.pk,
    )


@pytest.fixture
def batch(make_batch, tmp_path):
    return make_batch(csv_files.excel_utf8_bom(tmp_path / "f.csv"))


def test_rows_whose_key_is_taken_are_left_out_the_others_written(batch):
    insert_prospects(batch, [prospect(2, "a@sge.fr")])

    inserted = insert_prospects(
        batch, [prospect(3, "b@sge.fr"), prospect(4, "a@sge.fr"), prospect(5, "c@sge.fr")]
    )

    assert sorted(line for _pk, line in inserted) == [3, 5]
    stored = Prospect.objects.for_workspace(batch.workspace_id).filter(import_batch=batch)
    assert sorted(stored.values_list("import_line", flat=True)) == [2, 3, 5]


def test_a_row_breaking_a_check_fails_the_insert_even_among_taken_keys(batch):
    """A row that breaks a CHECK constraint is an error, as a plain INSERT says, not a row
    quietly left out like one whose key is taken."""
    insert_prospects(batch, [prospect(2, "a@sge.fr")])

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_prospects(
            batch, [prospect(3, "b@sge.fr"), prospect(4, "a@sge.fr"), prospect(-1, "c@sge.fr")]
        )

    stored = Prospect.objects.for_workspace(batch.workspace_id).filter(import_batch=batch)
    assert list(stored.values_list("import_line", flat=True)) == [2]


def test_a_row_breaking_a_constraint_fails_an_insert_without_conflicts(batch):
    rejected = BulkInsert(RejectedRow, ("line_number", "reason", "detail", "data"))
    rows = [(2, "invalid", "", {}), (-3, "invalid", "", {}), (4, "invalid", "", {})]

    with pytest.raises(IntegrityError), transaction.atomic():
        rejected.insert(rows, workspace_id=batch.workspace_id, batch_id=batch.pk)

    assert not RejectedRow.objects.for_workspace(batch.workspace_id).exists()


def test_a_file_imported_again_still_writes_its_new_rows_and_refuses_bad_ones(batch):
    """Past a statement that left out most of its rows (people already there), the rest go
    through the plain statements: new rows are written, a row breaking a CHECK still fails."""
    again = [prospect(line, f"p{line}@sge.fr") for line in range(2, 1202)]
    insert_prospects(batch, again)

    inserted = insert_prospects(batch, [*again, prospect(1300, "new@sge.fr")])
    assert [line for _pk, line in inserted] == [1300]

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_prospects(batch, [*again, prospect(-1, "bad@sge.fr")])
    assert Prospect.objects.for_workspace(batch.workspace_id).count() == 1201
