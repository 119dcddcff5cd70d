"""The import applies the prospect rules: duplicates, the objection list, invalid rows."""

import pytest

from prospects import imports, services
from prospects.models import ImportBatch, Prospect, RejectedRow, SuppressionEntry
from tests.factories import CompanyFactory, ProspectFactory
from tests.fixtures import csv_files
from tests.fixtures.csv_files import FRENCH_HEADER, PEOPLE

HEADER = ["Prénom", "Nom", "E-mail", "Société", "Téléphone"]


@pytest.fixture
def import_rows(make_batch, tmp_path):
    def run(rows, name="prospects.csv") -> ImportBatch:
        path = csv_files.write_csv(tmp_path / name, [HEADER, *rows], delimiter=";")
        return imports.run_import(make_batch(path))

    return run


def rejected(batch) -> list[tuple[int, str]]:
    return [(r.line_number, r.reason) for r in batch.rejected_rows.order_by("line_number")]


def test_same_person_twice_in_a_file_is_created_once(workspace, import_rows):
    batch = import_rows(
        [
            ["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""],
            ["Jean-Pierre", "de La Fontaine", "jp@fables.fr", "Fables", ""],
            ["Eloise", "LEFEVRE", "ELOISE@SGE.FR", "SGE", ""],
        ]
    )
    assert (batch.created_count, batch.duplicate_count) == (2, 1)
    assert rejected(batch) == [(4, "duplicate")]
    assert batch.rejected_rows.get().detail == "Même e-mail que la ligne 2 de ce fichier."


def test_same_name_at_same_company_without_email_is_a_duplicate(workspace, import_rows):
    batch = import_rows(
        [
            ["Éloïse", "Lefèvre", "", "Société Générale", ""],
            ["ELOISE", "lefevre", "", "societe generale", ""],
            ["Éloïse", "Lefèvre", "", "Autre Société", ""],
        ]
    )
    assert (batch.created_count, batch.duplicate_count) == (2, 1)
    assert rejected(batch) == [(3, "duplicate")]


def test_reimporting_the_same_file_creates_nothing(workspace, make_batch, tmp_path):
    path = csv_files.excel_semicolon_cp1252(tmp_path / "export.csv")
    first = imports.run_import(make_batch(path))

    second = imports.run_import(make_batch(path))

    assert first.created_count == 3
    assert (second.created_count, second.duplicate_count, second.total_rows) == (0, 3, 3)
    assert Prospect.objects.for_workspace(workspace).count() == 3
    assert imports.previous_import(second) == first


def test_prospect_already_in_the_workspace_is_a_duplicate(workspace, import_rows):
    existing = ProspectFactory(workspace=workspace, email="eloise@sge.fr")

    batch = import_rows([["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""]])

    assert batch.created_count == 0
    row = batch.rejected_rows.get()
    assert row.reason == "duplicate"
    assert row.detail == f"Existe déjà : même e-mail que le prospect n° {existing.pk}."


def test_name_at_existing_company_matches_by_domain(workspace, make_batch, tmp_path):
    company = CompanyFactory(workspace=workspace, name="SGE", domain="equipement-sge.fr")
    ProspectFactory(
        workspace=workspace, first_name="Éloïse", last_name="Lefèvre", company=company, email=""
    )
    rows = [["Prénom", "Nom", "Site web"], ["Eloïse", "Lefevre", "https://equipement-sge.fr/"]]

    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))

    assert (batch.created_count, batch.duplicate_count) == (0, 1)


def test_same_email_in_another_workspace_is_not_a_duplicate(
    workspace, other_workspace, import_rows
):
    ProspectFactory(workspace=other_workspace, email="eloise@sge.fr")

    batch = import_rows([["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""]])

    assert batch.created_count == 1


def test_person_on_the_objection_list_is_never_created(workspace, import_rows):
    (entry,) = services.suppress_person(workspace, email="Eloise@SGE.fr")
    (phone_entry,) = services.suppress_person(workspace, phone="06 12 34 56 78")

    batch = import_rows(
        [
            ["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""],
            ["Jean-Pierre", "de La Fontaine", "jp@fables.fr", "Fables", "+33612345678"],
            ["Aminata", "N'Diaye", "aminata@sge.fr", "SGE", ""],
            ["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""],
        ]
    )

    assert (batch.created_count, batch.suppressed_count) == (1, 3)
    assert rejected(batch) == [(2, "suppressed"), (3, "suppressed"), (5, "suppressed")]
    assert list(Prospect.objects.for_workspace(workspace).values_list("last_name", flat=True)) == [
        "N'Diaye"
    ]
    details = [r.detail for r in batch.rejected_rows.order_by("line_number")]
    assert details[:2] == [
        "L'adresse e-mail figure sur la liste d'opposition.",
        "Le numéro de téléphone figure sur la liste d'opposition.",
    ]
    # Nothing of the person who objected is kept in clear, not even in the rejected rows.
    assert [r.data for r in batch.rejected_rows.all()] == [{}, {}, {}]
    entry.refresh_from_db()
    phone_entry.refresh_from_db()
    assert (entry.blocked_attempts, phone_entry.blocked_attempts) == (2, 1)
    assert entry.last_blocked_at is not None


def test_objection_in_another_workspace_does_not_block(workspace, other_workspace, import_rows):
    services.suppress_person(other_workspace, email="eloise@sge.fr")

    batch = import_rows([["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", ""]])

    assert batch.created_count == 1


def test_invalid_rows_are_kept_with_a_reason(workspace, import_rows):
    batch = import_rows(
        [
            ["Éloïse", "Lefèvre", "pas-un-email", "SGE", ""],
            ["", "", "", "SGE", "06 12 34 56 78"],
            ["Jean-Pierre", "de La Fontaine", "", "", ""],
            ["Aminata", "N'Diaye", "aminata@sge.fr", "SGE", "12"],
            ["Camille", "Roux", "camille@sge.fr", "SGE", ""],
        ]
    )

    assert (batch.created_count, batch.invalid_count) == (1, 4)
    rows = {r.line_number: r for r in batch.rejected_rows.all()}
    assert {line: r.reason for line, r in rows.items()} == {
        2: "invalid",
        3: "invalid",
        4: "invalid",
        5: "invalid",
    }
    assert "pas-un-email" in rows[2].detail
    assert rows[4].detail == (
        "Impossible de reconnaître cette personne : il faut un e-mail, une URL LinkedIn, "
        "ou le prénom, le nom et la société."
    )
    assert "12" in rows[5].detail
    # The raw row is kept as written, by column name.
    assert rows[2].data == {
        "Prénom": "Éloïse",
        "Nom": "Lefèvre",
        "E-mail": "pas-un-email",
        "Société": "SGE",
        "Téléphone": "",
    }


def test_too_long_value_rejects_its_row_only(workspace, import_rows):
    batch = import_rows(
        [
            ["Éloïse" * 30, "Lefèvre", "eloise@sge.fr", "SGE", ""],
            ["Jean-Pierre", "de La Fontaine", "jp@fables.fr", "Fables", ""],
        ]
    )
    assert (batch.created_count, batch.invalid_count) == (1, 1)
    assert batch.rejected_rows.get().detail == (
        "Prénom est trop long (180 caractères, 150 au maximum)."
    )


def test_every_row_is_accounted_for(workspace, import_rows):
    services.suppress_person(workspace, email="refus@sge.fr")
    ProspectFactory(workspace=workspace, email="deja@sge.fr")
    batch = import_rows(
        [
            ["A", "Un", "a@sge.fr", "SGE", ""],
            ["B", "Deux", "deja@sge.fr", "SGE", ""],
            ["C", "Trois", "refus@sge.fr", "SGE", ""],
            ["D", "Quatre", "mauvais", "SGE", ""],
            ["E", "Cinq", "a@sge.fr", "SGE", ""],
        ]
    )
    assert batch.total_rows == 5
    assert (
        batch.created_count,
        batch.duplicate_count,
        batch.suppressed_count,
        batch.invalid_count,
    ) == (1, 2, 1, 1)
    assert batch.rejected_rows.count() == batch.rejected_count == 4


def test_preview_counts_match_the_import_and_write_nothing(workspace, make_batch, tmp_path):
    services.suppress_person(workspace, email="jp.delafontaine@fables-conseil.fr")
    rows = [FRENCH_HEADER, *PEOPLE, PEOPLE[0], ["X", "Y", "pas-un-email", "", "", "", "", ""]]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))

    preview = imports.preview_import(batch, limit=3)

    counts = preview.counts
    assert (counts.total, counts.new, counts.duplicate, counts.suppressed, counts.invalid) == (
        5,
        2,
        1,
        1,
        1,
    )
    assert [r.outcome for r in preview.rows] == ["new", "suppressed", "new"]
    assert preview.rows[0].values["phone"] == "+33612345678"
    assert preview.rows[0].values["company_domain"] == "equipement-sge.fr"
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert not RejectedRow.objects.for_workspace(workspace).exists()
    entry = SuppressionEntry.objects.for_workspace(workspace).get()
    assert entry.blocked_attempts == 0  # a preview is not an attempt to create

    batch = imports.run_import(batch)
    assert (
        batch.created_count,
        batch.duplicate_count,
        batch.suppressed_count,
        batch.invalid_count,
    ) == (2, 1, 1, 1)


def test_large_file_is_imported_in_chunks(workspace, make_batch, tmp_path):
    rows = [["Prénom", "Nom", "E-mail", "Société"]]
    rows += [[f"Prénom{i}", f"Nom{i}", f"p{i}@sge.fr", f"Société {i % 7}"] for i in range(2500)]
    rows += [["Prénom1", "Nom1", "p1@sge.fr", "Société 1"]]
    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))

    assert (batch.total_rows, batch.created_count, batch.duplicate_count) == (2501, 2500, 1)
    assert Prospect.objects.for_workspace(workspace).count() == 2500
    assert batch.rejected_rows.get().line_number == 2502


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (
            {"first_name": "Jean-Pierre", "last_name": "de La Fontaine"},
            "Impossible de reconnaître cette personne : il faut un e-mail, une URL LinkedIn, "
            "ou le prénom, le nom et la société.",
        ),
        (
            {"first_name": "Éloïse" * 30, "last_name": "Lefèvre", "email": "eloise@sge.fr"},
            "Prénom est trop long (180 caractères, 150 au maximum).",
        ),
        (
            {"email": "eloise@sge.fr", "company_name": "S" * 256},
            "Société est trop long (256 caractères, 255 au maximum).",
        ),
    ],
)
def test_the_admin_and_the_api_refuse_what_the_import_refuses(workspace, import_rows, data, detail):
    with pytest.raises(services.ProspectRejected) as caught:
        services.create_prospect(workspace, data=data)
    assert (caught.value.reason, str(caught.value)) == ("invalid", detail)
    row = [data.get(name, "") for name in ("first_name", "last_name", "email", "company_name")]

    batch = import_rows([[*row, ""]])

    assert (batch.created_count, batch.invalid_count) == (0, 1)
    assert batch.rejected_rows.get().detail == detail
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_a_name_with_a_company_is_enough_for_the_service(workspace):
    prospect = services.create_prospect(
        workspace,
        data={"first_name": "Jean-Pierre", "last_name": "de La Fontaine", "company_name": "Fables"},
    )
    assert prospect.name_key == "jean pierre de la fontaine|fables"
