"""A file that would be read wrong is refused before anything is stored, with its lines."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prospects import imports
from prospects.models import Prospect
from tests.fixtures import csv_files
from tests.prospects.support import nothing_stored

HEADER = "Prénom;Nom;E-mail;Société\r\n"


def people(count: int, start: int = 0) -> str:
    return "".join(
        f"Zoé{i};Lefèvre{i};zoe{i}@equipement-sge.fr;Société Générale\r\n"
        for i in range(start, start + count)
    )


def refused(make_batch, path) -> str:
    with pytest.raises(imports.ImportFileError) as caught:
        make_batch(path)
    return str(caught.value)


def test_a_quote_never_closed_on_line_3_of_5003_lines(workspace, make_batch, tmp_path, media_root):
    # Without the check: "Créés : 1, invalides : 1", 5,000 people in one rejected cell.
    text = HEADER + people(1) + 'Jean;"Dupont;jean@fables.fr;Fables\r\n' + people(5000, 2)
    path = tmp_path / "salon.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert text.count("\r\n") == 5003

    message = refused(make_batch, path)

    assert message.startswith("Ligne 3 : un guillemet (\") ouvre une cellule qui n'est jamais")
    assert "Rien n'a été importé." in message
    assert nothing_stored(workspace, media_root)


def test_a_quote_never_closed_with_a_short_tail(workspace, make_batch, tmp_path, media_root):
    # Without the check the two last rows would be stored inside Jean's last name.
    text = HEADER + people(1) + 'Jean;"Dupont;jean@fables.fr;Fables\r\n' + people(2, 2)
    path = tmp_path / "salon.csv"
    path.write_text(text, encoding="utf-8", newline="")

    assert refused(make_batch, path).startswith("Ligne 3 : un guillemet")
    assert nothing_stored(workspace, media_root)


def test_a_quote_never_closed_on_the_last_line_without_a_line_end(make_batch, tmp_path):
    path = tmp_path / "salon.csv"
    path.write_text(HEADER + people(3) + 'Jean;"Dupont', encoding="utf-8", newline="")

    assert refused(make_batch, path).startswith("Ligne 5 : un guillemet")


def test_the_opening_line_is_named_after_a_real_multiline_cell(make_batch, tmp_path):
    text = HEADER + 'Zoé;Lefèvre;zoe@sge.fr;"Société\r\nGénérale"\r\n' + 'Jean;"Dupont\r\n'
    path = tmp_path / "salon.csv"
    path.write_text(text + people(3), encoding="utf-8", newline="")

    assert refused(make_batch, path).startswith("Ligne 4 : un guillemet")


def test_a_quote_closed_rows_later_by_another_cell(workspace, make_batch, tmp_path, media_root):
    # The quoted cell of line 6 closes the quote of line 3: three people in one last name.
    text = (
        HEADER
        + people(1)
        + 'Jean;"Dupont;jean@fables.fr;Fables\r\n'
        + people(2, 2)
        + 'Marie;"Durand, fils";marie@fables.fr;Fables\r\n'
        + people(2, 5)
    )
    path = tmp_path / "salon.csv"
    path.write_text(text, encoding="utf-8", newline="")

    message = refused(make_batch, path)

    assert message.startswith(
        "Lignes 3 à 6 : un guillemet (\") ouvert à la ligne 3 n'est fermé qu'à la ligne 6"
    )
    assert nothing_stored(workspace, media_root)


def test_a_cell_longer_than_a_spreadsheet_holds(make_batch, tmp_path):
    # Closed in the end, but 300 rows later: no spreadsheet cell has 300 line breaks.
    text = HEADER + people(1) + 'Jean;Dupont;jean@fables.fr;"Fables\r\n' + people(300, 2)
    path = tmp_path / "salon.csv"
    path.write_text(text + 'fin";x\r\n' + people(2, 400), encoding="utf-8", newline="")

    message = refused(make_batch, path)

    assert message.startswith("Ligne 3 : une cellule est plus longue que ne peut l'être")
    assert "32\xa0767 caractères ou 253 retours à la ligne" in message


def test_a_quote_swallowing_more_than_a_megabyte(make_batch, tmp_path):
    path = tmp_path / "salon.csv"
    path.write_text(
        HEADER + 'Jean;"Dupont;j@f.fr;F\r\n' + people(40_000), encoding="utf-8", newline=""
    )

    assert refused(make_batch, path).startswith("Ligne 2 : une cellule est plus longue")


@pytest.mark.parametrize("where", ["middle", "last"])
def test_a_megabyte_cell_on_one_line_rejects_its_row_only(workspace, make_batch, tmp_path, where):
    # No quote: the cell swallowed no row. Its row is refused as too long, the others import.
    huge = "Jean;Dupont;jean@fables.fr;" + "F" * 2_000_000 + "\r\n"
    text = HEADER + people(2) + huge + people(2, 10) if where == "middle" else (
        HEADER + people(4) + huge
    )
    path = tmp_path / "salon.csv"
    path.write_text(text, encoding="utf-8", newline="")

    batch = imports.run_import(make_batch(path))

    assert (batch.created_count, batch.invalid_count) == (4, 1)
    rejected = batch.rejected_rows.get()
    assert rejected.line_number == (4 if where == "middle" else 6)
    assert rejected.detail.startswith("Société est trop long")
    kept = rejected.data["Société"]
    assert len(kept) == 32_768 and kept.endswith("…")  # kept for the person, cut


def test_real_multiline_cells_and_sloppy_quotes_still_import(workspace, make_batch, tmp_path):
    text = (
        HEADER
        + 'Zoé;Lefèvre;zoe@sge.fr;"Société Générale\r\nd\'Équipement\r\n69002 Lyon"\r\n'
        + 'Jean;"Dupont" fils;jean@fables.fr;Fables\r\n'
        + 'Marie;Durand;marie@fables.fr;"Fables ""Conseil"""'
    )
    path = tmp_path / "salon.csv"
    path.write_text(text, encoding="utf-8", newline="")

    batch = imports.run_import(make_batch(path))

    assert batch.created_count == 3
    names = Prospect.objects.for_workspace(workspace).values_list("last_name", "company__name")
    assert set(names) == {
        ("Lefèvre", "Société Générale d'Équipement 69002 Lyon"),
        ("Dupont fils", "Fables"),
        ("Durand", 'Fables "Conseil"'),
    }


def test_utf8_file_with_one_cp1252_byte_is_refused_with_its_line(
    workspace, make_batch, tmp_path, media_root
):
    # Without the check the whole file was read as cp1252: "Ã‰loÃ¯se" stored for Éloïse.
    raw = (HEADER + people(3)).encode() + "Éloïse;Lef".encode() + b"\xe8vre;e@sge.fr;SGE\r\n"
    path = tmp_path / "salon.csv"
    path.write_bytes(raw + people(3, 10).encode())

    message = refused(make_batch, path)

    assert message.startswith(
        "Ce fichier est en UTF-8 sauf la ligne 5, écrite dans un autre encodage "
        "(vers « Éloïse;Lef\ufffdvre;e@sge.fr;SGE »)"
    )
    assert nothing_stored(workspace, media_root)


def test_utf8_file_with_many_bad_lines_names_the_first_ones(make_batch, tmp_path):
    bad = "Zoé;Lefèvre;z@sge.fr;SGE\r\n".encode("cp1252")
    raw = (HEADER + people(200)).encode() + bad * 12

    path = tmp_path / "salon.csv"
    path.write_bytes(raw)

    message = refused(make_batch, path)

    lines = "202, 203, 204, 205, 206, 207, 208, 209, 210, 211 et 2 autres lignes"
    assert message.startswith(f"Ce fichier est en UTF-8 sauf les lignes {lines}, écrites")


def test_cp1252_file_with_a_few_utf8_lines_is_refused_too(make_batch, tmp_path):
    raw = (HEADER + people(20)).encode("cp1252") + "Zoé;Lefèvre;z@sge.fr;SGE\r\n".encode()
    path = tmp_path / "salon.csv"
    path.write_bytes(raw)

    message = refused(make_batch, path)

    assert message.startswith(
        "Ce fichier mélange deux encodages : la plupart de ses lignes accentuées sont en "
        "Windows-1252, mais certaines, dont la ligne 22, sont en UTF-8"
    )


def test_cp1252_file_imports_with_its_accents(workspace, make_batch, tmp_path):
    path = tmp_path / "salon.csv"
    # "É" then a no-break space is valid UTF-8 by chance: one line in many is tolerated.
    chance = "Zoé;Lefèvre;zoe@sge.fr;CAFÉ\u00a0!\r\n"
    path.write_bytes((HEADER + people(150) + chance).encode("cp1252"))

    batch = make_batch(path)
    imports.run_import(batch)

    assert batch.encoding == "cp1252"
    stored = Prospect.objects.for_workspace(workspace)
    assert stored.filter(first_name="Zoé149", last_name="Lefèvre149").exists()
    assert stored.get(email="zoe@sge.fr").company.name == "CAFÉ !"
    assert not stored.filter(last_name__contains="Ã").exists()


# Accented letters a cp1252 file puts before ASCII, as French text does; signs such as "€",
# "œ" or "«" right after one of them can form valid UTF-8 by chance (see the test above).
FRENCH = "aeéÉèçàôÔ;,\"' \r\n\t-=+"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_every_well_written_file_passes_the_checks(tmp_path, data, encoding):
    # What a spreadsheet writes is never refused, whatever its cells hold.
    alphabet = FRENCH + ("€œ«»’ł" if encoding == "utf-8" else "")
    cell = st.text(alphabet=alphabet, max_size=12)
    rows = data.draw(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([["a", "b", "c"], *rows])
    path = tmp_path / "well-written.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))

    header = imports.read_header(path)
    expected = sum(1 for row in rows if "".join(row).strip())
    if not expected:
        with pytest.raises(imports.ImportFileError):
            imports.count_rows(path, header)
        return
    assert imports.count_rows(path, header) == expected
    records = imports.reading.iter_records(path, header.encoding, header.delimiter)
    assert [cells for _line, cells in records] == [row for row in rows if "".join(row).strip()]


def test_excel_exports_still_pass(tmp_path):
    for builder in (csv_files.excel_semicolon_cp1252, csv_files.excel_utf8_bom):
        path = builder(tmp_path / "export.csv")
        assert imports.count_rows(path, imports.read_header(path)) == 3
