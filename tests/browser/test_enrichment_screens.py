"""In a real browser: the verified badge, provenance, re-enrichment and the campaign gate."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from prospects.models import Prospect, Source
from prospects.services import merge_provider_values, record_initial_provenance
from tests.factories import ProspectFactory

pytestmark = pytest.mark.browser

VERIFIED_AT = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC)


def verified_prospect(workspace) -> Prospect:
    """A prospect typed by a person, then enriched and verified by Dropcontact."""
    prospect = ProspectFactory(
        workspace=workspace, first_name="Éloïse", last_name="Lefèvre", email=""
    )
    record_initial_provenance(prospect, source=Source.MANUAL)
    merge_provider_values(
        prospect,
        {"email": "eloise.lefevre@mienne.example", "job_title": "Directrice des achats"},
        source=Source.DROPCONTACT,
        confidence=95,
        observed_at=VERIFIED_AT,
    )
    prospect.status = Prospect.Status.VERIFIED
    prospect.enrichment_source = Source.DROPCONTACT
    prospect.enriched_at = prospect.verified_at = VERIFIED_AT
    prospect.save()
    return prospect


def open_prospect(page: Page, prospect: Prospect) -> None:
    page.goto(f"/admin/prospects/prospect/{prospect.pk}/change/")


def test_verified_badge_and_provenance_panel(log_in, member, workspace):
    prospect = verified_prospect(workspace)
    page = log_in(member.username)
    open_prospect(page, prospect)

    badge = page.locator(".field-status_badge .badge-verified")
    expect(badge).to_contain_text("✓ Vérifié par Dropcontact")
    expect(page.locator(".field-status_badge")).to_contain_text("14/03/2026")

    panel = page.locator("#provenance")
    for label in (
        "Source d'origine",
        "Source d'enrichissement",
        "Date de vérification",
        "Dernière mise à jour",
    ):
        expect(panel.locator("dt", has_text=label)).to_be_visible()
    expect(panel.locator("dd").nth(1)).to_have_text("Dropcontact")
    email_row = panel.locator("tr", has_text="eloise.lefevre@mienne.example")
    expect(email_row).to_contain_text("Dropcontact")
    expect(email_row).to_contain_text("95 %")
    # The title a person typed is kept; Dropcontact's other answer stays visible as history.
    expect(panel.locator("tr.candidate", has_text="Directrice des achats")).to_contain_text(
        "Dropcontact"
    )
    expect(panel.locator("tr.current", has_text="Directrice commerciale")).to_be_visible()
    # No re-enrichment for a verified prospect.
    expect(page.get_by_role("button", name="Relancer l'enrichissement")).to_have_count(0)


def test_restart_enrichment_from_the_prospect_page(log_in, member, workspace):
    prospect = ProspectFactory(
        workspace=workspace,
        first_name="Jean",
        last_name="Dupont",
        status=Prospect.Status.NOT_VERIFIED,
    )
    page = log_in(member.username)
    open_prospect(page, prospect)
    expect(page.locator(".field-status_badge .badge")).to_have_text("Non vérifié")

    page.on("dialog", lambda dialog: dialog.accept())  # the cost confirmation
    page.get_by_role("button", name="Relancer l'enrichissement").click()

    expect(page.locator(".messagelist")).to_contain_text("de nouveau en file d'enrichissement")
    expect(page.locator(".field-status_badge .badge")).to_have_text("Enrichissement en cours")
    # Without an API key the item waits, visibly, instead of failing.
    expect(page.locator("#enrichment-panel")).to_contain_text("Clé API manquante")
    expect(page.get_by_role("button", name="Relancer l'enrichissement")).to_have_count(0)


def test_adding_to_a_campaign_explains_every_excluded_prospect(log_in, member, workspace):
    eloise = verified_prospect(workspace)
    marc = ProspectFactory(
        workspace=workspace,
        first_name="Marc",
        last_name="Petit",
        status=Prospect.Status.NOT_VERIFIED,
    )
    lea = ProspectFactory(
        workspace=workspace,
        first_name="Léa",
        last_name="Martin",
        status=Prospect.Status.NEEDS_REVIEW,
    )
    page = log_in(member.username)
    page.goto("/admin/prospects/prospect/")
    for prospect in (eloise, marc, lea):
        page.check(f"input.action-select[value='{prospect.pk}']")
    page.select_option("select[name=action]", label="Ajouter à une campagne")
    page.click("button[name=index]")

    expect(page.locator("h1")).to_have_text("Ajouter à une campagne")
    page.fill("input[name=new_name]", "Salon 2026")
    page.click("input[name=apply]")

    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("1 prospect ajouté à « Salon 2026 ».")
    expect(messages).to_contain_text("2 prospects exclus")
    excluded = page.locator("table.excluded-list")
    expect(excluded.locator("tr", has_text="Marc Petit")).to_contain_text(
        "Adresse e-mail non vérifiée"
    )
    expect(excluded.locator("tr", has_text="Léa Martin")).to_contain_text("En attente de revue")
    expect(page.locator("table.added-list")).to_contain_text("Éloïse Lefèvre")
