"""One bad cell never breaks a file, the admin or the command: its row is rejected with a
French reason (or stored with bounded match keys) and the rest of the file imports."""

import html
import importlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from prospects import imports, normalize, services
from prospects.imports.reading import SNIFF_BYTES
from prospects.models import Company, ImportBatch, Prospect, RejectedRow
from tests.fixtures import csv_files
from tests.fixtures.csv_files import FRENCH_HEADER

# Website cells urlsplit refused with a ValueError: brackets that are not an IPv6 address,
# and the small commercial at, which NFKC turns into an "@" inside the host.
BAD_WEBSITES = ["[oops", "https://[broken", "a@[1.2.3.4]", "contact﹫acme.fr"]
CHINESE_COMPANY = "中" * 255  # the longest company name; folded, "Zhong " 255 times
EMOJI_NAME = "😀" * 150  # the longest first name; folded, "grinning" 150 times
NUL = "\x00"


def person(n: int, **cells: str) -> list[str]:
    """A row of FRENCH_HEADER: a distinct, valid person unless a cell says otherwise."""
    values = {
        "Prénom": f"Éloïse{n}",
        "Nom": f"Lefèvre{n}",
        "E-mail": f"eloise{n}@equipement-sge.fr",
        "Société": "Société Générale d'Équipement",
        "Fonction": "Directrice des achats",
        "Téléphone": "",
        "LinkedIn": "",
        "Site web": "https://www.equipement-sge.fr",
        **cells,
    }
    return [values[column] for column in FRENCH_HEADER]


def bad_rows() -> list[list[str]]:
    """Lines 3 to 6: the bad websites."""
    return [person(10 + i, **{"Site web": site}) for i, site in enumerate(BAD_WEBSITES)]


def long_names() -> list[list[str]]:
    """Lines 7 to 10: long non-Latin names whose match keys outgrow their columns."""
    return [
        person(20, Société=CHINESE_COMPANY, **{"E-mail": "", "Site web": ""}),
        # Same folded start as the row above, another person: both are kept.
        person(20, Société=CHINESE_COMPANY[:-1] + "文", **{"E-mail": "", "Site web": ""}),
        person(21, Prénom=EMOJI_NAME, Nom=EMOJI_NAME, **{"E-mail": ""}),
        # The same emoji person again: recognised as such, though the key was shortened.
        person(21, Prénom=EMOJI_NAME, Nom=EMOJI_NAME, **{"E-mail": ""}),
    ]


def bad_file(path):
    rows = [FRENCH_HEADER, person(1), *bad_rows(), *long_names(), person(2)]
    return csv_files.write_csv(path, rows, delimiter=";")


def nul_file(path):
    """Enough rows to push a NUL past what the encoding sniffer reads, then NULs in a
    prospect's first name and in a column nobody imports, on a row that is rejected."""
    header = [*FRENCH_HEADER, "Remarque"]
    filler = [[*person(100 + i), ""] for i in range(SNIFF_BYTES // 100)]
    rows = [
        header,
        *filler,
        [*person(1, Prénom=f"Élo{NUL}ïse"), ""],
        [*person(2, **{"E-mail": "pas-un-email"}), f"note{NUL}"],
        [*person(3), ""],
    ]
    path = csv_files.write_csv(path, rows, delimiter=";")
    assert path.read_bytes().index(NUL.encode()) > SNIFF_BYTES
    return path, len(filler) + 2


def rejected(batch) -> dict[int, tuple[str, str]]:
    rows = RejectedRow.objects.for_workspace(batch.workspace_id).filter(batch=batch)
    return {r.line_number: (r.reason, r.detail) for r in rows}


def prospects(workspace):
    return Prospect.objects.for_workspace(workspace)


# --- The normalisers raise only InvalidValue ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        *BAD_WEBSITES,
        "http://[::1",
        "[中İ]",
        "﹫﹫",
        # More than DNS holds: a label over 63 characters, a name over 253 (RFC 1035).
        "a" * 300 + ".fr",
        "a" * 64 + ".fr",
        "é" * 60 + ".fr",
    ],
)
def test_normalize_domain_raises_only_invalid_value(value):
    with pytest.raises(normalize.InvalidValue, match="Domaine invalide"):
        normalize.normalize_domain(value)


def test_the_longest_names_dns_holds_are_domains():
    assert normalize.normalize_domain("a" * 63 + ".fr") == "a" * 63 + ".fr"
    assert normalize.normalize_domain("https://www.café.fr/") == "café.fr"


def test_long_match_keys_are_bounded_and_keep_different_names_apart():
    key = normalize.name_key(EMOJI_NAME, EMOJI_NAME, normalize.company_key("", CHINESE_COMPANY))
    other = normalize.name_key(EMOJI_NAME, EMOJI_NAME, normalize.company_key("", "中" * 254))
    company = normalize.company_key("", CHINESE_COMPANY)

    assert len(key) == Prospect._meta.get_field("name_key").max_length
    assert len(company) == Company._meta.get_field("name_key").max_length
    assert key != other and key.startswith("grinning grinning")
    # Deterministic: the same person is recognised again.
    assert key == normalize.name_key(EMOJI_NAME, EMOJI_NAME, company)
    # A key that fits is left as it was (keys stored before stay valid).
    assert normalize.name_key("Éloïse", "Lefèvre", "sge.fr") == "eloise lefevre|sge.fr"


def test_match_key_limits_are_the_columns_lengths():
    assert Prospect._meta.get_field("name_key").max_length == normalize.NAME_KEY_LENGTH
    assert Company._meta.get_field("name_key").max_length == normalize.COMPANY_KEY_LENGTH


@pytest.mark.parametrize("field", list(services.FIELD_LABELS))
@pytest.mark.parametrize("bad", [NUL, "\ud800"])
def test_a_value_that_cannot_be_stored_is_rejected_with_a_reason(field, bad):
    data = {"first_name": "Éloïse", "last_name": "Lefèvre", "email": "eloise@sge.fr"}
    data[field] = f"{data.get(field, 'x')}{bad}"

    with pytest.raises(services.ProspectRejected) as caught:
        services.clean_prospect_data(data)

    assert caught.value.reason == "invalid"
    assert str(caught.value) == (
        f"{services.FIELD_LABELS[field]} contient un caractère impossible à enregistrer "
        "(caractère nul ou code invalide)."
    )


# --- A full import -------------------------------------------------------------------------


def test_bad_cells_are_rejected_and_the_rest_of_the_file_imports(workspace, make_batch, tmp_path):
    batch = imports.run_import(make_batch(bad_file(tmp_path / "salon.csv")))

    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert (batch.created_count, batch.invalid_count, batch.duplicate_count) == (5, 4, 1)
    reasons = rejected(batch)
    for line, site in enumerate(BAD_WEBSITES, start=3):
        assert reasons[line] == ("invalid", f"Domaine invalide : {site.lower()}")
    same_name = "Même nom dans la même société que la ligne 9 de ce fichier."
    assert reasons[10] == ("duplicate", same_name)
    stored = prospects(workspace)
    assert set(stored.values_list("first_name", flat=True)) == {
        "Éloïse1",
        "Éloïse2",
        "Éloïse20",
        EMOJI_NAME,
    }
    assert stored.filter(company__name=CHINESE_COMPANY).count() == 1
    assert stored.filter(company__name=CHINESE_COMPANY[:-1] + "文").count() == 1


def test_reimporting_long_names_finds_them_again(workspace, make_batch, tmp_path):
    path = bad_file(tmp_path / "salon.csv")
    imports.run_import(make_batch(path))

    again = imports.run_import(make_batch(path))

    assert (again.created_count, again.duplicate_count, again.invalid_count) == (0, 6, 4)
    assert Company.objects.for_workspace(workspace).filter(name=CHINESE_COMPANY).count() == 1


def test_a_nul_byte_past_the_sniffed_start_rejects_its_row_only(workspace, make_batch, tmp_path):
    path, line = nul_file(tmp_path / "salon.csv")

    batch = imports.run_import(make_batch(path))

    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.created_count == line - 2 + 1
    reasons = rejected(batch)
    assert reasons[line] == (
        "invalid",
        "Prénom contient un caractère impossible à enregistrer (caractère nul ou code invalide).",
    )
    assert reasons[line + 1] == ("invalid", "Adresse e-mail invalide : pas-un-email")
    # What the person wrote is kept to be corrected, the NUL shown as a replacement character.
    kept = RejectedRow.objects.for_workspace(workspace).get(batch=batch, line_number=line + 1)
    assert kept.data["Remarque"] == "note\ufffd"
    assert kept.data["Prénom"] == "Éloïse2"
    assert prospects(workspace).filter(first_name="Éloïse3").exists()


def test_a_nul_byte_in_a_very_long_header_is_kept_visible(workspace, make_batch, tmp_path):
    header = ["Prénom", "Nom", "E-mail", "x" * SNIFF_BYTES + NUL]
    path = csv_files.write_csv(
        tmp_path / "salon.csv", [header, ["Éloïse", "Lefèvre", "e@sge.fr", NUL]]
    )

    batch = imports.run_import(make_batch(path))

    assert imports.batch_columns(batch)[3] == "x" * SNIFF_BYTES + "\ufffd"
    assert (batch.status, batch.created_count) == ("done", 1)


# --- The admin: preview and company form ----------------------------------------------------


def page(response) -> str:
    return html.unescape(response.content.decode())


def upload_and_preview(client, path):
    url = reverse("admin:prospects_importbatch_upload")
    response = client.post(url, {"file": SimpleUploadedFile("salon.csv", path.read_bytes())})
    assert response.status_code == 302
    batch = ImportBatch.objects.unscoped().latest("pk")
    return client.get(reverse("admin:prospects_importbatch_preview", args=[batch.pk]))


def test_preview_shows_bad_cells_as_invalid_rows(member_client, workspace, tmp_path):
    preview = upload_and_preview(member_client, bad_file(tmp_path / "salon.csv"))

    assert preview.status_code == 200
    text = page(preview)
    assert 'data-count="new">5<' in text and 'data-count="invalid">4<' in text
    assert "Domaine invalide : [oops" in text and "Domaine invalide : contact﹫acme.fr" in text


def test_preview_of_a_file_with_a_late_nul_byte(member_client, workspace, tmp_path):
    path, _line = nul_file(tmp_path / "salon.csv")

    preview = upload_and_preview(member_client, path)

    assert preview.status_code == 200
    assert 'data-count="invalid">2<' in page(preview)


def test_a_batch_stopped_by_a_bad_cell_resumes_from_the_admin(member_client, workspace, tmp_path):
    upload_and_preview(member_client, bad_file(tmp_path / "salon.csv"))
    batch = ImportBatch.objects.for_workspace(workspace).get()
    # Where such a file used to leave its batch: failed at 0 rows, every resume failing too.
    ImportBatch.objects.for_workspace(workspace).filter(pk=batch.pk).update(
        status=ImportBatch.Status.FAILED, error="L'import s'est arrêté après 0 lignes."
    )

    response = member_client.post(reverse("admin:prospects_importbatch_run", args=[batch.pk]))

    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("done", "")
    assert (batch.created_count, batch.invalid_count, batch.duplicate_count) == (5, 4, 1)


@pytest.mark.parametrize("domain", BAD_WEBSITES)
def test_company_form_refuses_a_bad_domain_in_french(member_client, workspace, domain):
    response = member_client.post(
        reverse("admin:prospects_company_add"), {"name": "Acme", "domain": domain}
    )

    assert response.status_code == 200
    assert f"Domaine invalide : {domain.lower()}" in page(response)
    assert not Company.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize("website", ["https://[broken", "https://contact﹫acme.fr"])
def test_company_form_refuses_a_bad_website_in_french(member_client, workspace, website):
    response = member_client.post(
        reverse("admin:prospects_company_add"), {"name": "Acme", "website": website}
    )

    assert response.status_code == 200
    assert "Saisissez une URL valide." in page(response)
    assert not Company.objects.for_workspace(workspace).exists()


def test_company_form_stores_a_long_chinese_name(member_client, workspace):
    response = member_client.post(reverse("admin:prospects_company_add"), {"name": CHINESE_COMPANY})

    assert response.status_code == 302
    company = Company.objects.for_workspace(workspace).get()
    assert company.name == CHINESE_COMPANY
    assert company.name_key == normalize.company_key("", CHINESE_COMPANY)


def test_prospect_form_stores_a_long_emoji_name(member_client, workspace):
    company = Company.objects.create(workspace=workspace, name=CHINESE_COMPANY)
    response = member_client.post(
        reverse("admin:prospects_prospect_add"),
        {"first_name": EMOJI_NAME, "last_name": EMOJI_NAME, "company": company.pk},
    )

    assert response.status_code == 302
    assert prospects(workspace).get().first_name == EMOJI_NAME


# --- manage.py import_prospects --------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prospects", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_a_file_with_bad_cells(workspace, tmp_path):
    path = bad_file(tmp_path / "salon.csv")

    out, err = run_command(str(path), "--workspace", "acme-lyon")

    assert "Traceback" not in out + err
    assert "Créés : 5, doublons : 1, sur liste d'opposition : 0, invalides : 4." in out
    assert prospects(workspace).count() == 5


def test_command_dry_run_counts_a_file_with_bad_cells(workspace, tmp_path):
    path = bad_file(tmp_path / "salon.csv")

    out, err = run_command(str(path), "--workspace", "acme-lyon", "--dry-run")

    assert "Traceback" not in out + err
    assert "Seraient créés : 5, doublons : 1, sur liste d'opposition : 0, invalides : 4." in out
    assert not prospects(workspace).exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_command_with_a_late_nul_byte_succeeds(workspace, tmp_path, dry_run):
    path, line = nul_file(tmp_path / "salon.csv")

    # No CommandError: manage.py exits with 0.
    out, err = run_command(str(path), "--workspace", "acme-lyon", *["--dry-run"] * dry_run)

    assert "Traceback" not in out + err
    assert "sur liste d'opposition : 0, invalides : 2." in out
    assert prospects(workspace).count() == (0 if dry_run else line - 1)


# --- Keys SQLite stored unbounded before ------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite ever stored a key past its column"
)
def test_the_migration_bounds_the_keys_sqlite_stored(workspace, make_batch, tmp_path):
    migration = importlib.import_module("prospects.migrations.0005_bounded_match_keys")
    company = Company.objects.create(workspace=workspace, name=CHINESE_COMPANY)
    prospect = Prospect.objects.create(
        workspace=workspace, first_name=EMOJI_NAME, last_name=EMOJI_NAME, company=company
    )
    unbounded = normalize.fold(CHINESE_COMPANY)
    Company.objects.for_workspace(workspace).update(name_key=unbounded)
    Prospect.objects.for_workspace(workspace).update(
        name_key=f"{normalize.fold(EMOJI_NAME)} {normalize.fold(EMOJI_NAME)}|{unbounded}"
    )

    # The models as the migration sees them (plain managers, no tenancy guard).
    state = MigrationLoader(connection).project_state(("prospects", "0005_bounded_match_keys"))
    migration.bound_match_keys(state.apps, None)

    company.refresh_from_db()
    prospect.refresh_from_db()
    assert company.name_key == normalize.company_key("", CHINESE_COMPANY)
    assert prospect.name_key == normalize.name_key(EMOJI_NAME, EMOJI_NAME, company.name_key)
    rows = [FRENCH_HEADER, person(0, Prénom=EMOJI_NAME, Nom=EMOJI_NAME, Société=CHINESE_COMPANY)]
    rows[1][FRENCH_HEADER.index("E-mail")] = rows[1][FRENCH_HEADER.index("Site web")] = ""
    again = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))
    assert (again.created_count, again.duplicate_count) == (0, 1)
