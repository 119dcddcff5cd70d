"""The derived fields through the real write paths: admin, create_prospect, the import, the
backfill command; and shown, filtered and scoped to the workspace."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from prospects import imports, normalizers, services
from prospects.models import Company, Prospect
from prospects.taxonomy import Department, Industry, Seniority
from tests.factories import CompanyFactory, ProspectFactory
from tests.fixtures import csv_files


def test_choices_are_the_normalisers_codes():
    assert tuple(Seniority.values) == normalizers.SENIORITIES
    assert tuple(Department.values) == normalizers.DEPARTMENTS
    assert tuple(Industry.values) == normalizers.INDUSTRIES


def test_admin_add_derives_seniority_and_department_and_shows_them(member_client, workspace):
    response = member_client.post(
        reverse("admin:prospects_prospect_add"),
        {
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "email": "eloise@mienne.example",
            "job_title": "Directrice des ressources humaines",
        },
    )
    assert response.status_code == 302
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (prospect.seniority, prospect.department) == ("director", "hr")
    page = member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk]))
    content = page.content.decode()
    assert "Directeur / directrice" in content
    assert "Ressources humaines" in content
    # Read-only: the form has no input for them.
    assert 'name="seniority"' not in content and 'name="department"' not in content
    # The typed job title and the derived department are two labels, not "Fonction" twice.
    assert content.count(">Fonction\xa0:</label>") == 1
    assert ">Service\xa0:</label>" in content


def test_admin_change_of_title_derives_again(member_client, workspace):
    prospect = services.create_prospect(
        workspace, data={"email": "paul@mienne.example", "job_title": "Stagiaire"}
    )
    assert prospect.seniority == "intern"
    member_client.post(
        reverse("admin:prospects_prospect_change", args=[prospect.pk]),
        {"email": "paul@mienne.example", "job_title": "Head of Sales"},
    )
    prospect.refresh_from_db()
    assert (prospect.job_title, prospect.seniority, prospect.department) == (
        "Head of Sales",
        "head",
        "sales",
    )


def test_prospect_list_filters_by_seniority_and_department(member_client, workspace):
    for email, title in [("a@x.example", "DRH"), ("b@x.example", "CTO"), ("c@x.example", "DAF")]:
        services.create_prospect(workspace, data={"email": email, "job_title": title})
    url = reverse("admin:prospects_prospect_changelist")
    content = member_client.get(url, {"seniority": "director"}).content.decode()
    assert "a@x.example" in content and "c@x.example" in content
    assert "b@x.example" not in content
    content = member_client.get(url, {"department": "it"}).content.decode()
    assert "b@x.example" in content and "a@x.example" not in content
    # The filter panel names the choices in French.
    assert "Informatique et technique" in content


def test_admin_company_gets_its_industry_code_and_legal_form(member_client, workspace):
    response = member_client.post(
        reverse("admin:prospects_company_add"),
        {"name": "Dupont Informatique SAS", "industry": "Programmation informatique"},
    )
    assert response.status_code == 302
    company = Company.objects.for_workspace(workspace).get()
    assert company.name == "Dupont Informatique SAS"  # what a person typed stays as typed
    assert (company.industry_code, company.legal_form) == ("software", "SAS")
    page = member_client.get(reverse("admin:prospects_company_change", args=[company.pk]))
    assert "Édition de logiciels" in page.content.decode()
    listed = member_client.get(
        reverse("admin:prospects_company_changelist"), {"legal_form": "SAS"}
    ).content.decode()
    assert "Dupont Informatique SAS" in listed


def test_create_prospect_derives_prospect_and_company_fields(workspace):
    prospect = services.create_prospect(
        workspace,
        data={
            "first_name": "Jean",
            "last_name": "Martin",
            "job_title": "Ingénieur commercial",
            "company_name": "Martin Frères SARL",
        },
    )
    stored = Prospect.objects.for_workspace(workspace).select_related("company").get()
    assert (stored.seniority, stored.department) == ("entry", "sales")
    assert stored.company.legal_form == "SARL"
    assert prospect.seniority == "entry"  # the caller's instance too


def test_import_derives_the_fields_of_every_row(workspace, make_batch, tmp_path):
    rows = [
        csv_files.FRENCH_HEADER,
        *csv_files.PEOPLE,
        ["Luc", "Dupont", "luc@dupont.example", "Dupont SAS", "PDG", "", "", ""],
    ]
    batch = imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows)))
    assert batch.created_count == 4
    prospects = Prospect.objects.for_workspace(workspace).select_related("company")
    derived = {p.last_name: (p.seniority, p.department) for p in prospects}
    assert derived == {
        "Lefèvre": ("director", "purchasing"),  # Directrice des achats
        "de La Fontaine": ("c_level", "executive"),  # Président
        "N'Diaye": ("manager", "operations"),  # Responsable logistique
        "Dupont": ("c_level", "executive"),
    }
    forms = dict(Company.objects.for_workspace(workspace).values_list("name", "legal_form"))
    assert forms["Dupont SAS"] == "SAS"
    assert forms["Fables Conseil"] == ""


def test_normalizers_touch_only_their_own_workspace(workspace, other_workspace):
    theirs = ProspectFactory(workspace=other_workspace, job_title="CEO")
    count = services.apply_normalizers(
        workspace.pk, prospects=[theirs.pk], companies=[theirs.company_id]
    )
    assert (count.prospects, count.companies) == (0, 0)
    theirs.refresh_from_db()
    assert theirs.seniority == ""


def test_command_fills_existing_rows_in_batches_and_a_rerun_writes_nothing(
    workspace, other_workspace, capsys
):
    # Rows written before the fields existed (factories skip the services).
    company = CompanyFactory(workspace=workspace, name="Acme GmbH", industry="Financial Services")
    for i, title in enumerate(["CFO", "VP Marketing", "Stagiaire", "Juriste", ""]):
        ProspectFactory(workspace=workspace, company=company, job_title=title, email=f"{i}@a.ex")
    elsewhere = ProspectFactory(workspace=other_workspace, job_title="CEO")

    call_command("normalize_records", "--workspace", workspace.slug, "--batch-size", "2")
    out = capsys.readouterr().out
    assert "Prospects : 5 lus, 4 mis à jour ; sociétés : 1 lues, 1 mises à jour." in out
    titles = Prospect.objects.for_workspace(workspace).values_list(
        "job_title", "seniority", "department"
    )
    assert sorted(titles) == [
        ("", "", ""),
        ("CFO", "c_level", "finance"),
        ("Juriste", "entry", "legal"),
        ("Stagiaire", "intern", ""),
        ("VP Marketing", "vp", "marketing"),
    ]
    company.refresh_from_db()
    assert (company.industry_code, company.legal_form) == ("finance_insurance", "GmbH")
    elsewhere.refresh_from_db()
    assert elsewhere.seniority == ""  # another workspace was not asked for

    call_command("normalize_records", "--workspace", workspace.slug)
    assert "4 mis à jour" not in capsys.readouterr().out

    # A title changed behind the services' back is put right by the next run.
    Prospect.objects.for_workspace(workspace).filter(job_title="Juriste").update(job_title="DAF")
    call_command("normalize_records")
    out = capsys.readouterr().out
    assert "Prospects : 6 lus, 2 mis à jour" in out  # the DAF, and the other workspace's CEO
    assert Prospect.objects.for_workspace(workspace).get(job_title="DAF").department == "finance"


def test_command_refuses_an_unknown_workspace(db):
    with pytest.raises(CommandError, match="nope"):
        call_command("normalize_records", "--workspace", "nope")


def test_import_reads_each_company_for_its_derived_fields_once(workspace, make_batch, tmp_path):
    """A company that an earlier chunk normalised is not read again by the later ones; one
    first named in a later chunk is, and gets its fields."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prospects.imports.classify import CHUNK_SIZE

    header = ["Prénom", "Nom", "E-mail", "Société"]
    rows = [
        [f"Luc{i}", f"Dupont{i}", f"luc{i}@dupont.example", "Dupont SAS"]
        for i in range(2 * CHUNK_SIZE + 10)
    ]
    rows[CHUNK_SIZE + 5][3] = "Martin SARL"  # chunk 2 names a new company; chunk 3 does not
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", [header, *rows]))
    with CaptureQueriesContext(connection) as queries:
        batch = imports.run_import(batch)

    assert batch.created_count == len(rows)
    forms = dict(Company.objects.for_workspace(workspace).values_list("name", "legal_form"))
    assert forms == {"Dupont SAS": "SAS", "Martin SARL": "SARL"}
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT t."id", t."industry"')]
    assert len(reads) == 2  # chunk 1 (Dupont), chunk 2 (Martin only); chunk 3 none
