"""A job whose prospects a CSV names: `enrich --csv` and the admin's "from a file" page."""

import html
import io
import json

import pytest
from django.core.management import CommandError, call_command

from enrichment.models import EnrichmentJob
from prospects import services as prospect_services


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("enrich", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines()


def make(workspace, **data):
    return prospect_services.create_prospect(workspace, data=data)


@pytest.fixture
def people(email_ws, other_workspace):
    """Three prospects of the workspace, one of another workspace."""
    return {
        "ana": make(email_ws, first_name="Ana", last_name="Ménard", email="ana@alpha.fr"),
        "bob": make(
            email_ws,
            first_name="Bob",
            last_name="Roy",
            linkedin_url="https://fr.linkedin.com/in/bob-roy/",
            company_name="Alpha",
        ),
        "cy": make(email_ws, first_name="Cy", last_name="Lee", email="cy@alpha.fr"),
        "other": make(other_workspace, first_name="Eve", last_name="Noir", email="eve@beta.fr"),
    }


def write(tmp_path, text, name="choix.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_an_email_column_names_prospects_and_the_others_are_reported(email_ws, people, tmp_path):
    path = write(
        tmp_path,
        "Prénom;E-mail\nAna;ANA@Alpha.fr\nX;inconnu@alpha.fr\nEve;eve@beta.fr\nAna;ana@alpha.fr\n",
    )
    lines = run("--workspace", email_ws.slug, "--fields", "email", "--csv", path, "--estimate")
    assert "4 lignes lues ; prospects de l'espace de travail qu'elles désignent : 1" in lines[0]
    assert lines[1].endswith("de travail : 3, 4")
    last = json.loads(
        run(
            "--workspace", email_ws.slug, "--fields", "email", "--csv", path, "--estimate", "--json"
        )[-1]
    )
    assert last["counts"] == {"total": 1}
    assert last["csv"] == {"rows": 4, "matched": 1, "unmatched_lines": [3, 4]}
    assert not EnrichmentJob.objects.for_workspace(email_ws).exists()


def test_the_job_takes_only_the_named_prospects(email_ws, people, tmp_path):
    path = write(tmp_path, "linkedin,id\nhttps://www.linkedin.com/in/Bob-Roy,\n")
    last = json.loads(
        run("--workspace", email_ws.slug, "--fields", "email", "--csv", path, "--json")[-1]
    )
    job = EnrichmentJob.objects.for_workspace(email_ws).get(pk=last["job"])
    assert job.total_items == 1
    assert last["csv"]["matched"] == 1


def test_an_id_column_never_reaches_another_workspace(email_ws, people, tmp_path):
    ids = [people["cy"].pk, people["other"].pk, 10**12, "abc"]
    path = write(tmp_path, "id\n" + "\n".join(str(i) for i in ids) + "\n")
    selection = prospect_services.select_prospects_from_csv(email_ws.pk, path)
    assert selection.prospect_ids == [people["cy"].pk]
    assert selection.unmatched == [3, 4, 5]
    assert selection.keys == ["id"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Prénom;Nom\nAna;Ménard\n", "aucune colonne qui désigne un prospect"),
        ('email\n"ana@alpha.fr\nbob@alpha.fr\n', "guillemet"),
        ("email\n", "aucune ligne de données"),
        ("", "vide"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_french_error(
    email_ws, people, tmp_path, content, message
):
    path = write(tmp_path, content)
    with pytest.raises(CommandError, match=message):
        run("--workspace", email_ws.slug, "--fields", "email", "--csv", path)
    assert not EnrichmentJob.objects.for_workspace(email_ws).exists()


def test_a_missing_file_is_a_clear_error(email_ws, tmp_path):
    with pytest.raises(CommandError, match="Impossible de lire"):
        run("--workspace", email_ws.slug, "--fields", "email", "--csv", str(tmp_path / "x.csv"))


def test_a_cp1252_file_from_excel_reads(email_ws, people, tmp_path):
    path = write(tmp_path, "Prénom;Courriel\nAna;ana@alpha.fr\n", encoding="cp1252")
    selection = prospect_services.select_prospects_from_csv(email_ws.pk, path)
    assert selection.prospect_ids == [people["ana"].pk]
    assert selection.rows == 1 and not selection.unmatched


# --- The admin page -------------------------------------------------------------------------

FROM_FILE = "/admin/enrichment/enrichmentjob/from-file/"


@pytest.fixture
def keyed(workspace):
    from enrichment import credentials
    from enrichment.engine import ledger

    for slug in ("prospeo", "leadmagic"):
        credentials.set_api_key(workspace, slug, f"{slug}-key-1234")
    ledger.top_up(workspace.pk, "10", key="top-up-1")
    return workspace


def upload(client, content: bytes, name="crm.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(FROM_FILE, {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_the_page_is_linked_from_the_jobs_list(member_client, keyed):
    page = member_client.get("/admin/enrichment/enrichmentjob/")
    assert FROM_FILE in page.content.decode()
    assert "Trouver les e-mails d'un fichier" in html.unescape(
        member_client.get(FROM_FILE).content.decode()
    )


def test_a_file_leads_to_the_estimate_then_the_job(member_client, keyed, other_workspace):
    from tests.enrichment.test_cascade_action import confirm_data

    ana = make(keyed, first_name="Ana", last_name="Ménard", email="ana@alpha.fr")
    make(keyed, first_name="Cy", last_name="Lee", email="cy@alpha.fr")
    eve = make(other_workspace, first_name="Eve", last_name="Noir", email="eve@beta.fr")
    # Another workspace's address names no one here; a blank line is skipped, not counted.
    page = upload(
        member_client, f"email;note\nana@alpha.fr;=1+1\n{eve.email};x\n\n;vide\n".encode()
    )
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "Estimation" in body
    assert page.context["selected"] == [ana.pk]
    assert 'action="/admin/prospects/prospect/"' in body
    assert page.context["file_summary"].endswith("de l'espace de travail : 3, 5")
    assert not EnrichmentJob.objects.for_workspace(keyed).exists()

    confirm = confirm_data(page, action="find_emails", _selected_action=[ana.pk])
    done = member_client.post("/admin/prospects/prospect/", confirm)
    assert done.status_code == 302
    job = EnrichmentJob.objects.for_workspace(keyed).get()
    assert job.total_items == 1
    assert not EnrichmentJob.objects.for_workspace(other_workspace).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email\nnobody@nowhere.fr\n", "Aucune ligne de ce fichier"),
        (b"PK\x03\x04 excel", "classeur Excel"),
        (b"prenom;nom\nAna;Menard\n", "aucune colonne qui désigne un prospect"),
        (b'email\n"ana@alpha.fr\n', "guillemet"),
        (b"\xff\xfe\x00garbage\x00\x00", ""),
    ],
)
def test_a_bad_file_is_a_french_error_on_the_page(member_client, keyed, content, message):
    make(keyed, first_name="Ana", last_name="Ménard", email="ana@alpha.fr")
    page = upload(member_client, content)
    assert page.status_code == 200
    assert "errorlist" in page.content.decode()
    assert message in html.unescape(page.content.decode())
    assert not EnrichmentJob.objects.for_workspace(keyed).exists()


def test_an_oversized_file_is_refused_before_it_is_read(member_client, keyed, settings):
    settings.SOURCIER_IMPORT_MAX_BYTES = 100
    page = upload(member_client, b"email\n" + b"a@alpha.fr\n" * 50)
    assert "Le fichier dépasse 100" in html.unescape(page.content.decode())
    assert not EnrichmentJob.objects.for_workspace(keyed).exists()
