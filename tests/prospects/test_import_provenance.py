"""Every value a person imported says so on the prospect page: Import, file and line, 100 %."""

import html
import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from prospects.models import FieldProvenance, ImportBatch, Prospect
from tests.fixtures import csv_files


def provenance_rows(page: str) -> list[str]:
    """The provenance table's rows as text: cells joined by ' | '."""
    table = page.split('class="provenance-history"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if cells:
            rows.append(" | ".join(cells))
    return rows


def test_the_admin_import_shows_import_provenance_on_the_prospect_page(
    member_client, workspace, tmp_path, media_root
):
    content = csv_files.excel_semicolon_cp1252(tmp_path / "leads.csv").read_bytes()
    member_client.post(
        reverse("admin:prospects_importbatch_upload"),
        {"file": SimpleUploadedFile("leads.csv", content)},
    )
    batch = ImportBatch.objects.for_workspace(workspace).get()
    member_client.post(reverse("admin:prospects_importbatch_run", args=[batch.pk]))
    eloise = Prospect.objects.for_workspace(workspace).get(last_name="Lefèvre")

    page = html.unescape(
        member_client.get(
            reverse("admin:prospects_prospect_change", args=[eloise.pk])
        ).content.decode()
    )

    rows = provenance_rows(page)
    assert any(
        row.startswith("Téléphone | +33612345678 | Import · leads.csv, ligne 2 | 100 %")
        for row in rows
    ), rows
    assert any(
        row.startswith("Fonction | Directrice des achats | Import · leads.csv") for row in rows
    )
    assert not any("Dropcontact" in row for row in rows)


def test_the_command_records_the_same_provenance(workspace, tmp_path, media_root):
    path = csv_files.excel_utf8_bom(tmp_path / "salon.csv")

    call_command(
        "import_prospects",
        str(path),
        "--workspace",
        "acme-lyon",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    rows = FieldProvenance.objects.for_workspace(workspace).filter(prospect__isnull=False)
    prospects = Prospect.objects.for_workspace(workspace)
    expected = sum(
        1
        for p in prospects
        for field in ("first_name", "last_name", "email", "phone", "job_title", "linkedin_url")
        if getattr(p, field)
    )
    assert rows.count() == expected
    assert set(rows.values_list("source", "confidence", "is_current")) == {("import", 100, True)}
    assert all(
        detail.startswith("salon.csv, ligne ") for detail in rows.values_list("detail", flat=True)
    )


def test_the_import_provenance_costs_no_query_per_row(
    workspace, tmp_path, make_batch, django_assert_max_num_queries
):
    from prospects import imports

    few = make_batch(csv_files.excel_utf8_bom(tmp_path / "few.csv"))
    with django_assert_max_num_queries(40) as few_queries:
        imports.run_import(few)
    many_people = [
        [f"Prénom{i}", f"Nom{i}", f"p{i}@equipement-sge.fr", "SGE", "DAF", "", "", ""]
        for i in range(60)
    ]
    many = make_batch(
        csv_files.excel_utf8_bom(tmp_path / "many.csv", [csv_files.FRENCH_HEADER, *many_people])
    )
    with django_assert_max_num_queries(len(few_queries.captured_queries) + 2):
        imports.run_import(many)
    assert (
        FieldProvenance.objects.for_workspace(workspace).filter(detail="many.csv, ligne 61").count()
        == 4
    )


def test_provenance_goes_with_its_prospect_and_its_workspace(workspace, other_workspace, tmp_path):
    # The table has no database foreign keys (an import writes several rows a prospect): the
    # ORM's cascade is what removes them, on both databases.
    path = csv_files.excel_semicolon_cp1252(tmp_path / "leads.csv")
    for target in (workspace, other_workspace):
        call_command("import_prospects", str(path), workspace=target.slug, stdout=io.StringIO())
    rows = FieldProvenance.objects.for_workspace(workspace)
    gone = Prospect.objects.for_workspace(workspace).filter(last_name="Lefèvre").get()
    assert rows.filter(prospect=gone).exists()

    gone_pk = gone.pk
    gone.delete()
    assert not rows.filter(prospect_id=gone_pk).exists()
    assert rows.exists()

    theirs = FieldProvenance.objects.for_workspace(other_workspace).count()
    workspace.delete()
    assert not FieldProvenance.objects.unscoped().filter(workspace_id=workspace.pk).exists()
    assert FieldProvenance.objects.for_workspace(other_workspace).count() == theirs
