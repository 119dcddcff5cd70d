"""Uploads refuse, in French, what would be read wrong or is too big; files stay private."""

import codecs
import csv
import html
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse

from prospects import imports
from prospects.models import ImportBatch, Prospect
from tests.fixtures import csv_files
from tests.prospects.support import nothing_stored

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Prénom;Nom;E-mail;Société\r\n"


def url(name: str, *args) -> str:
    return reverse(f"admin:prospects_importbatch_{name}", args=args)


def upload(client, content: bytes, name: str = "salon.csv"):
    return client.post(url("upload"), {"file": SimpleUploadedFile(name, content)})


def text(response) -> str:
    return html.unescape(response.content.decode())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_upload_names_the_line_of_a_quote_never_closed(member_client, workspace, media_root):
    rows = "".join(f"Zoé{i};Lefèvre{i};z{i}@sge.fr;SGE\r\n" for i in range(5000))
    content = HEADER + "Éloïse;Lefèvre;e@sge.fr;SGE\r\n" + 'Jean;"Dupont;j@f.fr;F\r\n' + rows

    response = upload(member_client, content.encode())

    assert response.status_code == 200
    assert "Ligne 3 : un guillemet (\") ouvre une cellule qui n'est jamais fermée" in text(response)
    assert nothing_stored(workspace, media_root)


def test_upload_of_a_utf8_file_with_one_cp1252_byte_stores_no_garbled_name(
    member_client, workspace, media_root
):
    content = (
        HEADER + "Éloïse;Lefèvre;e@sge.fr;SGE\r\n"
    ).encode() + b"Zo\xe9;Roux;z@sge.fr;SGE\r\n"

    response = upload(member_client, content)

    assert response.status_code == 200
    assert "Ce fichier est en UTF-8 sauf la ligne 3" in text(response)
    assert nothing_stored(workspace, media_root)
    assert not Prospect.objects.for_workspace(workspace).filter(first_name__contains="Ã").exists()


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE)],
)
def test_a_bad_byte_in_a_file_with_a_bom_is_named_by_its_own_line(
    member_client, workspace, media_root, encoding, bom
):
    # Excel's "CSV UTF-8" and "Unicode text" start with a BOM the decoder skips: the line must
    # be counted in the file's own bytes, BOM included, and the bad byte be near a line start.
    rows = "".join(f"Zoé{i};Lefèvre{i};z{i}@sge.fr;SGE\r\n" for i in range(3000))
    bad = "Zoé;Roux;z@sge.fr;SGE\r\n".encode("cp1252") if encoding == "utf-8" else b"\x00\xd8"
    content = bom + (HEADER + rows).encode(encoding) + bad + "Léa;Roux\r\n".encode(encoding)

    response = upload(member_client, content)

    assert response.status_code == 200
    assert "La ligne 3002 ne peut pas être décodée" in text(response)
    assert nothing_stored(workspace, media_root)


def test_six_thousand_columns_get_a_french_message(member_client, workspace, media_root):
    header = ";".join(["E-mail", *(f"Colonne {i}" for i in range(5999))])
    row = ";".join(["zoe@sge.fr", *("x" for _ in range(5999))])

    response = upload(member_client, f"{header}\r\n{row}\r\n".encode())

    assert response.status_code == 200
    assert (
        "Le fichier a trop de colonnes (6\xa0000) : 200 au maximum. Supprimez les colonnes "
        "inutiles, puis importez-le à nouveau." in text(response)
    )
    assert nothing_stored(workspace, media_root)


def test_column_limit_is_a_setting(member_client, workspace, settings):
    settings.SOURCIER_IMPORT_MAX_COLUMNS = 3
    response = upload(member_client, (HEADER + "Zoé;Roux;z@sge.fr;SGE\r\n").encode())
    assert "Le fichier a trop de colonnes (4) : 3 au maximum." in text(response)


@pytest.mark.parametrize("enforce_csrf", [False, True])
def test_a_mapping_post_with_thousands_of_fields_gets_a_french_page(
    member, workspace, make_batch, tmp_path, enforce_csrf
):
    path = tmp_path / "f.csv"
    path.write_text("Prénom;Nom;Adresse pro;Société\r\nZoé;Roux;z@sge.fr;SGE\r\n", "utf-8")
    batch = make_batch(path)
    # With the CSRF check a browser meets, the middleware reads the fields before the view.
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(member)
    client.get(url("mapping", batch.pk))
    token = client.cookies["csrftoken"].value
    fields = {"csrfmiddlewaretoken": token, **{f"col_{i}": "" for i in range(6000)}}

    response = client.post(url("mapping", batch.pk), fields)

    assert response.status_code == 400
    page = text(response)
    assert "Requête refusée" in page and "beaucoup trop de champs" in page
    assert "Bad Request" not in page


class Received(FileUploadHandler):
    """Stands for the disk: counts the bytes the size limit lets through."""

    total = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        Received.total += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def test_an_oversized_upload_stops_while_it_arrives(
    member_client, workspace, media_root, settings, tmp_path
):
    settings.SOURCIER_IMPORT_MAX_BYTES = 100_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "incoming")
    (tmp_path / "incoming").mkdir()
    settings.FILE_UPLOAD_HANDLERS = [
        "prospects.uploads.SizeLimitUploadHandler",
        f"{__name__}.Received",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    Received.total = 0
    rows = "".join(f"Zoé{i};Lefèvre{i};z{i}@sge.fr;SGE\r\n" for i in range(20_000))

    response = upload(member_client, (HEADER + rows).encode())

    assert response.status_code == 200
    assert (
        "Le fichier dépasse 97,7\xa0Kio, la taille maximale d'un envoi. Découpez-le en fichiers "
        "plus petits" in text(response)
    )
    assert Received.total <= 100_000
    assert not any((tmp_path / "incoming").iterdir())
    assert nothing_stored(workspace, media_root)


def test_an_upload_just_under_the_limit_is_accepted(member_client, workspace, settings):
    content = (HEADER + "Zoé;Roux;z@sge.fr;SGE\r\n").encode()
    settings.SOURCIER_IMPORT_MAX_BYTES = len(content)
    assert upload(member_client, content).status_code == 302
    assert ImportBatch.objects.for_workspace(workspace).count() == 1


def test_the_command_refuses_a_quote_never_closed_and_stores_nothing(
    workspace, tmp_path, media_root
):
    from django.core.management import CommandError, call_command

    path = tmp_path / "salon.csv"
    content = HEADER + "Zoé;Roux;z@sge.fr;SGE\r\n" + 'Jean;"Dupont\r\nMarie;Durand\r\n'
    path.write_text(content, encoding="utf-8", newline="")

    with pytest.raises(CommandError, match=r"^Ligne 3 : un guillemet"):
        call_command("import_prospects", str(path), "--workspace", "acme-lyon")
    assert nothing_stored(workspace, media_root)


def test_rejected_rows_escape_every_formula_headers_included(member_client, workspace):
    hostile = ['=HYPERLINK("http://x")', "Nom", "E-mail", "-1+cmd|' /C calc'!A0"]
    cells = [
        ["@SUM(A1)", "+33 6 12 34 56 78", "pas-un-email", "-2+3"],
        ["\tx", "\rTab", "encore-pas-un-email", "＝1+1"],
        ["＋1", "－1", "toujours-pas", "＠A1"],
    ]
    content = csv_files.csv_text([hostile, *cells], delimiter=";").encode()
    assert upload(member_client, content, "f.csv").status_code == 302
    batch = ImportBatch.objects.for_workspace(workspace).get()
    batch.mapping = {**batch.mapping, "fields": ["first_name", "last_name", "email", "job_title"]}
    batch.save()
    member_client.post(url("run", batch.pk))

    raw = b"".join(member_client.get(url("rejected", batch.pk)).streaming_content)

    assert raw.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][3:] == ['\'=HYPERLINK("http://x")', "Nom", "E-mail", "'-1+cmd|' /C calc'!A0"]
    assert [row[3:] for row in table[1:]] == [
        ["'@SUM(A1)", "'+33 6 12 34 56 78", "pas-un-email", "'-2+3"],
        ["'\tx", "'\rTab", "encore-pas-un-email", "'＝1+1"],
        ["'＋1", "'－1", "toujours-pas", "'＠A1"],
    ]


def test_stored_uploads_are_private_whatever_the_umask(member_client, workspace, media_root):
    previous = os.umask(0o022)
    try:
        upload(member_client, (HEADER + "Zoé;Roux;z@sge.fr;SGE\r\n").encode())
    finally:
        os.umask(previous)

    batch = ImportBatch.objects.for_workspace(workspace).get()
    assert mode(media_root) == 0o700
    assert mode(media_root / "imports") == 0o700
    assert mode(imports.stored_path(batch.stored_file)) == 0o600


def test_a_failed_store_leaves_no_partial_file(media_root):
    def chunks():
        yield b"Pr\xc3\xa9nom;Nom\r\n"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        imports.store_file(chunks())
    assert not any((media_root / "imports").iterdir())


def test_database_keys_and_var_dir_are_private_whatever_the_umask(tmp_path):
    var = tmp_path / "var"
    script = (
        "import json, os; os.umask(0o022)\n"
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE t (x INTEGER)')\n"
        "    cursor.execute('INSERT INTO t VALUES (1)')\n"
        # While the connection is open: SQLite removes -wal and -shm when the last one closes.
        "var = os.environ['SOURCIER_VAR_DIR']\n"
        "modes = {n: os.stat(os.path.join(var, n)).st_mode & 0o777 for n in os.listdir(var)}\n"
        "print(json.dumps(modes))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "SOURCIER_FERNET_KEYS", "SOURCIER_SUPPRESSION_KEY"}
        and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(SOURCIER_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="config.settings")

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.splitlines()[-1])
    assert mode(var) == 0o700
    for name in ("secret_key", "fernet_key", "suppression_key"):
        assert modes[name] == 0o600, name
    for name in ("sourcier.sqlite3", "sourcier.sqlite3-wal", "sourcier.sqlite3-shm"):
        assert modes.get(name) == 0o600, name
    # No key left half-written beside them.
    assert not [name for name in modes if name.startswith(".")]


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    (var / "sourcier.sqlite3").touch()
    (var / "sourcier.sqlite3").chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SOURCIER_VAR_DIR"] = str(var)

    subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, check=True, timeout=60
    )

    assert mode(var) == 0o700
    assert mode(var / "sourcier.sqlite3") == 0o600
