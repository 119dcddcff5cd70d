"""In a real browser: the cascade's estimate page and the cost dashboard, in French.

Set SOURCIER_SCREENSHOTS to a directory to keep the screenshots (else pytest's tmp_path).
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from enrichment import bulk, credentials
from enrichment.engine import ledger
from enrichment.models import EnrichmentJob, ProviderCall
from prospects.models import Prospect
from tests.factories import ProspectFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path) -> Path:
    directory = Path(os.environ.get("SOURCIER_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def spending(workspace):
    """A month of spending on three providers, as the gateway writes it."""
    now = timezone.now()
    ledger.top_up(workspace.pk, "120", key="top-up")
    ledger.set_daily_cap(workspace.pk, "8")
    for day in range(0, 30, 2):
        when = now - dt.timedelta(days=day)
        for n, (provider, price) in enumerate((("prospeo", "0.90"), ("leadmagic", "0.45"))):
            amount = f"{float(price) * (1 + day % 5):.2f}"
            key = f"{provider}-{day}-{n}"
            ledger.reserve(workspace.pk, amount, key=key, provider=provider, now=when)
            ledger.settle(workspace.pk, key=key, cost=amount, now=when)
    ledger.reserve(workspace.pk, "0.60", key="findymail-now", provider="findymail")
    for provider, count in (("prospeo", 15), ("leadmagic", 12), ("findymail", 1)):
        for _n in range(count):
            ProviderCall.objects.create(
                workspace=workspace, provider=provider, endpoint="/", method="POST", outcome="ok"
            )
    return workspace


def test_the_cost_dashboard_reads_well(log_in, admin_user, spending, shots):
    page = log_in(admin_user.username)
    page.get_by_role("link", name="Coûts").first.click()

    expect(page.locator("h1")).to_have_text("Coûts")
    expect(page.locator("#workspace-target")).to_have_text("Coûts de : Acme Lyon")
    expect(page.locator("#figure-today")).to_contain_text("sur 8,00 €")
    expect(page.locator("svg rect")).to_have_count(31)
    expect(page.locator("#cost-providers")).to_contain_text("Prospeo")
    expect(page.locator("#cost-breakers")).to_contain_text("Fermé")
    page.screenshot(path=str(shots / "couts.png"), full_page=True)

    page.fill("#id_daily_cap", "15,50")
    page.get_by_role("button", name="Enregistrer le plafond").click()
    expect(page.locator(".messagelist")).to_contain_text("fixé à 15,50 €")

    page.fill("#id_start", "2026-12-10")
    page.fill("#id_end", "2026-12-01")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator(".errorlist")).to_contain_text("La date de début ne peut pas être après")


def test_the_cascade_confirmation_reads_well(log_in, member, workspace, shots):
    for slug in ("prospeo", "leadmagic", "hunter"):
        credentials.set_api_key(workspace, slug, f"{slug}-key-1234")
    ledger.top_up(workspace.pk, "25", key="top-up")
    people = [
        ProspectFactory(workspace=workspace, first_name=first, last_name=last, status=status)
        for first, last, status in (
            ("Éloïse", "Lefèvre", Prospect.Status.NEW),
            ("Marc", "Petit", Prospect.Status.NOT_VERIFIED),
            ("Léa", "Martin", Prospect.Status.VERIFIED),
        )
    ]
    page = log_in(member.username)
    page.goto("/admin/prospects/prospect/")
    for prospect in people:
        page.check(f"input.action-select[value='{prospect.pk}']")
    page.select_option("select[name=action]", label="Trouver les e-mails (cascade)")
    page.click("button[name=index]")

    expect(page.locator("h1")).to_have_text("Trouver les e-mails (cascade)")
    expect(page.locator("#workspace-target")).to_have_text("Enrichir dans : Acme Lyon")
    expect(page.locator("#estimate")).to_contain_text("2 prospects sur 3 sélectionnés")
    expect(page.locator("#left-out")).to_contain_text("Statut « Vérifié » : 1")
    expect(page.locator("#provider-order")).to_have_text("Prospeo → LeadMagic")
    page.screenshot(path=str(shots / "cascade.png"), full_page=True)

    page.select_option("select[name=position_1]", label="Hunter")
    page.select_option("select[name=position_2]", label="Prospeo")
    page.select_option("select[name=position_3]", label="LeadMagic")
    page.get_by_role("button", name="Recalculer l'estimation").click()
    expect(page.locator("#provider-order")).to_have_text("Hunter → Prospeo → LeadMagic")
    assert not EnrichmentJob.objects.for_workspace(workspace).exists()


def test_a_paused_job_says_why_and_can_be_cancelled(log_in, member, workspace, shots):
    for slug in ("prospeo", "leadmagic"):
        credentials.set_api_key(workspace, slug, f"{slug}-key-1234")
    ledger.top_up(workspace.pk, "25", key="top-up")
    ledger.set_daily_cap(workspace.pk, "0")
    ProspectFactory.create_batch(3, workspace=workspace, status=Prospect.Status.NEW)
    # The live server commits: the eager workers run at once and meet the cap at once.
    job = bulk.start_job(workspace, bulk.estimate_job(workspace.pk))
    job.refresh_from_db()
    assert job.status == EnrichmentJob.Status.PAUSED

    page = log_in(member.username)
    page.goto(f"/admin/enrichment/enrichmentjob/{job.pk}/change/")
    expect(page.locator(".job-pause")).to_contain_text(
        "En pause : plafond de dépenses du jour atteint — reprise automatique le"
    )
    expect(page.locator("#job-items")).to_contain_text("3 éléments")
    page.screenshot(path=str(shots / "tache.png"), full_page=True)

    page.get_by_role("link", name="Annuler la tâche").click()
    expect(page.locator("#workspace-target")).to_have_text("Annuler dans : Acme Lyon")
    page.get_by_role("button", name="Oui, annuler la tâche").click()
    expect(page.locator(".messagelist")).to_contain_text("en attente ne seront pas traités")
    job.refresh_from_db()
    assert job.status == EnrichmentJob.Status.CANCELLED
