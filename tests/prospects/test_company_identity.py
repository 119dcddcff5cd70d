"""One company per workspace per identity: SIREN, else domain, else normalised name."""

import html

import pytest
from django.urls import reverse

from prospects import company_merge, imports, services
from prospects.models import Company, FieldProvenance, Prospect, Source, Workspace
from tests.factories import CompanyFactory, ProspectFactory
from tests.fixtures import csv_files


def companies(workspace):
    return Company.objects.for_workspace(workspace)


def test_a_bare_company_then_its_domain_is_one_company(workspace):
    bare = services.get_or_create_company(workspace, {"name": "Acme Conseil"})
    found = services.get_or_create_company(
        workspace, {"name": "ACME conseil", "domain": "acme-conseil.example"}
    )

    assert found.pk == bare.pk
    assert companies(workspace).get().domain == "acme-conseil.example"


def test_a_name_alone_finds_the_company_known_by_its_domain(workspace):
    known = CompanyFactory(workspace=workspace, name="Acme Conseil", domain="acme.example")

    assert services.get_or_create_company(workspace, {"name": "Acme  Conseil"}).pk == known.pk
    assert companies(workspace).count() == 1


def test_the_same_name_in_another_workspace_is_another_company(workspace, other_workspace):
    theirs = CompanyFactory(workspace=other_workspace, name="Acme Conseil", domain="")

    mine = services.get_or_create_company(workspace, {"name": "Acme Conseil"})

    assert mine.pk != theirs.pk and mine.workspace_id == workspace.pk


def test_import_attaches_a_named_company_to_the_one_enrichment_filled(
    workspace, make_batch, tmp_path
):
    known = CompanyFactory(workspace=workspace, name="Fables Conseil", domain="fables.example")
    ProspectFactory(
        workspace=workspace, first_name="Jean-Pierre", last_name="de La Fontaine", company=known
    )
    rows = [
        ["Prénom", "Nom", "Société", "Fonction"],
        ["Jean-Pierre", "de La Fontaine", "Fables Conseil", "Président"],
        ["Éloïse", "Lefèvre", "FABLES conseil", "DAF"],
    ]
    batch = imports.run_import(
        make_batch(csv_files.write_csv(tmp_path / "salon.csv", rows, delimiter=";"))
    )

    assert companies(workspace).count() == 1
    # The person already there (recognised at the company, whichever way it is named) is a
    # duplicate; the new one joins the existing company.
    assert (batch.created_count, batch.duplicate_count) == (1, 1)
    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")
    assert eloise.company_id == known.pk
    assert eloise.name_key == "eloise lefevre|fables.example"


def test_import_gives_a_bare_company_the_domain_a_row_brings(workspace, make_batch, tmp_path):
    bare = CompanyFactory(workspace=workspace, name="Fables Conseil", domain="")
    rows = [
        ["Prénom", "Nom", "Société", "Site web"],
        ["Éloïse", "Lefèvre", "Fables Conseil", "https://www.fables.example"],
    ]
    imports.run_import(make_batch(csv_files.write_csv(tmp_path / "f.csv", rows, delimiter=";")))

    bare.refresh_from_db()
    assert companies(workspace).count() == 1
    assert bare.domain == "fables.example"
    row = FieldProvenance.objects.for_workspace(workspace).get(company=bare, field="domain")
    assert (row.source, row.confidence, row.detail) == ("import", 100, "f.csv, ligne 2")


def _prospect_at(company, last_name, **extra):
    return ProspectFactory(
        workspace=company.workspace, company=company, last_name=last_name, **extra
    )


def test_merge_keeps_every_prospect_and_provenance_row(workspace):
    filled = CompanyFactory(
        workspace=workspace, name="Acme Conseil", domain="acme.example", industry=""
    )
    bare = CompanyFactory(workspace=workspace, name="ACME Conseil", domain="", industry="Conseil")
    other = CompanyFactory(workspace=workspace, name="Autre", domain="autre.example")
    services.record_initial_provenance(bare, source=Source.IMPORT, fields=("name", "industry"))
    services.record_initial_provenance(filled, source=Source.IMPORT, fields=("name",))
    moved = _prospect_at(bare, "Lefèvre")
    stayed = _prospect_at(filled, "Martin")

    merged = company_merge.merge_duplicate_companies(
        Company, Prospect, FieldProvenance, workspace_model=Workspace
    )

    assert merged == 1
    assert set(companies(workspace)) == {filled, other}
    moved.refresh_from_db()
    stayed.refresh_from_db()
    assert moved.company_id == stayed.company_id == filled.pk
    assert moved.name_key.endswith("|acme.example")
    filled.refresh_from_db()
    assert filled.industry == "Conseil"  # an empty field filled from the other one
    rows = FieldProvenance.objects.for_workspace(workspace).filter(company=filled)
    assert {(r.field, r.value, r.is_current) for r in rows} == {
        ("name", "Acme Conseil", True),
        ("name", "ACME Conseil", False),
        ("industry", "Conseil", True),
    }
    # Idempotent: nothing left to merge.
    assert (
        company_merge.merge_duplicate_companies(
            Company, Prospect, FieldProvenance, workspace_model=Workspace
        )
        == 0
    )


def test_merge_joins_the_same_siren_and_leaves_ambiguous_names_alone(workspace, other_workspace):
    a = CompanyFactory(workspace=workspace, name="Total", domain="total.example", siren="")
    b = CompanyFactory(workspace=workspace, name="Total", domain="total-fr.example")
    bare = CompanyFactory(workspace=workspace, name="Total", domain="")
    legal = CompanyFactory(workspace=workspace, name="SGE", domain="sge.example", siren="732829320")
    same = CompanyFactory(
        workspace=workspace, name="Société Générale", domain="", siren="732829320"
    )
    theirs = CompanyFactory(workspace=other_workspace, name="Total", domain="")

    company_merge.merge_duplicate_companies(
        Company, Prospect, FieldProvenance, workspace_model=Workspace
    )

    # Two companies of that name with different domains: which one the bare one is, nobody
    # knows; and another workspace's company is never touched.
    assert set(companies(workspace)) == {a, b, bare, legal}
    assert not companies(workspace).filter(pk=same.pk).exists()
    assert companies(other_workspace).get() == theirs


def test_merge_groups_are_what_the_rule_says():
    class C:
        def __init__(self, pk, name_key, domain="", siren=""):
            self.pk, self.name_key, self.domain, self.siren = pk, name_key, domain, siren

    rows = [C(1, "acme", "acme.fr"), C(2, "acme"), C(3, "acme"), C(4, "beta"), C(5, "x", "", "1")]
    rows.append(C(6, "y", "y.fr", "1"))
    groups = company_merge.duplicate_groups(rows)

    assert sorted(sorted(c.pk for c in g) for g in groups) == [[1, 2, 3], [5, 6]]


def test_adding_a_company_whose_domain_exists_is_a_form_error(member_client, workspace):
    CompanyFactory(workspace=workspace, name="SGE", domain="sge.fr")

    response = member_client.post(
        reverse("admin:prospects_company_add"),
        {"name": "Société Générale d'Équipement", "domain": "https://www.SGE.fr/contact"},
    )

    assert response.status_code == 200
    assert "Une société avec ce domaine existe déjà." in html.unescape(response.content.decode())
    assert companies(workspace).count() == 1


def test_the_same_domain_in_another_workspace_may_be_added(
    member_client, workspace, other_workspace
):
    CompanyFactory(workspace=other_workspace, name="SGE", domain="sge.fr")

    response = member_client.post(
        reverse("admin:prospects_company_add"), {"name": "SGE", "domain": "sge.fr"}
    )

    assert response.status_code == 302
    assert companies(workspace).get().domain == "sge.fr"


@pytest.mark.parametrize(
    ("existing", "typed", "message"),
    [
        (
            {"name": "Boréal Industries", "siren": "332426964", "domain": ""},
            {"name": "Boréal SA", "siren": "332426964"},
            "Une société avec ce SIREN existe déjà.",
        ),
        (
            {"name": "Acme", "domain": ""},
            {"name": " ACME "},
            "Une société de ce nom existe déjà : ouvrez-la",
        ),
        (
            {"name": "Acme", "domain": "acme.fr"},
            {"name": "acme"},
            "Une société de ce nom existe déjà : ouvrez-la",
        ),
        (
            {"name": "Acme", "domain": ""},
            {"name": "Acme", "domain": "acme.fr"},
            "Une société de ce nom, sans domaine ni SIREN, existe déjà",
        ),
    ],
)
def test_adding_a_company_the_workspace_has_is_a_form_error(
    member_client, workspace, existing, typed, message
):
    # The merge would join them, and imports and enrichment only ever use one of them.
    CompanyFactory(workspace=workspace, **existing)

    response = member_client.post(reverse("admin:prospects_company_add"), typed)

    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert companies(workspace).count() == 1


def test_another_company_of_the_same_name_may_be_added_with_its_own_domain(
    member_client, workspace, other_workspace
):
    CompanyFactory(workspace=workspace, name="Dupont", domain="dupont-lyon.fr")
    CompanyFactory(workspace=other_workspace, name="Dupont", domain="", siren="332426964")
    url = reverse("admin:prospects_company_add")

    paris = {"name": "Dupont", "domain": "dupont-paris.fr"}
    assert member_client.post(url, paris).status_code == 302
    assert member_client.post(url, {"name": "Durand", "siren": "332426964"}).status_code == 302
    company = companies(workspace).get(domain="dupont-paris.fr")
    edit = {**paris, "siren": "", "website": ""}
    change = reverse("admin:prospects_company_change", args=[company.pk])
    response = member_client.post(change, edit)
    assert response.status_code == 302  # the company itself is not a duplicate of itself


def test_a_siren_typed_with_spaces_is_read_as_its_digits(member_client, workspace):
    response = member_client.post(
        reverse("admin:prospects_company_add"),
        {"name": "Espaces SA", "siren": "332 426 964", "siret": "332 426 964 00018"},
    )
    assert response.status_code == 302, html.unescape(response.content.decode())[:2000]
    company = companies(workspace).get(name="Espaces SA")
    assert (company.siren, company.siret) == ("332426964", "33242696400018")
    wrong = member_client.post(
        reverse("admin:prospects_company_add"), {"name": "Faux", "siren": "332 426 965"}
    )
    assert "SIREN invalide" in html.unescape(wrong.content.decode())


def test_deleting_a_company_deletes_its_provenance(workspace):
    """The database does not tie provenance rows to their company (no check per row on
    write): deleting the company through the ORM takes its rows with it, and no others."""
    gone = services.get_or_create_company(workspace, {"name": "Acme", "domain": "acme.example"})
    kept = services.get_or_create_company(workspace, {"name": "Fables", "domain": "fables.example"})
    services.record_initial_provenance(gone, source=Source.IMPORT, fields=("name", "domain"))
    services.record_initial_provenance(kept, source=Source.IMPORT, fields=("name",))
    assert FieldProvenance.objects.for_workspace(workspace).filter(company=gone).exists()

    gone.delete()

    rows = FieldProvenance.objects.for_workspace(workspace)
    assert not rows.filter(company_id=gone.pk).exists()
    assert rows.filter(company=kept).exists()


def test_two_homonyms_a_merge_brings_together_can_both_still_be_saved_and_edited(
    workspace, member_client
):
    # Two "Jean Dupont" of one company known twice (a bare one from a file, one with its
    # domain): Dropcontact's domain merges the companies, and both people stay.
    filled = CompanyFactory(workspace=workspace, name="Acme", domain="acme.example")
    bare = CompanyFactory(workspace=workspace, name="ACME SAS", domain="")
    first = _prospect_at(filled, "Dupont", first_name="Jean", email="")
    second = _prospect_at(bare, "Dupont", first_name="Jean", email="", job_title="Achats")
    services.merge_companies(filled, [bare])

    for prospect in (first, second):
        prospect = Prospect.objects.for_workspace(workspace).get(pk=prospect.pk)
        assert prospect.company_id == filled.pk
        prospect.job_title = "Directeur"
        prospect.save()  # was an IntegrityError on the name key for the second
    # The admin edits the second one too: only a change of name or company that makes the
    # person someone already stored is a duplicate.
    response = member_client.post(
        reverse("admin:prospects_prospect_change", args=[second.pk]),
        {"first_name": "Jean", "last_name": "Dupont", "company": filled.pk,
         "job_title": "Directeur des achats", "email": "", "phone": "", "linkedin_url": ""},
    )
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    second.refresh_from_db()
    assert second.job_title == "Directeur des achats"
    # Renaming a third person into a Jean Dupont of that company is still refused.
    third = _prospect_at(filled, "Durand", first_name="Paul", email="")
    response = member_client.post(
        reverse("admin:prospects_prospect_change", args=[third.pk]),
        {"first_name": "Jean", "last_name": "Dupont", "company": filled.pk,
         "job_title": "", "email": "", "phone": "", "linkedin_url": ""},
    )
    assert response.status_code == 200
    assert "existe déjà" in html.unescape(response.content.decode())


def test_a_bare_company_that_learns_its_domain_still_knows_its_people(workspace):
    """"Jean Dupont, ACME" (no domain) then "Jean Dupont, Acme, acme.example": the second row
    identifies the bare company, which takes the domain, and its Jean Dupont is the same
    person: a duplicate, not a second one."""
    bare = CompanyFactory(workspace=workspace, name="ACME", domain="")
    first = _prospect_at(bare, "Dupont", first_name="Jean", email="")
    with pytest.raises(services.ProspectRejected):
        services.create_prospect(
            workspace,
            data={"first_name": "Jean", "last_name": "Dupont", "company_name": "Acme",
                  "company_domain": "acme.example"},
        )
    bare.refresh_from_db()
    assert bare.domain == ""  # refused: nothing stored changed
    assert Prospect.objects.for_workspace(workspace).count() == 1
    # Taking the domain (Paul Durand's row brings it), the company's people follow.
    services.create_prospect(
        workspace,
        data={"first_name": "Paul", "last_name": "Durand", "company_name": "Acme",
              "company_domain": "acme.example"},
    )
    bare.refresh_from_db()
    first.refresh_from_db()
    assert bare.domain == "acme.example"
    assert first.name_key.endswith("|acme.example")
