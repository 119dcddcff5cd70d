"""Campaign pages and CSV exports: names, exclusions checked again at export time, cells a
spreadsheet cannot run, sequences, and another workspace's campaign is a 404."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Campaign, SequenceStep
from campaigns.services import add_prospects_to_campaign
from prospects.models import Prospect
from prospects.services import suppress_person
from prospects.spreadsheet import FORMULA_START, csv_lines, spreadsheet_safe
from tests.factories import CompanyFactory, ProspectFactory

Status = Prospect.Status
HOSTILE = ['=HYPERLINK("http://evil.example","clic")', "+33 6 12 34 56 78", "-1+cmd", "@SUM(A1)"]


def verified(workspace, **kwargs) -> Prospect:
    return ProspectFactory(
        workspace=workspace, status=Status.VERIFIED, verified_at=timezone.now(), **kwargs
    )


def parse(content: bytes, *, bom: bool = True) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff") is bom
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


@pytest.fixture
def campaign(workspace):
    return Campaign.objects.create(workspace=workspace, name="Salon VivaTech")


@pytest.fixture
def members(campaign, workspace):
    hostile = CompanyFactory(workspace=workspace, name=HOSTILE[0], domain="evil.example")
    people = [
        verified(workspace, first_name="Hélène", last_name="Ménard", email="helene@acme.fr"),
        verified(
            workspace,
            first_name="+Bob",
            last_name="-Martin",
            company=hostile,
            job_title="@admin",
            email="bob@evil.example",
        ),
        verified(workspace, first_name="Zoé", last_name="Opposée", email="zoe@acme.fr"),
        verified(workspace, first_name="Yves", last_name="Changé", email="yves@acme.fr"),
    ]
    assert len(add_prospects_to_campaign(campaign, people).added) == 4
    return people


def test_safe_cell_escapes_every_formula_start():
    for start in FORMULA_START:
        assert spreadsheet_safe(f"{start}1+1").startswith("'")
    assert spreadsheet_safe("Ménard") == "Ménard"


@given(st.lists(st.lists(st.text(max_size=30), min_size=2, max_size=2), max_size=5))
def test_any_cells_parse_back_as_written_and_never_start_a_formula(rows):
    text = "".join(csv_lines(["a", "b"], rows, bom=False))
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
    assert len(parsed) == len(rows)
    for written, read in zip(rows, parsed, strict=True):
        for cell, back in zip(written, read, strict=True):
            assert not back.startswith(FORMULA_START)
            assert back in (cell, "'" + cell)


def test_send_list_leaves_out_who_objected_or_became_unverified_since(
    member_client, campaign, workspace, members
):
    suppress_person(workspace, email="zoe@acme.fr")
    changed = members[3]
    changed.email = "yves.autre@acme.fr"
    changed.save()  # a new address: the verdict no longer stands
    url = reverse("admin:campaigns_campaign_send_list", args=[campaign.pk])
    rows = parse(member_client.get(url).content)
    assert sorted((r["Prénom"], r["Nom"]) for r in rows) == [
        ("'+Bob", "'-Martin"),
        ("Hélène", "Ménard"),
    ]
    bob = next(r for r in rows if r["Nom"] == "'-Martin")
    assert bob["Société"] == "'" + HOSTILE[0]
    assert bob["Fonction"] == "'@admin"
    assert bob["Campagne"] == "Salon VivaTech"
    excluded = parse(
        member_client.get(reverse("admin:campaigns_campaign_excluded", args=[campaign.pk])).content
    )
    reasons = {r["Nom"]: r["Raison de l’exclusion"] for r in excluded}
    assert reasons["Opposée"] == "Sur la liste d'opposition"
    assert "vérifi" in reasons["Changé"]
    page = member_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    body = page.content.decode()
    assert "Zoé Opposée" in body and "Sur la liste d&#x27;opposition" in body
    assert "2 membres peuvent recevoir les envois maintenant." in body


def test_send_list_without_bom_on_request(member_client, campaign, members):
    url = reverse("admin:campaigns_campaign_send_list", args=[campaign.pk])
    assert len(parse(member_client.get(url, {"bom": "0"}).content, bom=False)) == 4


def test_campaign_page_names_its_members(member_client, campaign, members):
    body = member_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "Hélène Ménard" in body
    assert f"{members[0].pk} → {campaign.pk}" not in body


def test_sequence_steps_are_added_inline(member_client, campaign, workspace):
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    prefix = "steps"
    data = {
        "name": campaign.name,
        "description": "",
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-position": "1",
        f"{prefix}-0-kind": "email",
        f"{prefix}-0-delay_days": "0",
        f"{prefix}-0-subject": "Bonjour",
        f"{prefix}-0-body": "…",
        f"{prefix}-1-position": "2",
        f"{prefix}-1-kind": "linkedin",
        f"{prefix}-1-delay_days": "3",
        f"{prefix}-1-subject": "",
        f"{prefix}-1-body": "",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }
    response = member_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    steps = list(SequenceStep.objects.for_workspace(workspace).filter(campaign=campaign))
    assert [(s.kind, s.delay_days, s.workspace_id) for s in steps] == [
        ("email", 0, workspace.pk),
        ("linkedin", 3, workspace.pk),
    ]


@pytest.mark.parametrize("name", ["change", "send_list", "excluded"])
def test_other_workspace_campaign_pages_are_404(member_client, other_workspace, name):
    theirs = Campaign.objects.create(workspace=other_workspace, name="Concurrente")
    url = reverse(f"admin:campaigns_campaign_{name}", args=[theirs.pk])
    assert member_client.get(url).status_code == 404


def test_selection_export_action_escapes_and_leaves_out_objectors(
    member_client, workspace, other_workspace
):
    hostile = verified(workspace, first_name=HOSTILE[0], last_name="Dupont", email="d@acme.fr")
    kept = verified(workspace, first_name="Anaïs", last_name="Lefèvre", email="a@acme.fr")
    objector = verified(workspace, first_name="Marc", last_name="Refus", email="m@acme.fr")
    foreign = verified(other_workspace, first_name="Autre", last_name="Espace")
    suppress_person(workspace, email="m@acme.fr")
    response = member_client.post(
        reverse("admin:prospects_prospect_changelist"),
        {
            "action": "export_csv_excel",
            ACTION_CHECKBOX_NAME: [hostile.pk, kept.pk, objector.pk, foreign.pk],
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = parse(b"".join(response.streaming_content))
    assert sorted(r["Nom"] for r in rows) == ["Dupont", "Lefèvre"]
    assert {r["Prénom"] for r in rows} == {"'" + HOSTILE[0], "Anaïs"}
    follow = member_client.get(reverse("admin:prospects_prospect_changelist"))
    assert "liste d’opposition" in follow.content.decode()


def test_prospect_list_filters_by_campaign(member_client, campaign, members, workspace):
    outsider = verified(workspace, first_name="Hors", last_name="Outsiderovitch")
    page = member_client.get(
        reverse("admin:prospects_prospect_changelist"), {"campaign": campaign.pk}
    ).content.decode()
    assert "Ménard" in page and outsider.last_name not in page
    theirs = Campaign.objects.create(workspace=other_ws(workspace), name="Autre")
    page = member_client.get(
        reverse("admin:prospects_prospect_changelist"), {"campaign": theirs.pk}
    ).content.decode()
    assert "Ménard" not in page


def other_ws(workspace):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory(name="Ailleurs", slug="ailleurs")
