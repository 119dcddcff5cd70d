"""`manage.py import_prospects FILE --workspace SLUG`: progress on stderr, French summary."""

import codecs
import csv
import io
import stat

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.urls import reverse

from prospects.models import ImportBatch, Prospect
from tests.fixtures import csv_files
from tests.fixtures.csv_files import FRENCH_HEADER, PEOPLE


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prospects", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_with_progress_and_a_french_summary(workspace, tmp_path, media_root):
    path = csv_files.excel_semicolon_cp1252(tmp_path / "salon.csv")

    out, err = run(str(path), "--workspace", "acme-lyon")

    assert "3/3" in err and "100%" in err and "lignes" in err
    assert out.splitlines()[0] == (
        "Import de salon.csv terminé. "
        "Créés : 3, doublons : 0, sur liste d'opposition : 0, invalides : 0."
    )
    assert Prospect.objects.for_workspace(workspace).count() == 3
    batch = ImportBatch.objects.for_workspace(workspace).get()
    assert batch.status == ImportBatch.Status.DONE
    # The command worked on a copy, discarded once imported; the user's own file stays.
    assert batch.stored_file.startswith("imports/")
    assert not (media_root / batch.stored_file).exists()
    assert path.exists()


def test_running_the_command_again_creates_nothing(workspace, tmp_path):
    path = csv_files.excel_utf8_bom(tmp_path / "salon.csv")
    run(str(path), "--workspace", "acme-lyon")

    out, err = run(str(path), "--workspace", "acme-lyon")

    assert "Créés : 0, doublons : 3" in out
    assert "Ce fichier a déjà été importé le" in err
    rejected_url = reverse(
        "admin:prospects_importbatch_rejected",
        args=[ImportBatch.objects.for_workspace(workspace).latest("created_at").pk],
    )
    assert rejected_url in out
    assert Prospect.objects.for_workspace(workspace).count() == 3


def test_rejected_rows_can_be_written_to_a_file(workspace, tmp_path):
    rows = [FRENCH_HEADER, *PEOPLE, PEOPLE[1]]
    path = csv_files.write_csv(tmp_path / "salon.csv", rows)
    rejected = tmp_path / "rejets.csv"

    out, _err = run(str(path), "--workspace", "acme-lyon", "--rejected-out", str(rejected))

    assert f"Lignes rejetées écrites dans {rejected}." in out
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o600  # personal data: this account only
    raw = rejected.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["Ligne", "Motif", "Détail"]
    # The phone number starts with "+": escaped, like any cell a spreadsheet reads as a formula.
    assert PEOPLE[1][5] == "+33 1 42 68 53 00"
    assert table[1][0] == "5" and table[1][3:] == [
        *PEOPLE[1][:5],
        "'+33 1 42 68 53 00",
        *PEOPLE[1][6:],
    ]


@pytest.mark.parametrize("where", ["missing-folder/rejets.csv", "."])
def test_an_unwritable_rejected_file_is_said_before_anything_is_imported(
    workspace, tmp_path, where
):
    path = csv_files.write_csv(tmp_path / "salon.csv", [FRENCH_HEADER, *PEOPLE])

    with pytest.raises(CommandError, match="Impossible d'écrire les lignes rejetées"):
        run(str(path), "--workspace", "acme-lyon", "--rejected-out", str(tmp_path / where))

    assert not Prospect.objects.for_workspace(workspace).exists()


def test_a_stray_nul_byte_refuses_its_row_not_the_file(workspace, tmp_path, media_root):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"Pr\xc3\xa9nom;Nom;E-mail\nA\x00x;B;nul@x.fr\nC;D;ok@x.fr\n")

    out, _err = run(str(path), "--workspace", "acme-lyon")

    assert list(Prospect.objects.for_workspace(workspace).values_list("email", flat=True)) == [
        "ok@x.fr"
    ]
    assert "invalides : 1" in out


def test_dry_run_counts_without_writing(workspace, tmp_path, media_root):
    path = csv_files.excel_unicode_text(tmp_path / "salon.txt")

    out, _err = run(str(path), "--workspace", "acme-lyon", "--dry-run")

    assert "Essai à blanc, rien n'a été écrit. Seraient créés : 3, doublons : 0" in out
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert not ImportBatch.objects.for_workspace(workspace).exists()
    assert not (media_root / "imports").exists()


def test_unknown_columns_are_named_and_ignored(workspace, tmp_path):
    rows = [["Prénom", "Nom", "E-mail", "Code NAF"], ["Éloïse", "Lefèvre", "e@sge.fr", "4669B"]]
    path = csv_files.write_csv(tmp_path / "f.csv", rows)

    _out, err = run(str(path), "--workspace", "acme-lyon")

    assert "Colonnes non reconnues, ignorées : Code NAF" in err
    assert Prospect.objects.for_workspace(workspace).get().email == "e@sge.fr"


def test_unknown_workspace_is_a_clear_french_error(workspace, other_workspace, tmp_path):
    path = csv_files.excel_utf8_bom(tmp_path / "salon.csv")

    with pytest.raises(CommandError) as error:
        run(str(path), "--workspace", "inconnu")

    assert str(error.value) == (
        "Aucun espace de travail n'a l'identifiant « inconnu ». "
        "Espaces existants : acme-lyon, concurrent-paris."
    )
    assert not Prospect.objects.unscoped().exists()


def test_unusable_file_is_a_clear_french_error(workspace, tmp_path, media_root):
    path = tmp_path / "classeur.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)

    with pytest.raises(CommandError, match="Ceci est un classeur Excel"):
        run(str(path), "--workspace", "acme-lyon")
    with pytest.raises(CommandError, match="Fichier introuvable"):
        run(str(tmp_path / "absent.csv"), "--workspace", "acme-lyon")
    assert list((media_root / "imports").iterdir()) == []


def test_command_exits_non_zero_on_error(workspace, tmp_path, capsys):
    path = csv_files.excel_utf8_bom(tmp_path / "salon.csv")
    argv = ["manage.py", "import_prospects", str(path), "--workspace", "inconnu"]

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(argv)

    assert exit_info.value.code != 0
    assert "Aucun espace de travail n'a l'identifiant « inconnu »" in capsys.readouterr().err
