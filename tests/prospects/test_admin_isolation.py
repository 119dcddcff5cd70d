"""A member sees and edits only their workspace in the admin, whichever door they try."""

import json

import pytest
from django.urls import reverse

from prospects.models import Prospect
from tests.factories import CompanyFactory, MembershipFactory, ProspectFactory


@pytest.fixture
def two_sides(workspace, other_workspace):
    mine = ProspectFactory(workspace=workspace, last_name="Lefèvre", company__name="Mienne SA")
    theirs = ProspectFactory(
        workspace=other_workspace, last_name="Étranger", company__name="Autre SARL"
    )
    return mine, theirs


def test_changelist_lists_only_own_workspace(member_client, two_sides):
    _mine, _theirs = two_sides
    html = member_client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert "Lefèvre" in html
    assert "Étranger" not in html


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_workspace_object_gets_404(member_client, two_sides, view):
    _mine, theirs = two_sides
    url = reverse(f"admin:prospects_prospect_{view}", args=[theirs.pk])
    response = member_client.get(url)
    # The admin redirects a missing object to the index with a message; both must look alike.
    missing = member_client.get(reverse(f"admin:prospects_prospect_{view}", args=[999999]))
    assert response.status_code == missing.status_code
    assert response.status_code in (302, 404)
    assert "Étranger" not in response.content.decode()


def test_other_workspace_object_cannot_be_changed_by_post(member_client, two_sides):
    _mine, theirs = two_sides
    url = reverse("admin:prospects_prospect_change", args=[theirs.pk])
    member_client.post(url, {"first_name": "Pirate", "last_name": "X", "email": "p@x.example"})
    theirs.refresh_from_db()
    assert theirs.first_name != "Pirate"


def test_company_autocomplete_offers_only_own_companies(member_client, two_sides):
    response = member_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "prospects",
            "model_name": "prospect",
            "field_name": "company",
            "term": "",
        },
    )
    assert response.status_code == 200
    names = [row["text"] for row in json.loads(response.content)["results"]]
    assert "Mienne SA" in names
    assert "Autre SARL" not in names


def test_add_form_company_choices_and_foreign_key_post_are_scoped(
    member_client, workspace, other_workspace
):
    foreign = CompanyFactory(workspace=other_workspace, name="Autre SARL")
    response = member_client.post(
        reverse("admin:prospects_prospect_add"),
        {
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "email": "eloise@mienne.example",
            "company": foreign.pk,
        },
    )
    assert response.status_code == 200  # the form is shown again with an error
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_member_adds_prospect_in_current_workspace(member_client, workspace):
    response = member_client.post(
        reverse("admin:prospects_prospect_add"),
        {"first_name": "Éloïse", "last_name": "Lefèvre", "email": "Eloise@Mienne.example"},
    )
    assert response.status_code == 302
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert prospect.email == "eloise@mienne.example"
    assert prospect.source == "manual"


def test_switching_to_a_workspace_one_does_not_belong_to_is_refused(
    member_client, other_workspace, two_sides
):
    member_client.post(reverse("switch-workspace"), {"workspace": other_workspace.pk})
    html = member_client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert "Étranger" not in html


def test_member_of_two_workspaces_switches_between_them(member, member_client, other_workspace):
    MembershipFactory(user=member, workspace=other_workspace)
    ProspectFactory(workspace=other_workspace, last_name="Étranger")
    member_client.post(reverse("switch-workspace"), {"workspace": other_workspace.pk})
    html = member_client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert "Étranger" in html


def test_superuser_sees_every_workspace(client, django_user_model, two_sides):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    html = client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert "Lefèvre" in html and "Étranger" in html


def test_admin_pages_are_in_french(member_client):
    html = member_client.get(reverse("admin:index")).content.decode()
    assert "Prospects" in html
    assert "Espace de travail" in html
    assert "Déconnexion" in html


def test_prospect_list_links_to_the_csv_import(member_client):
    html = member_client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert reverse("admin:prospects_importbatch_upload") in html
    assert "Importer un fichier CSV" in html


def test_workspace_admin_cannot_edit_a_workspace_where_they_are_only_a_member(
    admin_client_ws, admin_user, other_workspace
):
    MembershipFactory(user=admin_user, workspace=other_workspace, role="member")
    url = reverse("admin:prospects_workspace_change", args=[other_workspace.pk])
    admin_client_ws.post(url, {"name": "Pwned", "slug": other_workspace.slug, "timezone": "UTC"})
    other_workspace.refresh_from_db()
    assert other_workspace.name != "Pwned"


def test_plain_member_cannot_lift_an_objection(member_client, workspace):
    from prospects.services import suppress_person

    (entry,) = suppress_person(workspace, email="eloise@acme.example")
    url = reverse("admin:prospects_suppressionentry_delete", args=[entry.pk])
    member_client.post(url, {"post": "yes"})
    assert entry.__class__.objects.for_workspace(workspace).filter(pk=entry.pk).exists()


def test_superuser_cannot_attach_another_workspaces_company(
    client, django_user_model, workspace, other_workspace
):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    foreign = CompanyFactory(workspace=other_workspace, name="Autre SARL")
    response = client.post(
        reverse("admin:prospects_prospect_add"),
        {
            "workspace": workspace.pk,
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "email": "eloise@acme.example",
            "company": foreign.pk,
        },
    )
    assert response.status_code == 200
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_company_typed_in_the_admin_is_recorded_as_manual(member_client, workspace):
    from prospects.models import Company, FieldProvenance

    member_client.post(
        reverse("admin:prospects_company_add"),
        {"name": "Société Générale d'Équipement", "domain": "sge.fr", "headcount": "120"},
    )
    company = Company.objects.for_workspace(workspace).get()
    fields = set(
        FieldProvenance.objects.for_workspace(workspace)
        .filter(company=company, source="manual", is_current=True)
        .values_list("field", flat=True)
    )
    assert {"name", "domain", "headcount"} <= fields
