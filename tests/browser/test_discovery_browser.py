"""In a real browser: the approval queue of discovered contacts, and the re-enrichment's
estimate before anything is queued."""

import pytest
from playwright.sync_api import expect

from enrichment.discovery import contacts
from enrichment.models import DiscoveredContact, EnrichmentItem
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.factories import ProspectFactory

pytestmark = pytest.mark.browser


def found(workspace, first, last, email, status, score):
    contact, _created = contacts.add_contact(
        workspace, first_name=first, last_name=last, domain="alpha.fr", method="website"
    )
    contacts.record_address(
        contact, email=email, status=status, score=score, evidence="3 adresses connues"
    )
    return contact


def test_approving_discovered_contacts_makes_prospects(log_in, member, workspace, other_workspace):
    helene = found(workspace, "Hélène", "Ménard", "helene.menard@alpha.fr", "verified", 92)
    bob = found(workspace, "Bob", "Roy", "bob@alpha.fr", "risky", 35)
    found(other_workspace, "Eve", "Noir", "eve@beta.fr", "verified", 90)
    prospect_services.suppress_person(workspace, email="bob@alpha.fr")

    page = log_in(member.username)
    page.goto("/admin/enrichment/discoveredcontact/")
    expect(page.locator("h1")).to_have_text("Contacts découverts")
    expect(page.locator(".badge-score-green")).to_have_text("92")
    expect(page.locator(".badge-score-red")).to_have_text("35")
    expect(page.locator("#result_list")).not_to_contain_text("Noir")
    assert not Prospect.objects.for_workspace(workspace).exists()

    for contact in (helene, bob):
        page.check(f"input.action-select[value='{contact.pk}']")
    page.select_option("select[name=action]", label="Approuver : créer les prospects")
    page.click("button[name=index]")

    expect(page.locator(".messagelist")).to_contain_text("1 contact approuvé")
    expect(page.locator(".messagelist")).to_contain_text("liste d'opposition")
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (prospect.email, prospect.status) == ("helene.menard@alpha.fr", "verified")
    statuses = dict(DiscoveredContact.objects.for_workspace(workspace).values_list("pk", "status"))
    assert statuses == {helene.pk: "approved", bob.pk: "rejected"}


def test_restarting_enrichment_shows_its_estimate_first(log_in, member, workspace):
    people = [
        ProspectFactory(
            workspace=workspace, first_name="Marc", status=Prospect.Status.NOT_VERIFIED
        ),
        ProspectFactory(workspace=workspace, first_name="Léa", status=Prospect.Status.VERIFIED),
    ]
    page = log_in(member.username)
    page.goto("/admin/prospects/prospect/")
    for prospect in people:
        page.check(f"input.action-select[value='{prospect.pk}']")
    page.select_option("select[name=action]", label="Relancer l'enrichissement")
    page.click("button[name=index]")

    expect(page.locator("#estimate")).to_contain_text("1 prospect sur 2 sélectionnés repart")
    expect(page.locator("#left-out")).to_contain_text("Statut « Vérifié » : 1")
    assert not EnrichmentItem.objects.for_workspace(workspace).exists()
    page.get_by_role("button", name="Relancer l'enrichissement").click()
    expect(page.locator(".messagelist")).to_contain_text("1 prospect remis en file")
    assert EnrichmentItem.objects.for_workspace(workspace).count() == 1
