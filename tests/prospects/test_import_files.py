"""Every kind of file French sales teams export imports with its accents intact."""

import pytest

from prospects import imports, services
from prospects.models import Company, ImportBatch, Prospect
from tests.fixtures import csv_files
from tests.fixtures.csv_files import ENGLISH_HEADER, FRENCH_HEADER, PEOPLE

EXPECTED = {
    ("Éloïse", "Lefèvre", "eloise.lefevre@equipement-sge.fr", "Société Générale d'Équipement"),
    ("Jean-Pierre", "de La Fontaine", "jp.delafontaine@fables-conseil.fr", "Fables Conseil"),
    ("Aminata", "N'Diaye", "", "Société Générale d'Équipement"),
}


def stored(workspace) -> set[tuple[str, str, str, str]]:
    prospects = Prospect.objects.for_workspace(workspace).select_related("company")
    return {(p.first_name, p.last_name, p.email, p.company.name) for p in prospects}


@pytest.mark.parametrize(
    ("builder", "encoding", "delimiter"),
    [
        (csv_files.excel_semicolon_cp1252, "cp1252", ";"),
        (csv_files.excel_utf8_bom, "utf-8-sig", ","),
        (csv_files.excel_unicode_text, "utf-16", "\t"),
    ],
)
def test_excel_exports_import_with_accents_intact(
    workspace, make_batch, tmp_path, builder, encoding, delimiter
):
    batch = make_batch(builder(tmp_path / "export.csv"))
    assert (batch.encoding, batch.delimiter) == (encoding, delimiter)

    batch = imports.run_import(batch)

    assert batch.status == ImportBatch.Status.DONE
    assert batch.created_count == 3
    assert stored(workspace) == EXPECTED


def test_semicolon_cp1252_file_is_really_windows_1252(tmp_path):
    path = csv_files.excel_semicolon_cp1252(tmp_path / "export.csv")
    raw = path.read_bytes()
    assert raw.startswith("Prénom;Nom;E-mail;Société".encode("cp1252"))
    assert b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_stored_values_are_normalised(workspace, make_batch, tmp_path):
    imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "export.csv")))

    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    assert eloise.phone == "+33612345678"
    assert eloise.linkedin_url == "https://www.linkedin.com/in/eloise-lefevre"
    assert eloise.job_title == "Directrice des achats"
    assert eloise.company.domain == "equipement-sge.fr"
    assert eloise.source == "import"
    assert eloise.status == Prospect.Status.NEW
    assert eloise.created_at is not None
    assert eloise.import_batch.filename == "export.csv"
    # Match keys as Prospect.refresh_keys computes them, so later edits keep matching.
    keys = (eloise.email_key, eloise.linkedin_key, eloise.name_key)
    eloise.refresh_keys()
    assert keys == (eloise.email_key, eloise.linkedin_key, eloise.name_key)


def test_two_people_of_one_company_share_it(workspace, make_batch, tmp_path):
    imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "export.csv")))

    companies = Company.objects.for_workspace(workspace)
    assert companies.count() == 2
    sge = companies.get(domain="equipement-sge.fr")
    assert sge.prospects.count() == 2
    assert sge.name_key == "societe generale d equipement"


def test_existing_company_is_reused(workspace, make_batch, tmp_path):
    existing = Company.objects.create(workspace=workspace, name="SGE", domain="equipement-sge.fr")

    imports.run_import(make_batch(csv_files.excel_utf8_bom(tmp_path / "export.csv")))

    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    assert eloise.company_id == existing.pk
    assert Company.objects.for_workspace(workspace).filter(domain="equipement-sge.fr").count() == 1


def test_every_imported_value_gets_its_import_provenance(workspace, make_batch, tmp_path):
    from prospects.models import FieldProvenance

    batch = make_batch(csv_files.excel_utf8_bom(tmp_path / "export.csv"))
    imports.run_import(batch)

    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    rows = FieldProvenance.objects.for_workspace(workspace).filter(prospect=eloise)
    stored = {f: getattr(eloise, f) for f in services.PROSPECT_FIELDS if getattr(eloise, f)}
    assert {row.field: row.value for row in rows} == stored
    for row in rows:
        assert (row.source, row.confidence, row.is_current) == ("import", 100, True)
        assert row.detail == f"{batch.filename}, ligne 2"
    company_rows = FieldProvenance.objects.for_workspace(workspace).filter(company=eloise.company)
    assert {row.field: row.value for row in company_rows}["domain"] == "equipement-sge.fr"
    assert {row.source for row in company_rows} == {"import"}


def test_crlf_and_quoted_newline_inside_a_field(workspace, make_batch, tmp_path):
    rows = [
        FRENCH_HEADER[:5],
        ["Éloïse", "Lefèvre", "eloise@equipement-sge.fr", "Société Générale\nd'Équipement", "DAF"],
        ["Jean-Pierre", "de La Fontaine", "jp@fables-conseil.fr", "Fables Conseil", "Président"],
    ]
    path = csv_files.write_csv(tmp_path / "multiligne.csv", rows, delimiter=";")
    assert b'"Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale\nd' in path.read_bytes()

    batch = imports.run_import(make_batch(path))

    assert batch.created_count == 2
    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    # The newline is a space once normalised, like any other run of whitespace.
    assert eloise.company.name == "Société Générale d'Équipement"
    jp = Prospect.objects.for_workspace(workspace).get(first_name="Jean-Pierre")
    assert jp.job_title == "Président"


def test_line_numbers_count_excel_rows_across_quoted_newlines(workspace, make_batch, tmp_path):
    rows = [
        ["Prénom", "Nom", "E-mail", "Société"],
        ["Éloïse", "Lefèvre", "eloise@equipement-sge.fr", "Société\nGénérale"],
        ["Jean-Pierre", "de La Fontaine", "pas-un-email", "Fables Conseil"],
    ]
    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))

    rejected = batch.rejected_rows.get()
    assert rejected.line_number == 3


def test_english_headers_are_recognised(workspace, make_batch, tmp_path):
    path = csv_files.plain_utf8(tmp_path / "english.csv", [ENGLISH_HEADER, *PEOPLE])

    batch = make_batch(path)

    assert imports.batch_fields(batch) == [
        "first_name",
        "last_name",
        "email",
        "company_name",
        "job_title",
        "phone",
        "linkedin_url",
        "company_website",
    ]
    assert not imports.needs_mapping(batch)
    imports.run_import(batch)
    assert stored(workspace) == EXPECTED


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Prénom", "first_name"),
        ("PRENOM", "first_name"),
        (" prénom ", "first_name"),
        ("First Name", "first_name"),
        ("Nom", "last_name"),
        ("last_name", "last_name"),
        ("E-mail", "email"),
        ("Email", "email"),
        ("Adresse e-mail", "email"),
        ("Société", "company_name"),
        ("Entreprise", "company_name"),
        ("company", "company_name"),
        ("Fonction", "job_title"),
        ("Poste", "job_title"),
        ("Job title", "job_title"),
        ("Téléphone", "phone"),
        ("phone", "phone"),
        ("LinkedIn", "linkedin_url"),
        ("linkedin_url", "linkedin_url"),
        ("Site web", "company_website"),
        ("website", "company_website"),
        ("Domaine", "company_domain"),
        ("domain", "company_domain"),
        ("Code NAF", ""),
    ],
)
def test_headers_are_matched_ignoring_accents_case_and_spaces(header, field):
    assert imports.guess_field(header) == field


def test_tab_separated_utf8_without_bom(workspace, make_batch, tmp_path):
    path = csv_files.plain_utf8(tmp_path / "t.tsv", [FRENCH_HEADER, *PEOPLE], delimiter="\t")
    batch = make_batch(path)
    assert (batch.encoding, batch.delimiter) == ("utf-8", "\t")
    imports.run_import(batch)
    assert stored(workspace) == EXPECTED


def test_semicolon_file_whose_values_contain_commas(workspace, make_batch, tmp_path):
    rows = [
        ["Prénom", "Nom", "E-mail", "Société", "Fonction"],
        ["Éloïse", "Lefèvre", "eloise@sge.fr", "Dupont, Durand et fils", "Achats, logistique"],
        ["Jean-Pierre", "de La Fontaine", "jp@fables.fr", "Fables, Contes & Cie", "PDG, fondateur"],
    ]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows, delimiter=";"))
    assert batch.delimiter == ";"
    imports.run_import(batch)
    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    assert eloise.company.name == "Dupont, Durand et fils"


def test_blank_lines_are_skipped_without_counting(workspace, make_batch, tmp_path):
    rows = [FRENCH_HEADER, PEOPLE[0], [""] * 8, [], [" ", "\u00a0", "\t"], PEOPLE[1]]
    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))
    assert (batch.total_rows, batch.created_count) == (2, 2)


def test_file_with_a_utf8_cell_late_in_a_cp1252_file_is_read_as_cp1252(
    workspace, make_batch, tmp_path
):
    # The first 64 KB are plain ASCII; the accented row comes at the end.
    filler = [[f"Prenom{i}", f"Nom{i}", f"p{i}@sge.fr", "SGE"] for i in range(3000)]
    last = ["Éloïse", "Lefèvre", "e@sge.fr", "SGE"]
    rows = [["Prenom", "Nom", "Email", "Societe"], *filler, last]
    path = csv_files.write_csv(tmp_path / "f.csv", rows, encoding="cp1252", delimiter=";")
    batch = make_batch(path)
    assert batch.encoding == "cp1252"
    imports.run_import(batch)
    assert Prospect.objects.for_workspace(workspace).filter(first_name="Éloïse").exists()
