"""Only verified, reachable prospects ever enter a campaign; everyone else is explained."""

import html

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignMember
from campaigns.services import add_prospects_to_campaign, exclusion_reason
from prospects.models import Prospect
from prospects.services import suppress_person
from tests.factories import ProspectFactory

Status = Prospect.Status
CHANGELIST = reverse("admin:prospects_prospect_changelist")


def verified(workspace, **kwargs) -> Prospect:
    return ProspectFactory(
        workspace=workspace, status=Status.VERIFIED, verified_at=timezone.now(), **kwargs
    )


@pytest.fixture
def campaign(workspace):
    return Campaign.objects.create(workspace=workspace, name="Salon VivaTech")


def members_of(campaign) -> set[int]:
    return set(
        CampaignMember.objects.for_workspace(campaign.workspace_id)
        .filter(campaign=campaign)
        .values_list("prospect_id", flat=True)
    )


# --- The service -------------------------------------------------------------------------


def test_verified_prospect_is_added(campaign, workspace, member):
    prospect = verified(workspace)
    result = add_prospects_to_campaign(campaign, [prospect.pk], user=member)
    assert result.added == [prospect]
    assert result.excluded == []
    member_row = CampaignMember.objects.for_workspace(workspace).get()
    assert (member_row.prospect, member_row.added_by) == (prospect, member)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Status.NEW, "Pas encore enrichi"),
        (Status.ENRICHING, "Enrichissement en cours"),
        (Status.NOT_VERIFIED, "Adresse e-mail non vérifiée"),
        (Status.NEEDS_REVIEW, "En attente de revue"),
    ],
)
def test_every_unverified_status_is_excluded_with_its_french_reason(
    campaign, workspace, status, reason
):
    prospect = ProspectFactory(workspace=workspace, status=status, last_name="Dupont")
    result = add_prospects_to_campaign(campaign, [prospect])
    assert result.added == []
    assert result.excluded == [(prospect, reason)]
    assert members_of(campaign) == set()


def test_verified_prospect_on_the_objection_list_is_excluded(campaign, workspace):
    prospect = verified(workspace, email="refus@societe.example")
    suppress_person(workspace, email="refus@societe.example")
    result = add_prospects_to_campaign(campaign, [prospect])
    assert result.excluded == [(prospect, "Sur la liste d'opposition")]
    assert members_of(campaign) == set()


def test_objection_by_phone_also_excludes(campaign, workspace):
    prospect = verified(workspace, phone="+33612345678")
    suppress_person(workspace, phone="+33612345678")
    assert exclusion_reason(prospect) == "Sur la liste d'opposition"


@pytest.mark.parametrize("status", [Status.VERIFIED, Status.NOT_VERIFIED])
def test_prospect_without_email_is_excluded(campaign, workspace, status):
    prospect = ProspectFactory(workspace=workspace, status=status, email="")
    result = add_prospects_to_campaign(campaign, [prospect.pk])
    assert result.excluded == [(prospect, "Aucune adresse e-mail")]


def test_mixed_selection_adds_the_verified_and_explains_each_other(campaign, workspace):
    ok = [verified(workspace) for _ in range(3)]
    unverified = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    review = ProspectFactory(workspace=workspace, status=Status.NEEDS_REVIEW)
    result = add_prospects_to_campaign(campaign, [*ok, unverified, review])
    assert result.added == ok
    assert result.excluded == [
        (unverified, "Adresse e-mail non vérifiée"),
        (review, "En attente de revue"),
    ]
    assert members_of(campaign) == {p.pk for p in ok}


def test_adding_twice_reports_the_prospect_as_already_there(campaign, workspace):
    prospect = verified(workspace)
    add_prospects_to_campaign(campaign, [prospect])
    again = add_prospects_to_campaign(campaign, [prospect, prospect.pk])
    assert (again.added, again.already, again.excluded) == ([], [prospect], [])
    assert CampaignMember.objects.for_workspace(workspace).count() == 1


def test_other_workspace_prospect_ids_are_ignored(campaign, other_workspace):
    foreign = verified(other_workspace)
    result = add_prospects_to_campaign(campaign, [foreign.pk])
    assert (result.added, result.already, result.excluded) == ([], [], [])
    assert not CampaignMember.objects.unscoped().exists()


# --- The model-level guard ----------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.NEW, Status.NOT_VERIFIED, Status.NEEDS_REVIEW])
def test_member_save_refuses_an_unverified_prospect(campaign, workspace, status):
    prospect = ProspectFactory(workspace=workspace, status=status)
    with pytest.raises(ValidationError) as refused:
        CampaignMember(workspace=workspace, campaign=campaign, prospect=prospect).save()
    assert refused.value.messages == [str(exclusion_reason(prospect))]
    assert members_of(campaign) == set()


def test_member_save_refuses_a_suppressed_prospect(campaign, workspace):
    prospect = verified(workspace, email="refus@societe.example")
    suppress_person(workspace, email="refus@societe.example")
    with pytest.raises(ValidationError, match="Sur la liste d'opposition"):
        CampaignMember.objects.create(workspace=workspace, campaign=campaign, prospect=prospect)


def test_member_save_reads_the_status_afresh(campaign, workspace):
    prospect = verified(workspace)
    Prospect.objects.for_workspace(workspace).filter(pk=prospect.pk).update(
        status=Status.NOT_VERIFIED
    )
    assert prospect.status == Status.VERIFIED  # the caller's copy is stale
    with pytest.raises(ValidationError, match="Adresse e-mail non vérifiée"):
        CampaignMember(workspace=workspace, campaign=campaign, prospect=prospect).save()


def test_bulk_create_goes_through_the_gate(campaign, workspace):
    ok = verified(workspace)
    bad = ProspectFactory(workspace=workspace, status=Status.NEW)
    with pytest.raises(ValidationError, match="Pas encore enrichi"):
        CampaignMember.objects.bulk_create(
            [
                CampaignMember(workspace=workspace, campaign=campaign, prospect=ok),
                CampaignMember(workspace=workspace, campaign=campaign, prospect=bad),
            ]
        )
    assert members_of(campaign) == set()


def test_members_cannot_be_repointed_in_bulk(campaign, workspace):
    member_row = CampaignMember.objects.create(
        workspace=workspace, campaign=campaign, prospect=verified(workspace)
    )
    unverified = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    with pytest.raises(TypeError):
        CampaignMember.objects.for_workspace(workspace).filter(pk=member_row.pk).update(
            prospect=unverified
        )
    assert members_of(campaign) == {member_row.prospect_id}


def test_member_save_refuses_another_workspace_prospect(campaign, workspace, other_workspace):
    foreign = verified(other_workspace)
    with pytest.raises(ValidationError):
        CampaignMember(workspace=workspace, campaign=campaign, prospect=foreign).save()
    assert not CampaignMember.objects.unscoped().exists()


# --- The admin action ---------------------------------------------------------------------


def action_post(client: Client, ids, *, follow: bool = False, **extra):
    data = {"action": "add_to_campaign", "_selected_action": [str(pk) for pk in ids], **extra}
    return client.post(CHANGELIST, data, follow=follow)


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def test_add_to_campaign_action_end_to_end(member_client, workspace, other_workspace):
    Campaign.objects.create(workspace=other_workspace, name="Campagne concurrente")
    jean = ProspectFactory(
        workspace=workspace, first_name="Jean", last_name="Dupont", status=Status.NOT_VERIFIED
    )
    lea = ProspectFactory(
        workspace=workspace, first_name="Léa", last_name="Martin", status=Status.NEEDS_REVIEW
    )
    ok = [verified(workspace) for _ in range(3)]
    ids = [p.pk for p in (*ok, jean, lea)]

    page = action_post(member_client, ids, index="0", select_across="0")
    html = text(page)
    assert page.status_code == 200
    assert "Ajouter à une campagne" in html
    assert "Prospects sélectionnés : 5" in html
    assert "Campagne concurrente" not in html  # another workspace's campaign is not offered

    result = action_post(
        member_client, ids, select_across="0", apply="1", campaign="", new_name="Salon 2026"
    )
    html = text(result)
    assert result.status_code == 200
    campaign = Campaign.objects.for_workspace(workspace).get(name="Salon 2026")
    assert members_of(campaign) == {p.pk for p in ok}
    assert "3 prospects ajoutés à « Salon 2026 »." in html
    assert "2 prospects exclus : " in html
    assert "Jean Dupont — Adresse e-mail non vérifiée" in html
    assert "Léa Martin — En attente de revue" in html


def test_action_with_an_existing_campaign(member_client, workspace, campaign):
    prospect = verified(workspace)
    response = action_post(
        member_client, [prospect.pk], apply="1", campaign=str(campaign.pk), new_name=""
    )
    assert "1 prospect ajouté à « Salon VivaTech »." in text(response)
    assert members_of(campaign) == {prospect.pk}


def test_action_asks_for_a_campaign_when_none_given(member_client, workspace, campaign):
    prospect = verified(workspace)
    response = action_post(member_client, [prospect.pk], apply="1", campaign="", new_name=" ")
    assert "Choisissez une campagne ou saisissez le nom d'une nouvelle." in text(response)
    assert members_of(campaign) == set()


def test_action_refuses_another_workspace_campaign(member_client, workspace, other_workspace):
    foreign_campaign = Campaign.objects.create(workspace=other_workspace, name="Concurrente")
    prospect = verified(workspace)
    response = action_post(
        member_client, [prospect.pk], apply="1", campaign=str(foreign_campaign.pk), new_name=""
    )
    assert "Sélectionnez un choix valide" in text(response)
    assert not CampaignMember.objects.unscoped().exists()


def test_action_ignores_another_workspace_prospects(member_client, workspace, other_workspace):
    mine = verified(workspace)
    foreign = verified(other_workspace, last_name="Étranger")
    response = action_post(
        member_client, [mine.pk, foreign.pk], apply="1", campaign="", new_name="Salon 2026"
    )
    assert "Étranger" not in text(response)
    assert set(CampaignMember.objects.unscoped().values_list("prospect_id", flat=True)) == {mine.pk}


@pytest.mark.parametrize("step", [{"index": "0"}, {"apply": "1", "campaign": ""}])
def test_only_another_workspace_prospects_creates_nothing(
    member_client, workspace, other_workspace, step
):
    foreign = verified(other_workspace, last_name="Étranger")
    response = action_post(member_client, [foreign.pk], follow=True, new_name="Salon 2026", **step)
    page = text(response)
    assert "Aucun des prospects sélectionnés n'existe dans cet espace de travail." in page
    assert "Étranger" not in page
    assert not Campaign.objects.unscoped().exists()
    assert not CampaignMember.objects.unscoped().exists()


def test_superuser_without_workspace_is_asked_to_choose_one(client, workspace):
    boss = get_user_model().objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    prospect = verified(workspace)
    response = action_post(client, [prospect.pk], index="0", follow=True)
    assert "Choisissez un espace de travail dans l'en-tête" in text(response)


# --- The campaign admin ---------------------------------------------------------------------


def test_campaign_page_lists_members_read_only(member_client, workspace, campaign):
    prospect = verified(workspace, first_name="Éloïse", last_name="Lefèvre")
    add_prospects_to_campaign(campaign, [prospect])
    html = member_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "Éloïse Lefèvre" in html
    assert prospect.email in html
    assert "✓ Vérifié par" in html
    assert "campaignmember_set-empty" not in html and 'name="members-0-prospect"' not in html


def test_campaign_changelist_shows_only_own_workspace(member_client, workspace, other_workspace):
    Campaign.objects.create(workspace=workspace, name="Salon Lyon")
    Campaign.objects.create(workspace=other_workspace, name="Campagne concurrente")
    html = member_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Salon Lyon" in html
    assert "Campagne concurrente" not in html


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_workspace_campaign_gets_404(member_client, other_workspace, view):
    theirs = Campaign.objects.create(workspace=other_workspace, name="Campagne concurrente")
    response = member_client.get(reverse(f"admin:campaigns_campaign_{view}", args=[theirs.pk]))
    missing = member_client.get(reverse(f"admin:campaigns_campaign_{view}", args=[999999]))
    assert response.status_code == missing.status_code
    assert response.status_code in (302, 404)
    assert "Campagne concurrente" not in text(response)


def add_campaign(client: Client, name: str):
    """Submit the admin's add-campaign form (with its empty sequence and members inlines)."""
    return client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "name": name,
            "description": "",
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )


def test_member_creates_campaign_in_current_workspace(member_client, workspace, member):
    response = add_campaign(member_client, "Relance Q3")
    assert response.status_code == 302
    campaign = Campaign.objects.for_workspace(workspace).get()
    assert (campaign.name, campaign.created_by) == ("Relance Q3", member)


def test_duplicate_campaign_name_is_refused_with_a_message(member_client, workspace, campaign):
    response = add_campaign(member_client, "salon vivatech")
    assert response.status_code == 200
    assert "Une campagne porte déjà ce nom." in text(response)


def test_editing_the_email_of_a_verified_prospect_drops_the_verdict(member_client, workspace):
    from tests.factories import ProspectFactory

    prospect = ProspectFactory(
        workspace=workspace,
        status=Prospect.Status.VERIFIED,
        verified_at=timezone.now(),
        email="verifiee@acme.example",
        company=None,
    )
    response = member_client.post(
        reverse("admin:prospects_prospect_change", args=[prospect.pk]),
        {
            "first_name": prospect.first_name,
            "last_name": prospect.last_name,
            "email": "faute-de-frappe@gmail.com",
        },
    )
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.NOT_VERIFIED
    assert prospect.verified_at is None
    campaign = Campaign.objects.create(workspace=workspace, name="Salon")
    result = add_prospects_to_campaign(campaign, [prospect.pk])
    assert result.added == []
    # The reason says what happened, not only that the address is unverified.
    assert [reason for _p, reason in result.excluded] == [
        "Adresse e-mail modifiée à la main : à vérifier de nouveau"
    ]


def change_campaign(client: Client, campaign, members, *, delete=()):
    """Submit the campaign page as shown, ticking the inline's delete box for `delete`."""
    data = {
        "name": campaign.name,
        "description": campaign.description,
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": str(len(members)),
    }
    for i, member_row in enumerate(members):
        data[f"members-{i}-id"] = str(member_row.pk)
        data[f"members-{i}-campaign"] = str(campaign.pk)
        if member_row in delete:
            data[f"members-{i}-DELETE"] = "on"
    return client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)


def test_member_is_taken_out_of_a_campaign_from_its_page(member_client, workspace, campaign):
    keep, leave = verified(workspace), verified(workspace)
    add_prospects_to_campaign(campaign, [keep, leave])
    rows = list(CampaignMember.objects.for_workspace(workspace).order_by("pk"))
    response = change_campaign(member_client, campaign, rows, delete=[rows[1]])
    assert response.status_code == 302
    assert members_of(campaign) == {keep.pk}
    # The prospect itself stays: only its place in the campaign is gone.
    assert Prospect.objects.for_workspace(workspace).filter(pk=leave.pk).exists()


def test_another_workspace_member_cannot_be_deleted_from_a_campaign_page(
    member_client, workspace, other_workspace, campaign
):
    theirs = Campaign.objects.create(workspace=other_workspace, name="Concurrente")
    add_prospects_to_campaign(theirs, [verified(other_workspace)])
    foreign_row = CampaignMember.objects.for_workspace(other_workspace).get()
    response = change_campaign(member_client, campaign, [foreign_row], delete=[foreign_row])
    assert response.status_code in (200, 302)
    assert CampaignMember.objects.for_workspace(other_workspace).filter(pk=foreign_row.pk).exists()


def test_the_confirmation_shows_an_objector_as_objected_never_verified(member_client, workspace):
    objector = verified(workspace, first_name="Zoé", last_name="Roux")
    suppress_person(workspace, email=objector.email)
    other = verified(workspace, first_name="Léa", last_name="Martin")

    page = text(action_post(member_client, [objector.pk, other.pk], index="0"))

    preview = page.split('class="selected-preview"', 1)[1].split("</ul>", 1)[0]
    zoe, lea = sorted(preview.split("<li>")[1:], key=lambda line: "Léa" in line)
    assert "Zoé Roux" in zoe and "Opposé(e)" in zoe and "Vérifié" not in zoe
    assert "Léa Martin" in lea and "Vérifié" in lea
