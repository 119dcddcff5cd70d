"""The current workspace is named on every page, and on every page that writes into it."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prospects.models import ImportBatch, Prospect
from tests.factories import ProspectFactory
from tests.fixtures import csv_files


def readable(response) -> str:
    """The page as a person reads it: entities decoded, tags and runs of spaces dropped."""
    page = html.unescape(response.content.decode())
    for tag in ("<strong>", "</strong>"):
        page = page.replace(tag, "")
    return " ".join(page.split())


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:prospects_prospect_changelist",
        "admin:prospects_company_changelist",
        "admin:prospects_importbatch_changelist",
        "admin:campaigns_campaign_changelist",
        "enrichment:progress",
        "enrichment:jobs",
        "invitations",
        "choose-workspace",
    ],
)
def test_every_page_names_the_current_workspace(member_client, url_name):
    assert "Espace de travail : Acme Lyon" in readable(member_client.get(reverse(url_name)))


def test_import_pages_say_where_the_rows_go(member_client, workspace, tmp_path, media_root):
    upload = member_client.get(reverse("admin:prospects_importbatch_upload"))
    assert 'id="workspace-target"' in upload.content.decode()
    assert "Importer dans : Acme Lyon" in readable(upload)
    path = csv_files.excel_semicolon_cp1252(tmp_path / "salon.csv")
    member_client.post(
        reverse("admin:prospects_importbatch_upload"),
        {"file": SimpleUploadedFile("salon.csv", path.read_bytes())},
    )
    batch = ImportBatch.objects.for_workspace(workspace).get()
    for step in ("mapping", "preview"):
        page = member_client.get(reverse(f"admin:prospects_importbatch_{step}", args=[batch.pk]))
        assert "Importer dans : Acme Lyon" in readable(page), step
    member_client.post(reverse("admin:prospects_importbatch_run", args=[batch.pk]))
    done = member_client.get(reverse("admin:prospects_importbatch_change", args=[batch.pk]))
    assert "Importé dans : Acme Lyon" in readable(done)


def test_add_to_campaign_confirmation_names_the_workspace(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED)
    page = member_client.post(
        reverse("admin:prospects_prospect_changelist"),
        {"action": "add_to_campaign", "_selected_action": [str(prospect.pk)]},
    )
    assert "Ajouter à une campagne de : Acme Lyon" in readable(page)


def test_reenrich_confirmation_names_the_workspace(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Prospect.Status.NOT_VERIFIED)
    page = member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk]))
    assert "Enrichir de nouveau ce prospect de « Acme Lyon » avec Dropcontact" in readable(page)


def test_a_member_of_several_workspaces_without_a_choice_is_told_in_the_header(
    member, member_client, other_workspace
):
    from tests.factories import MembershipFactory

    MembershipFactory(user=member, workspace=other_workspace)
    page = readable(member_client.get(reverse("choose-workspace")))
    assert "Aucun espace de travail choisi" in page
