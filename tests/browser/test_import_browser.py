"""In a real browser: log in, upload a CSV, check the preview, import, read the batch summary."""

import pytest
from playwright.sync_api import expect

from prospects.models import ImportBatch, Prospect
from tests.fixtures import csv_files
from tests.fixtures.csv_files import FRENCH_HEADER, PEOPLE

pytestmark = pytest.mark.browser


def test_member_imports_a_csv_file_from_the_admin(log_in, member, workspace, media_root, tmp_path):
    path = csv_files.excel_semicolon_cp1252(
        tmp_path / "salon-lyon.csv", [FRENCH_HEADER, *PEOPLE, PEOPLE[0]]
    )
    page = log_in("claire")
    # Django's own French: the admin is in French before any of our strings.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#logout-form")).to_contain_text("Déconnexion")

    page.goto("/admin/prospects/importbatch/")
    page.click("#import-csv-link")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-submit")

    page.wait_for_url("**/preview/")
    expect(page.locator('[data-count="new"]')).to_have_text("3")
    expect(page.locator('[data-count="duplicate"]')).to_have_text("1")
    rows = page.locator("#preview-rows tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Éloïse")
    expect(rows.first).to_contain_text("+33612345678")
    expect(page.locator("#preview-rows")).to_contain_text("N'Diaye")
    assert not Prospect.objects.for_workspace(workspace).exists()

    page.click("#import-submit")

    batch = ImportBatch.objects.for_workspace(workspace).get()
    page.wait_for_url(f"**/admin/prospects/importbatch/{batch.pk}/change/")
    summary = page.locator("#import-summary")
    expect(summary).to_have_attribute("data-status", "done")
    expect(summary.locator('[data-count="new"]')).to_have_text("3")
    expect(summary.locator('[data-count="duplicate"]')).to_have_text("1")
    expect(page.locator("#rejected-rows")).to_contain_text("5")
    expect(page.locator("#rejected-download")).to_be_visible()
    assert sorted(
        Prospect.objects.for_workspace(workspace).values_list("last_name", flat=True)
    ) == [
        "Lefèvre",
        "N'Diaye",
        "de La Fontaine",
    ]

    page.click("#batch-prospects-link")
    expect(page.locator("#result_list")).to_contain_text("Jean-Pierre de La Fontaine")
