"""The import screens: upload, mapping, preview, import, batch page, rejected rows download."""

import codecs
import csv
import html
import io

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prospects import imports
from prospects.models import ImportBatch, Prospect
from tests.factories import ProspectFactory
from tests.fixtures import csv_files
from tests.fixtures.csv_files import FRENCH_HEADER, PEOPLE


def url(name: str, *args) -> str:
    return reverse(f"admin:prospects_importbatch_{name}", args=args)


def upload(client, path_or_bytes, name="prospects.csv"):
    content = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return client.post(url("upload"), {"file": SimpleUploadedFile(name, content)})


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def batches(workspace):
    return ImportBatch.objects.for_workspace(workspace)


def stored_files(media_root) -> list:
    folder = media_root / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_changelist_offers_the_import_button(member_client):
    page = text(member_client.get(url("changelist")))
    assert f'href="{url("upload")}"' in page
    assert "Importer un fichier CSV" in page


def test_upload_preview_import_and_batch_page(member_client, workspace, tmp_path, media_root):
    path = csv_files.excel_semicolon_cp1252(tmp_path / "Export Salon.csv")

    response = upload(member_client, path, name="Export Salon.csv")

    batch = batches(workspace).get()
    assert response.status_code == 302
    assert response["Location"] == url("preview", batch.pk)
    assert batch.filename == "Export Salon.csv"
    assert batch.stored_file.startswith("imports/") and batch.stored_file.endswith(".csv")
    assert (media_root / batch.stored_file).read_bytes() == path.read_bytes()
    assert batch.created_by.username == "claire"

    preview = member_client.get(response["Location"])
    page = text(preview)
    assert preview.status_code == 200
    assert 'data-count="new">3<' in page
    assert 'data-count="duplicate">0<' in page
    assert "Éloïse" in page and "+33612345678" in page and "equipement-sge.fr" in page
    assert not Prospect.objects.for_workspace(workspace).exists()

    done = member_client.post(url("run", batch.pk))
    assert done.status_code == 302
    assert done["Location"] == url("change", batch.pk)
    assert Prospect.objects.for_workspace(workspace).count() == 3
    # The uploaded copy is gone once imported: its rows live in the database now.
    assert not (media_root / batch.stored_file).exists()

    page = text(member_client.get(done["Location"]))
    assert 'data-count="new">3<' in page
    assert 'data-status="done"' in page
    assert f"?import_batch__id__exact={batch.pk}" in page
    assert "Créés : 3, doublons : 0, sur liste d'opposition : 0, invalides : 0." in page


def test_batch_prospects_link_lists_exactly_the_batch(member_client, workspace, tmp_path):
    ProspectFactory(workspace=workspace, last_name="Ancien")
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()
    member_client.post(url("run", batch.pk))

    changelist = reverse("admin:prospects_prospect_changelist")
    page = text(member_client.get(f"{changelist}?import_batch__id__exact={batch.pk}"))

    assert "Lefèvre" in page and "N'Diaye" in page
    assert "Ancien" not in page


def test_unknown_column_goes_through_the_mapping_step(member_client, workspace, tmp_path):
    rows = [
        ["Prénom", "Nom", "Adresse pro", "Société", "Code NAF"],
        ["Éloïse", "Lefèvre", "eloise@sge.fr", "SGE", "4669B" + "x" * 2_000_000],
    ]
    response = upload(member_client, csv_files.write_csv(tmp_path / "f.csv", rows))
    batch = batches(workspace).get()
    assert response["Location"] == url("mapping", batch.pk)

    page = text(member_client.get(response["Location"]))
    assert "Adresse pro" in page and "eloise@sge.fr" in page
    # A megabyte on one line is shown as its start: the page stays a page.
    assert "4669B" + "x" * 75 + "…" in page and "x" * 81 not in page
    assert "ignorer" in page

    response = member_client.post(
        url("mapping", batch.pk),
        {"col_0": "first_name", "col_1": "last_name", "col_2": "email", "col_3": "company_name"},
    )
    assert response["Location"] == url("preview", batch.pk)
    batch.refresh_from_db()
    assert imports.batch_fields(batch) == ["first_name", "last_name", "email", "company_name", ""]

    member_client.post(url("run", batch.pk))
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert prospect.email == "eloise@sge.fr"


def test_mapping_refuses_a_field_chosen_twice(member_client, workspace, tmp_path):
    rows = [["Prénom", "Nom", "Mail 1", "Mail 2"], ["Éloïse", "Lefèvre", "a@sge.fr", "b@sge.fr"]]
    upload(member_client, csv_files.write_csv(tmp_path / "f.csv", rows))
    batch = batches(workspace).get()

    response = member_client.post(
        url("mapping", batch.pk),
        {"col_0": "first_name", "col_1": "last_name", "col_2": "email", "col_3": "email"},
    )

    assert response.status_code == 200
    assert "« E-mail » est choisi pour plusieurs colonnes." in text(response)


def test_mapping_requires_a_way_to_recognise_people(member_client, workspace, tmp_path):
    rows = [["Prénom", "Ville"], ["Éloïse", "Lyon"]]
    upload(member_client, csv_files.write_csv(tmp_path / "f.csv", rows))
    batch = batches(workspace).get()

    response = member_client.post(url("mapping", batch.pk), {"col_0": "first_name", "col_1": ""})

    assert response.status_code == 200
    assert "aucune colonne permettant d'identifier une personne" in text(response)
    assert batch.status == ImportBatch.Status.PREVIEW


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vide.csv", b"", "Le fichier soumis est vide."),
        ("blanc.csv", b"\r\n  \r\n", "Le fichier est vide."),
        (
            "classeur.csv",
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100,
            "Ceci est un classeur Excel, pas un fichier CSV.",
        ),
        ("photo.png", b"\x89PNG\r\n", "Envoyez un fichier .csv"),
        (
            "binaire.csv",
            b"Pr\xe9nom;Nom\r\n\x81\x8d\x8f;\x90\x9d\r\n",
            "La ligne 2 ne peut pas être décodée",
        ),
        ("donnees.csv", bytes(range(256)) * 8, "Ce n'est pas un fichier texte"),
        (
            "sans-identite.csv",
            "Prénom;Fonction\r\nÉloïse;DAF\r\n".encode("cp1252"),
            "aucune colonne permettant d'identifier une personne",
        ),
        ("entete.csv", "Prénom;Nom;E-mail\r\n".encode(), "aucune ligne de données"),
    ],
)
def test_unusable_file_gets_a_clear_message_and_nothing_is_kept(
    member_client, workspace, media_root, name, content, message
):
    response = upload(member_client, content, name=name)

    assert response.status_code == 200
    assert message in text(response)
    assert not batches(workspace).exists()
    assert stored_files(media_root) == []


def test_preview_says_when_the_file_was_already_imported(member_client, workspace, tmp_path):
    path = csv_files.excel_utf8_bom(tmp_path / "f.csv")
    upload(member_client, path)
    first = batches(workspace).get()
    member_client.post(url("run", first.pk))

    response = upload(member_client, path)
    second = batches(workspace).exclude(pk=first.pk).get()
    page = text(member_client.get(response["Location"]))

    assert 'id="already-imported"' in page
    assert "Ce fichier a déjà été importé le" in page
    assert 'data-count="duplicate">3<' in page
    member_client.post(url("run", second.pk))
    second.refresh_from_db()
    assert (second.created_count, second.duplicate_count) == (0, 3)


def test_rejected_rows_download_as_excel_friendly_csv(member_client, workspace, tmp_path):
    rows = [FRENCH_HEADER, *PEOPLE, PEOPLE[0], ["Zoé", "Dupont", "=cmd|x", "", "", "", "", ""]]
    upload(member_client, csv_files.write_csv(tmp_path / "f.csv", rows))
    batch = batches(workspace).get()
    member_client.post(url("run", batch.pk))

    response = member_client.get(url("rejected", batch.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert "prospects-lignes-rejetees.csv" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Ligne", "Motif", "Détail", *FRENCH_HEADER]
    assert [row[0] for row in table[1:]] == ["5", "6"]
    duplicate, invalid = table[1], table[2]
    assert duplicate[2] == "Même e-mail que la ligne 2 de ce fichier."
    assert duplicate[3:] == PEOPLE[0]
    assert invalid[3:5] == ["Zoé", "Dupont"]
    # A cell Excel would run as a formula is neutralised.
    assert invalid[5] == "'=cmd|x"
    labels = dict(batch.rejected_rows.model.Reason.choices)
    assert (duplicate[1], invalid[1]) == (str(labels["duplicate"]), str(labels["invalid"]))


def test_batch_page_lists_the_first_rejected_rows(member_client, workspace, tmp_path):
    rows = [FRENCH_HEADER, PEOPLE[0], PEOPLE[0]]
    upload(member_client, csv_files.write_csv(tmp_path / "f.csv", rows))
    batch = batches(workspace).get()
    member_client.post(url("run", batch.pk))

    page = text(member_client.get(url("change", batch.pk)))

    assert 'id="rejected-rows"' in page
    assert "Même e-mail que la ligne 2 de ce fichier." in page
    assert f'href="{url("rejected", batch.pk)}"' in page


def test_import_needs_a_post(member_client, workspace, tmp_path):
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()

    assert member_client.get(url("run", batch.pk)).status_code == 405
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_large_file_is_imported_in_the_background(
    member_client, workspace, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.SOURCIER_IMPORT_SYNC_MAX_ROWS = 2
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = member_client.post(url("run", batch.pk))
            batch.refresh_from_db()
            assert batch.status == ImportBatch.Status.IMPORTING
            page = text(member_client.get(url("change", batch.pk)))
            assert '<meta http-equiv="refresh"' in page
            assert "<progress" in page
        assert len(callbacks) == 1
        callbacks[0]()
    finally:
        current_app.conf.task_always_eager = eager

    assert response["Location"] == url("change", batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    assert batch.created_count == 3


def test_failed_batch_offers_to_resume(member_client, workspace, tmp_path, media_root):
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()
    stored = media_root / batch.stored_file
    content = stored.read_bytes()
    stored.unlink()
    member_client.post(url("run", batch.pk))

    page = text(member_client.get(url("change", batch.pk)))
    assert 'id="resume-form"' in page

    stored.write_bytes(content)
    member_client.post(url("run", batch.pk))
    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (ImportBatch.Status.DONE, 3)


# --- Another workspace's batch ---------------------------------------------------------------


@pytest.fixture
def their_batch(other_workspace, other_member, tmp_path):
    with open(
        csv_files.excel_utf8_bom(tmp_path / "theirs.csv", [FRENCH_HEADER, PEOPLE[0]]), "rb"
    ) as fh:
        batch = imports.create_batch(
            other_workspace, chunks=[fh.read()], filename="concurrent.csv", user=other_member
        )
    rows = [FRENCH_HEADER, PEOPLE[0], PEOPLE[0]]
    with open(csv_files.write_csv(tmp_path / "rejets.csv", rows), "rb") as fh:
        done = imports.create_batch(other_workspace, chunks=[fh.read()], filename="rejets.csv")
    return batch, imports.run_import(done)


@pytest.mark.parametrize("view", ["mapping", "preview", "rejected"])
def test_member_cannot_open_another_workspace_batch(member_client, their_batch, view):
    for batch in their_batch:
        assert member_client.get(url(view, batch.pk)).status_code == 404


def test_member_cannot_import_another_workspace_batch(member_client, their_batch, workspace):
    pending, _done = their_batch

    assert member_client.post(url("run", pending.pk)).status_code == 404

    pending.refresh_from_db()
    assert pending.status == ImportBatch.Status.PREVIEW
    assert not pending.prospects.exists()
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_member_cannot_change_another_workspace_mapping(member_client, their_batch):
    pending, _done = their_batch
    response = member_client.post(url("mapping", pending.pk), {"col_0": "email"})
    assert response.status_code == 404
    pending.refresh_from_db()
    assert imports.batch_fields(pending)[0] == "first_name"


def test_another_workspace_batch_page_looks_like_a_missing_one(member_client, their_batch):
    _pending, done = their_batch
    response = member_client.get(url("change", done.pk))
    missing = member_client.get(url("change", 999999))
    assert response.status_code == missing.status_code
    assert "rejets.csv" not in text(response)
    listing = text(member_client.get(url("changelist")))
    assert "rejets.csv" not in listing and "concurrent.csv" not in listing


def test_their_member_can_download_their_rejected_rows(other_member, their_batch, client):
    _pending, done = their_batch
    client.force_login(other_member)
    response = client.get(url("rejected", done.pk))
    assert response.status_code == 200
    assert b"Lef\xc3\xa8vre" in b"".join(response.streaming_content)


def test_preview_of_a_large_file_counts_its_first_rows_and_says_so(
    member_client, workspace, tmp_path, settings
):
    settings.SOURCIER_IMPORT_SYNC_MAX_ROWS = 2
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()

    page = text(member_client.get(url("preview", batch.pk)))

    assert "Décompte sur les 2 premières lignes sur 3." in page
    assert 'data-count="new">2<' in page
    assert "arrière-plan" in page


def test_an_abandoned_preview_can_be_deleted_with_its_file(
    member_client, workspace, tmp_path, media_root, django_capture_on_commit_callbacks
):
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()
    assert len(stored_files(media_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url("delete", batch.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not batches(workspace).exists()
    assert stored_files(media_root) == []


def test_an_imported_batch_cannot_be_deleted(member_client, workspace, tmp_path):
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    batch = batches(workspace).get()
    member_client.post(url("run", batch.pk))

    assert member_client.post(url("delete", batch.pk), {"post": "yes"}).status_code == 403
    assert batches(workspace).filter(pk=batch.pk).exists()
    assert Prospect.objects.for_workspace(workspace).filter(import_batch=batch).count() == 3


def test_preview_shows_the_domain_a_bare_website_becomes(member_client, workspace):
    # Excel exports a "Site web" column as "www.exemple.fr": stored as the company's domain
    # only, so the preview shows that domain rather than an empty "Site web" cell.
    content = "Prénom;Nom;Société;Site web\r\nAmélie;Bérard;Boulangerie;www.boulangerie-lyon.fr\r\n"
    response = upload(member_client, content.encode("cp1252"))
    page = text(member_client.get(response["Location"]))
    assert "<th>Domaine</th><th>Site web</th>" in page
    assert "<td>boulangerie-lyon.fr</td><td></td>" in page
