"""Creation guards, suppression on every path, the creation hook and the merge rules."""

import html

import pytest
from django.urls import reverse

from prospects import services
from prospects.models import FieldProvenance, Prospect, Source, SuppressionEntry
from prospects.signals import prospects_created
from tests.factories import ProspectFactory


@pytest.fixture
def created_events():
    events = []

    def receiver(sender, *, workspace_id, prospect_ids, **kwargs):
        events.append((workspace_id, list(prospect_ids)))

    prospects_created.connect(receiver, dispatch_uid="test-receiver")
    yield events
    prospects_created.disconnect(dispatch_uid="test-receiver")


def test_create_prospect_normalises_values_and_records_provenance(workspace):
    prospect = services.create_prospect(
        workspace,
        data={
            "first_name": " Jean-Pierre ",
            "last_name": "de La Fontaine",
            "email": "JP.DeLaFontaine@Fontaine-Conseil.example",
            "phone": "06 12 34 56 78",
            "linkedin_url": "fr.linkedin.com/in/jp-de-la-fontaine/?trk=x",
            "company_name": "Fontaine Conseil",
            "company_website": "https://www.fontaine-conseil.example/contact",
        },
        source=Source.API,
    )
    assert prospect.first_name == "Jean-Pierre"
    assert prospect.email == "jp.delafontaine@fontaine-conseil.example"
    assert prospect.phone == "+33612345678"
    assert prospect.linkedin_url == "https://www.linkedin.com/in/jp-de-la-fontaine"
    assert prospect.company.domain == "fontaine-conseil.example"
    fields = set(
        FieldProvenance.objects.for_workspace(workspace)
        .filter(prospect=prospect, is_current=True, source="api")
        .values_list("field", flat=True)
    )
    assert fields == {"first_name", "last_name", "email", "phone", "linkedin_url"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"email": "pas-une-adresse"}, "invalid"),
        ({"first_name": "Seul"}, "invalid"),
        ({"first_name": "A", "last_name": "B", "phone": "12"}, "invalid"),
        ({"linkedin_url": "https://exemple.fr/profil"}, "invalid"),
    ],
)
def test_unusable_data_is_refused_with_a_reason(workspace, data, reason):
    with pytest.raises(services.ProspectRejected) as caught:
        services.create_prospect(workspace, data=data)
    assert caught.value.reason == reason
    assert not Prospect.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize(
    "second",
    [
        {"email": "ELOISE@acme.example"},
        {"linkedin_url": "https://linkedin.com/in/eloise-lefevre"},
        {"first_name": "Eloise", "last_name": "LEFEVRE", "company_name": "ACME"},
    ],
)
def test_the_same_person_twice_is_a_duplicate(workspace, second):
    services.create_prospect(
        workspace,
        data={
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "email": "eloise@acme.example",
            "linkedin_url": "https://www.linkedin.com/in/eloise-lefevre",
            "company_name": "Acme",
        },
    )
    with pytest.raises(services.ProspectRejected) as caught:
        services.create_prospect(workspace, data={"first_name": "X", "last_name": "Y", **second})
    assert caught.value.reason == "duplicate"


def test_the_same_person_in_another_workspace_is_not_a_duplicate(workspace, other_workspace):
    services.create_prospect(workspace, data={"email": "eloise@acme.example"})
    services.create_prospect(other_workspace, data={"email": "eloise@acme.example"})


def test_suppression_keeps_only_a_keyed_hash(workspace):
    services.suppress_person(workspace, email="Eloise@Acme.example", phone="06 12 34 56 78")
    stored = list(SuppressionEntry.objects.for_workspace(workspace).values())
    assert len(stored) == 2
    dump = repr(stored).lower()
    assert "eloise" not in dump and "612345678" not in dump
    assert all(len(row["key_hash"]) == 64 for row in stored)


def test_a_suppressed_person_cannot_be_created_by_the_service(workspace, created_events):
    services.suppress_person(workspace, email="eloise@acme.example")
    with pytest.raises(services.SuppressedPerson):
        services.create_prospect(workspace, data={"email": "ELOISE@acme.example"})
    entry = SuppressionEntry.objects.for_workspace(workspace).get()
    assert entry.blocked_attempts == 1
    assert created_events == []


def test_a_suppressed_phone_blocks_too(workspace):
    services.suppress_person(workspace, phone="+33612345678")
    with pytest.raises(services.SuppressedPerson):
        services.create_prospect(
            workspace,
            data={
                "first_name": "A",
                "last_name": "B",
                "company_name": "Acme",
                "phone": "06 12 34 56 78",
            },
        )


def test_the_objection_list_is_asked_once_for_emails_and_phones(
    workspace, other_workspace, django_assert_num_queries
):
    services.suppress_person(workspace, email="eloise@acme.example", phone="+33612345678")
    services.suppress_person(other_workspace, email="jean@acme.example")
    entries = dict(
        SuppressionEntry.objects.for_workspace(workspace).values_list("kind", "pk")
    )
    asked = [
        *services.objection_hashes(email="eloise@acme.example", phone="+33612345678"),
        *services.objection_hashes(email="jean@acme.example", phone="+33700000000"),
    ]

    with django_assert_num_queries(1):
        found = services.objection_entries(workspace.pk, asked)

    assert found == {asked[0]: entries["email"], asked[1]: entries["phone"]}


def test_a_suppressed_person_cannot_be_saved_by_any_other_path(workspace):
    services.suppress_person(workspace, email="eloise@acme.example")
    with pytest.raises(services.SuppressedPerson):
        Prospect.objects.create(workspace=workspace, email="eloise@acme.example")


def test_suppression_is_per_workspace(workspace, other_workspace):
    services.suppress_person(workspace, email="eloise@acme.example")
    services.create_prospect(other_workspace, data={"email": "eloise@acme.example"})


def test_a_suppressed_person_cannot_be_added_in_the_admin(member_client, workspace):
    services.suppress_person(workspace, email="eloise@acme.example")
    response = member_client.post(
        reverse("admin:prospects_prospect_add"),
        {"first_name": "Éloïse", "last_name": "Lefèvre", "email": "eloise@acme.example"},
    )
    assert response.status_code == 200
    assert "liste d'opposition" in html.unescape(response.content.decode())
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert SuppressionEntry.objects.for_workspace(workspace).get().blocked_attempts == 1


def test_suppression_entry_added_in_the_admin_stores_no_address(member_client, workspace):
    response = member_client.post(
        reverse("admin:prospects_suppressionentry_add"),
        {"email": "Eloise@Acme.example", "phone": "", "reason": "objection"},
    )
    assert response.status_code == 302
    entry = SuppressionEntry.objects.for_workspace(workspace).get()
    assert "eloise" not in repr(entry.__dict__).lower()
    assert services.find_suppression(workspace, email="eloise@acme.example") == entry


def test_creation_hook_fires_after_commit_with_ids(
    workspace, created_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        prospect = services.create_prospect(workspace, data={"email": "a@acme.example"})
    assert created_events == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert created_events == [(workspace.pk, [prospect.pk])]


def test_admin_creation_fires_the_hook(
    member_client, workspace, created_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            reverse("admin:prospects_prospect_add"),
            {"first_name": "Éloïse", "last_name": "Lefèvre", "email": "eloise@acme.example"},
        )
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert created_events == [(workspace.pk, [prospect.pk])]


def test_provider_value_fills_empty_fields_but_never_overwrites_a_person(workspace):
    prospect = services.create_prospect(
        workspace,
        data={
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "company_name": "Acme",
            "job_title": "CEO",
        },
    )
    changed = services.merge_provider_values(
        prospect,
        {"job_title": "Directrice", "phone": "+33472000000"},
        source=Source.DROPCONTACT,
        confidence=99,
    )
    assert changed == ["phone"]
    assert prospect.job_title == "CEO"
    assert prospect.phone == "+33472000000"


def test_higher_confidence_provider_value_replaces_a_lower_one(workspace):
    prospect = ProspectFactory(workspace=workspace, job_title="")
    services.merge_provider_values(
        prospect, {"job_title": "Commerciale"}, source=Source.PROVIDER, confidence=40
    )
    assert (
        services.merge_provider_values(
            prospect,
            {"job_title": "Responsable commerciale"},
            source=Source.DROPCONTACT,
            confidence=30,
        )
        == []
    )
    assert services.merge_provider_values(
        prospect, {"job_title": "Directrice commerciale"}, source=Source.DROPCONTACT, confidence=80
    ) == ["job_title"]
    history = services.provenance_by_field(prospect)["job_title"]
    assert [(row.value, row.is_current) for row in history] == [
        ("Directrice commerciale", True),
        ("Responsable commerciale", False),
        ("Commerciale", False),
    ]


def test_a_value_without_provenance_counts_as_typed_by_a_person(workspace):
    prospect = ProspectFactory(workspace=workspace, job_title="Gérante")
    assert (
        services.merge_provider_values(
            prospect, {"job_title": "Autre"}, source=Source.DROPCONTACT, confidence=100
        )
        == []
    )
