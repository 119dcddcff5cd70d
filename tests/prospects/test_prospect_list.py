"""The prospect list people read: its columns, filters, accent-free search and bounded counts."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from prospects import admin_lists, normalize, services
from prospects.models import FieldProvenance, ImportBatch, Prospect, Source
from tests.factories import CompanyFactory, ProspectFactory

CHANGELIST = reverse("admin:prospects_prospect_changelist")


def names_on(response) -> set[str]:
    body = response.content.decode()
    return {
        html.unescape(n)
        for n in re.findall(r'<th class="field-__str__"><a [^>]*>([^<]*)</a>', body)
    }


@pytest.fixture
def people(workspace, other_workspace):
    acme = CompanyFactory(workspace=workspace, name="Électricité Générale", domain="elec-gen.fr")
    other = CompanyFactory(workspace=workspace, name="Boulangerie", domain="pain.fr")
    ProspectFactory(
        workspace=workspace,
        first_name="Hélène",
        last_name="Ménard",
        company=acme,
        email="helene.menard@elec-gen.fr",
    )
    ProspectFactory(
        workspace=workspace,
        first_name="Paul",
        last_name="Durand",
        company=other,
        email="paul@pain.fr",
    )
    ProspectFactory(
        workspace=other_workspace, first_name="Luc", last_name="Ménard", email="luc@ailleurs.fr"
    )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("menard", {"Hélène Ménard"}),
        ("MÉNARD", {"Hélène Ménard"}),
        ("helene menard", {"Hélène Ménard"}),
        ("ménard hélène", {"Hélène Ménard"}),
        ("electricite", {"Hélène Ménard"}),
        ("elec-gen.fr", {"Hélène Ménard"}),
        ("paul@pain.fr", {"Paul Durand"}),
        ("pain", {"Paul Durand"}),
        ("luc", set()),
    ],
)
def test_search_ignores_accents_and_case_and_finds_by_email_company_and_domain(
    member_client, people, term, expected
):
    response = member_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert names_on(response) == expected


def test_search_key_follows_an_edited_name(workspace, people):
    prospect = Prospect.objects.for_workspace(workspace).get(last_name="Durand")
    prospect.last_name = "Dürer"
    prospect.save(update_fields=["last_name"])
    prospect.refresh_from_db()
    assert "durer" in prospect.search_key


def test_heading_is_prospects_and_columns_are_readable(member_client, people):
    response = member_client.get(CHANGELIST)
    body = response.content.decode()
    assert "<h1>Prospects</h1>" in body
    assert "css/lists.css" in body
    for column in ("field-email", "field-verified_at", "field-source", "field-score"):
        assert column in body


def test_objected_prospect_shows_the_objected_badge(member_client, workspace, people):
    services.suppress_person(workspace, email="paul@pain.fr", phone="", reason="objection")
    body = member_client.get(CHANGELIST).content.decode()
    assert "Opposé(e)" in body


def test_filters_by_source_company_score_and_import(member_client, workspace, people):
    batch = ImportBatch.objects.create(workspace=workspace, filename="salon.csv")
    imported = ProspectFactory(
        workspace=workspace,
        first_name="Inès",
        last_name="Import",
        source=Source.IMPORT,
        import_batch=batch,
    )
    FieldProvenance.objects.create(
        workspace=workspace,
        prospect=imported,
        field="email",
        value=imported.email,
        source=Source.DROPCONTACT,
        confidence=95,
        observed_at=timezone.now(),
        is_current=True,
    )
    assert names_on(member_client.get(CHANGELIST, {"source__exact": "import"})) == {"Inès Import"}
    assert names_on(member_client.get(CHANGELIST, {"import_batch__id__exact": batch.pk})) == {
        "Inès Import"
    }
    assert names_on(member_client.get(CHANGELIST, {"score": "high"})) == {"Inès Import"}
    company = Prospect.objects.for_workspace(workspace).get(last_name="Durand").company
    assert names_on(member_client.get(CHANGELIST, {"company__id__exact": company.pk})) == {
        "Paul Durand"
    }


def test_filter_on_another_workspace_company_finds_nothing(member_client, other_workspace, people):
    theirs = CompanyFactory(workspace=other_workspace)
    ProspectFactory(workspace=other_workspace, company=theirs)
    assert names_on(member_client.get(CHANGELIST, {"company__id__exact": theirs.pk})) == set()


def test_number_of_queries_does_not_grow_with_the_page_size(member_client, workspace):
    ProspectFactory.create_batch(3, workspace=workspace)
    with CaptureQueriesContext(connection) as small:
        assert member_client.get(CHANGELIST).status_code == 200
    ProspectFactory.create_batch(40, workspace=workspace)
    with CaptureQueriesContext(connection) as large:
        assert member_client.get(CHANGELIST).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    with CaptureQueriesContext(connection) as searched:
        assert member_client.get(CHANGELIST, {"q": "societe", "score": "high"}).status_code == 200
    assert len(searched.captured_queries) <= len(large.captured_queries) + 2


def test_count_past_the_limit_is_a_bound_not_a_scan(member_client, workspace, monkeypatch):
    monkeypatch.setattr(admin_lists, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(admin_lists.BoundedCountPaginator, "limit", 5)
    ProspectFactory.create_batch(8, workspace=workspace)
    body = member_client.get(CHANGELIST).content.decode()
    if connection.vendor == "postgresql":
        assert 'data-count-kind="' in body
    else:
        assert 'data-count-kind="bound"' in body
        assert "plus de 5 prospects" in body
    ProspectFactory.create_batch(0, workspace=workspace)
    body = member_client.get(CHANGELIST, {"q": "nobody-at-all"}).content.decode()
    assert 'data-count-kind="exact"' in body
    assert "0 prospect" in body


def test_imported_prospects_are_found_without_accents(
    member_client, workspace, make_batch, tmp_path
):
    from prospects import imports
    from tests.fixtures import csv_files

    rows = [["Prénom", "Nom", "E-mail", "Société"], ["Éloïse", "Lefèvre", "e.l@sge.fr", "SGE"]]
    batch = make_batch(csv_files.write_csv(tmp_path / "f.csv", rows))
    imports.run_import(batch)
    assert names_on(member_client.get(CHANGELIST, {"q": "eloise lefevre"})) == {"Éloïse Lefèvre"}


@pytest.mark.parametrize("per_page", [10, 100])
def test_queries_do_not_grow_with_list_per_page(member_client, workspace, per_page, monkeypatch):
    from prospects.admin import ProspectAdmin

    ProspectFactory.create_batch(120, workspace=workspace)
    counts = []
    for size in (per_page, per_page * 2):
        monkeypatch.setattr(ProspectAdmin, "list_per_page", size)
        with CaptureQueriesContext(connection) as captured:
            body = member_client.get(CHANGELIST).content.decode()
        counts.append(len(captured.captured_queries))
        assert body.count('class="action-select"') == min(size, 120)
    assert counts[0] == counts[1]


@given(
    first=st.text(alphabet="aàâäbcçdeéèêëfghiîïjklmnoôöpqrstuùûüvwxyz-' ", max_size=20),
    last=st.text(alphabet="aàâäbcçdeéèêëfghiîïjklmnoôöpqrstuùûüvwxyz-' ", max_size=20),
)
def test_every_word_of_a_name_typed_any_way_is_in_its_search_key(first, last):
    key = normalize.search_key(first, last, "")
    for typed in (first, first.upper(), last, f"{last} {first}"):
        for word in admin_lists.search_words(typed):
            assert word in key


@pytest.mark.parametrize("who", ["member_client", "admin_client_ws"])
def test_the_administrator_question_is_asked_once_per_page(request, who, workspace):
    """The sidebar asks it for every administrators-only model: one query, not one each."""
    client = request.getfixturevalue(who)
    ProspectFactory.create_batch(3, workspace=workspace)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(CHANGELIST).content.decode()
    asked = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT 1 AS "a" FROM "prospects_membership"')
    ]
    assert len(asked) == 1, asked
    # ...and the answer still differs: only the administrator sees the webhook endpoints.
    assert ("webhookendpoint" in body) is (who == "admin_client_ws")


def test_a_member_of_one_workspace_is_not_asked_for_a_remembered_choice(member_client, workspace):
    """Their only workspace is the current one whatever they chose before: one query less."""
    ProspectFactory.create_batch(2, workspace=workspace)
    with CaptureQueriesContext(connection) as captured:
        body = member_client.get(CHANGELIST).content.decode()
    assert body.count('class="action-select"') == 2
    assert not [q for q in captured.captured_queries if "workspacepreference" in q["sql"]]
