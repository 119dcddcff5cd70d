"""In a real browser: the prospect list searched with and without accents, a selection and a
campaign's send list downloaded and opened as CSV, compared with the database."""

import csv
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign
from campaigns.services import add_prospects_to_campaign
from prospects.models import Prospect
from prospects.services import suppress_person
from tests.factories import CompanyFactory, ProspectFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def people(workspace):
    elec = CompanyFactory(workspace=workspace, name="Électricité Générale", domain="elec-gen.fr")
    verified = {"status": Prospect.Status.VERIFIED, "verified_at": timezone.now()}
    return [
        ProspectFactory(
            workspace=workspace,
            first_name="Hélène",
            last_name="Ménard",
            company=elec,
            email="helene.menard@elec-gen.fr",
            **verified,
        ),
        ProspectFactory(
            workspace=workspace,
            first_name='=HYPERLINK("http://x")',
            last_name="Durand",
            email="paul.durand@pain.fr",
            **verified,
        ),
        ProspectFactory(
            workspace=workspace,
            first_name="Zoé",
            last_name="Roux",
            email="zoe@roux.fr",
            **verified,
        ),
    ]


def read_download(download) -> list[dict[str, str]]:
    with open(download.path(), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(io.StringIO(fh.read()), delimiter=";"))


def search(page, term: str) -> None:
    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()


def test_search_with_and_without_accents_then_export_as_csv(log_in, member, workspace, people):
    page = log_in("claire")
    page.goto("/admin/prospects/prospect/")
    expect(page.locator("h1")).to_have_text("Prospects")
    results = page.locator("#result_list tbody")
    for term in ("menard", "Ménard", "MÉNARD", "electricite", "elec-gen.fr"):
        search(page, term)
        expect(results).to_contain_text("Hélène Ménard")
        expect(results).not_to_contain_text("Durand")
        expect(results.locator("tr")).to_have_count(1)

    search(page, "")
    expect(results.locator("tr")).to_have_count(3)
    suppress_person(workspace, email="zoe@roux.fr")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "export_csv_excel")
    with page.expect_download() as info:
        page.click("button[name=index]")
    download = info.value
    assert download.suggested_filename.startswith("prospects-")
    with open(download.path(), "rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"
    rows = read_download(download)
    expected = {
        p.email: p for p in Prospect.objects.for_workspace(workspace).exclude(last_name="Roux")
    }
    assert {row["E-mail"] for row in rows} == set(expected)
    by_name = {row["Nom"]: row for row in rows}
    assert by_name["Durand"]["Prénom"] == '\'=HYPERLINK("http://x")'
    assert by_name["Ménard"]["Prénom"] == "Hélène"
    assert by_name["Ménard"]["Société"] == "Électricité Générale"


def test_campaign_send_list_downloads_without_who_objected(log_in, member, workspace, people):
    campaign = Campaign.objects.create(workspace=workspace, name="Salon Lyon")
    add_prospects_to_campaign(campaign, people)
    suppress_person(workspace, email="zoe@roux.fr")
    page = log_in("claire")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    send = page.locator("#campaign-send")
    expect(send).to_contain_text("2 membres peuvent recevoir les envois maintenant.")
    expect(send.locator(".excluded-list")).to_contain_text("Zoé Roux")
    with page.expect_download() as info:
        page.click("#send-list-csv")
    rows = read_download(info.value)
    assert sorted(row["Nom"] for row in rows) == ["Durand", "Ménard"]
    assert {row["Campagne"] for row in rows} == {"Salon Lyon"}
