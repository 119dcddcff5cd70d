"""'Approuver et ajouter à une campagne' on the discovered contacts: approval first, then the
prospect list's own campaign page, where only the verified ones go in."""

from campaigns.models import Campaign, CampaignMember
from enrichment.discovery import contacts
from prospects.models import Prospect

CONTACTS = "/admin/enrichment/discoveredcontact/"


def found(workspace, first, email, status, score):
    contact, _created = contacts.add_contact(
        workspace, first_name=first, last_name="Ménard", domain="alpha.fr", method="website"
    )
    contacts.record_address(contact, email=email, status=status, score=score)
    return contact


def test_approved_contacts_reach_the_campaign_page_then_the_campaign(member_client, workspace):
    sure = found(workspace, "Hélène", "helene.menard@alpha.fr", "verified", 92)
    risky = found(workspace, "Paul", "paul@alpha.fr", "risky", 40)
    campaign = Campaign.objects.create(workspace=workspace, name="Salon de Lyon")

    page = member_client.post(
        CONTACTS, {"action": "approve_into_campaign", "_selected_action": [sure.pk, risky.pk]}
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert 'action="/admin/prospects/prospect/"' in body
    prospects = Prospect.objects.for_workspace(workspace)
    assert sorted(page.context["selected"]) == sorted(prospects.values_list("pk", flat=True))
    assert not CampaignMember.objects.for_workspace(workspace).exists()

    done = member_client.post(
        "/admin/prospects/prospect/",
        {
            "action": "add_to_campaign",
            "_selected_action": page.context["selected"],
            "campaign": campaign.pk,
            "apply": "1",
        },
    )
    assert done.status_code == 200
    members = CampaignMember.objects.for_workspace(workspace).values_list(
        "prospect__email", flat=True
    )
    # Only the verified address may enter a campaign; the risky one is named with its reason.
    assert list(members) == ["helene.menard@alpha.fr"]
    assert "exclu" in done.content.decode()


def test_nothing_approved_means_no_campaign_page(member_client, workspace, other_workspace):
    theirs = found(other_workspace, "Eve", "eve@alpha.fr", "verified", 90)
    response = member_client.post(
        CONTACTS, {"action": "approve_into_campaign", "_selected_action": [theirs.pk]}
    )
    assert response.status_code == 302
    assert not Prospect.objects.for_workspace(other_workspace).exists()
