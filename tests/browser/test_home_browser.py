"""In a real browser: the home's numbers are the database's, and its live block moves by
itself while a job runs (htmx, served from our static files).

Set SOURCIER_SCREENSHOTS to a directory to keep the screenshot (else pytest's tmp_path).
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from enrichment.engine import ledger
from enrichment.models import EnrichmentJob, ProviderCall
from prospects.models import ImportBatch, Prospect
from tests.factories import ProspectFactory

pytestmark = pytest.mark.browser
Status = Prospect.Status


@pytest.fixture
def shots(tmp_path) -> Path:
    directory = Path(os.environ.get("SOURCIER_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def lived_in(workspace, other_workspace):
    """A workspace a sales-ops team has used for a few weeks, and a neighbour's."""
    now = timezone.now()
    for n, status in enumerate(
        [Status.VERIFIED] * 14 + [Status.NOT_VERIFIED] * 5 + [Status.NEEDS_REVIEW] * 2
    ):
        ProspectFactory(
            workspace=workspace, status=status, enriched_at=now - dt.timedelta(days=n % 12)
        )
    ProspectFactory.create_batch(4, workspace=workspace, status=Status.NEW)
    ProspectFactory.create_batch(7, workspace=other_workspace, status=Status.VERIFIED)
    ledger.top_up(workspace.pk, "80", key="top-up")
    ledger.set_daily_cap(workspace.pk, "10")
    for day in range(0, 20, 2):
        when = now - dt.timedelta(days=day)
        for provider, amount in (("prospeo", "1.20"), ("leadmagic", "0.60")):
            key = f"{provider}-{day}"
            ledger.reserve(workspace.pk, amount, key=key, provider=provider, now=when)
            ledger.settle(workspace.pk, key=key, cost=amount, now=when)
            ProviderCall.objects.create(
                workspace=workspace, provider=provider, endpoint="/", method="POST", outcome="ok"
            )
    ImportBatch.objects.create(
        workspace=workspace,
        filename="salon-vivatech.csv",
        status="done",
        total_rows=25,
        created_count=25,
    )
    ImportBatch.objects.create(
        workspace=workspace,
        filename="webinaire-novembre.csv",
        status="importing",
        total_rows=300,
        mapping={"row_count": 1200},
    )
    return EnrichmentJob.objects.create(
        workspace=workspace,
        kind="email",
        status="running",
        total_items=50,
        done_items=20,
        failed_items=5,
        providers=["prospeo", "leadmagic"],
    )


def test_the_home_shows_the_database_and_moves_by_itself(
    log_in, member, workspace, lived_in, shots
):
    page = log_in(member.username)

    expect(page.locator("h1")).to_have_text("Tableau de bord — Acme Lyon")
    prospects = Prospect.objects.for_workspace(workspace)
    expect(page.locator("#figure-prospects .figure")).to_have_text(str(prospects.count()))
    for status in Status.values:
        expected = prospects.filter(status=status).count()
        expect(page.locator(f'tr[data-status="{status}"] a')).to_have_text(str(expected))
    expect(page.locator("#figure-verified-rate")).to_have_text(
        "67 % des 21 prospects ayant reçu un verdict"
    )
    expect(page.locator("#figure-today")).to_contain_text("sur un plafond journalier de 10,00 €")
    expect(page.locator("#chart-spend svg rect")).to_have_count(20)
    job_row = page.locator(f'tr[data-job="{lived_in.pk}"]')
    expect(job_row).to_contain_text("50 %")
    page.screenshot(path=str(shots / "accueil.png"), full_page=True)

    # A worker moves the job on: the block shows it without a reload.
    EnrichmentJob.objects.for_workspace(workspace).filter(pk=lived_in.pk).update(done_items=44)
    expect(job_row).to_contain_text("98 %", timeout=10_000)
    expect(job_row.locator('[data-count="done"]')).to_have_text("44 / 50")

    page.locator('tr[data-status="needs_review"] a').click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
