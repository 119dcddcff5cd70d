"""What the screens say after Dropcontact: why a prospect is not verified, who objected, and
which company a person works at (HTTP replayed by `responses`)."""

import html

import pytest
from django.urls import reverse

from campaigns.services import exclusion_reason
from prospects import services as prospect_services
from prospects.models import Company, FieldProvenance, Prospect
from tests.enrichment.test_dropcontact_pipeline import echo_ready, new_prospect, submit_ok
from tests.factories import CompanyFactory, MembershipFactory, ProspectFactory

Reason = Prospect.Reason


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def keyed_client(keyed, client):
    client.force_login(MembershipFactory(workspace=keyed, user__username="claire").user)
    return client


def page_of(client, prospect) -> str:
    url = reverse("admin:prospects_prospect_change", args=[prospect.pk])
    return html.unescape(client.get(url).content.decode())


def list_page(client) -> str:
    return html.unescape(
        client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    )


def enriched(keyed, http, callbacks, *, data=None, **answer):
    submit_ok(http)
    echo_ready(http, **answer)
    prospect = new_prospect(keyed, callbacks, **(data or {}))
    prospect.refresh_from_db()
    return prospect


# --- Why not verified ------------------------------------------------------------------------


def test_no_address_found_says_so(keyed, http, django_capture_on_commit_callbacks):
    prospect = enriched(keyed, http, django_capture_on_commit_callbacks, email=[])

    assert (prospect.status, prospect.verification_reason) == (
        "not_verified",
        Reason.NO_EMAIL_FOUND,
    )
    assert prospect.last_error == "Aucune adresse trouvée"
    assert "non vérifiée" not in prospect.not_verified_reason


def test_catch_all_found_says_found_but_not_verified(
    keyed, http, django_capture_on_commit_callbacks
):
    prospect = enriched(
        keyed,
        http,
        django_capture_on_commit_callbacks,
        email=[{"email": "contact@acme.example", "qualification": "catch-all@pro"}],
    )

    assert prospect.verification_reason == Reason.UNVERIFIED
    assert prospect.not_verified_reason == "Adresse trouvée mais non vérifiée (catch-all@pro)"
    assert exclusion_reason(prospect) == prospect.not_verified_reason


def test_do_not_contact_says_so(keyed, http, django_capture_on_commit_callbacks):
    prospect = enriched(
        keyed,
        http,
        django_capture_on_commit_callbacks,
        email=[{"email": "eloise@acme.example", "qualification": "Ne_Pas_Contacter@pro"}],
    )

    assert prospect.verification_reason == Reason.DO_NOT_CONTACT
    assert prospect.last_error == "Ne pas contacter (signalé par Dropcontact)"


TYPED = "typed@acme.example"
FOUND = "e.lefevre@acme.example"
TWO_ADDRESSES = [
    {"email": FOUND, "qualification": "nominative@pro"},
    {"email": TYPED, "qualification": "catch_all@pro"},
]


def test_typed_address_unverified_beside_a_verified_one_offers_to_use_it(
    keyed, keyed_client, http, django_capture_on_commit_callbacks
):
    prospect = enriched(
        keyed, http, django_capture_on_commit_callbacks, data={"email": TYPED}, email=TWO_ADDRESSES
    )
    assert prospect.email == TYPED
    assert prospect.verification_reason == Reason.OTHER_VERIFIED
    assert prospect.last_error == (
        "Adresse saisie non vérifiée ; une adresse professionnelle vérifiée a été trouvée"
    )
    page = page_of(keyed_client, prospect)
    assert "Utiliser cette adresse" in page and FOUND in page
    # A verdict is not an error: the page calls it a note.
    assert "Dernière remarque de l'enrichissement" in page

    response = keyed_client.post(reverse("enrichment:use-email", args=[prospect.pk]))

    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.email, prospect.status) == (FOUND, Prospect.Status.VERIFIED)
    assert prospect.email_qualification == "nominative@pro"
    assert prospect.verified_at is not None
    current = FieldProvenance.objects.for_workspace(keyed).get(
        prospect=prospect, field="email", is_current=True
    )
    assert (current.value, current.source) == (FOUND, "manual")
    assert exclusion_reason(prospect) is None
    # Used once: nothing is offered any more.
    assert "Utiliser cette adresse" not in page_of(keyed_client, prospect)


def test_no_verified_address_offers_nothing_and_the_post_is_refused(
    keyed, keyed_client, http, django_capture_on_commit_callbacks
):
    prospect = enriched(
        keyed,
        http,
        django_capture_on_commit_callbacks,
        data={"email": TYPED},
        email=[{"email": TYPED, "qualification": "catch_all@pro"}],
    )
    assert "Utiliser cette adresse" not in page_of(keyed_client, prospect)

    keyed_client.post(reverse("enrichment:use-email", args=[prospect.pk]))

    prospect.refresh_from_db()
    assert (prospect.email, prospect.status) == (TYPED, Prospect.Status.NOT_VERIFIED)


def test_another_workspace_cannot_use_the_found_address(
    keyed, http, django_capture_on_commit_callbacks, other_member, client
):
    prospect = enriched(
        keyed, http, django_capture_on_commit_callbacks, data={"email": TYPED}, email=TWO_ADDRESSES
    )
    client.force_login(other_member)

    theirs = client.post(reverse("enrichment:use-email", args=[prospect.pk]))
    missing = client.post(reverse("enrichment:use-email", args=[999999]))

    assert theirs.status_code == missing.status_code == 404
    prospect.refresh_from_db()
    assert prospect.email == TYPED


# --- Provenance of imported values ----------------------------------------------------------


def test_an_imported_value_stays_the_import_s_when_dropcontact_echoes_it(
    keyed, http, django_capture_on_commit_callbacks, tmp_path, media_root
):
    from prospects import imports
    from tests.fixtures import csv_files

    rows = [
        ["Prénom", "Nom", "Société", "Fonction", "Téléphone"],
        ["Éloïse", "Lefèvre", "Acme Conseil", "Directrice commerciale", "04 72 00 00 00"],
    ]
    path = csv_files.write_csv(tmp_path / "leads.csv", rows, delimiter=";")
    submit_ok(http)
    echo_ready(http)
    with open(path, "rb") as fh:
        batch = imports.create_batch(
            keyed, chunks=iter(lambda: fh.read(4096), b""), filename="leads.csv"
        )
    with django_capture_on_commit_callbacks(execute=True):
        imports.run_import(batch)
    prospect = Prospect.objects.for_workspace(keyed).get()
    assert prospect.status == Prospect.Status.VERIFIED

    for field in ("phone", "job_title"):
        current = FieldProvenance.objects.for_workspace(keyed).get(
            prospect=prospect, field=field, is_current=True
        )
        assert (current.source, current.confidence, current.detail) == (
            "import",
            100,
            "leads.csv, ligne 2",
        )


# --- Objectors -----------------------------------------------------------------------------


def test_an_objector_is_shown_as_objected_never_verified(
    keyed, keyed_client, http, django_capture_on_commit_callbacks
):
    prospect = enriched(keyed, http, django_capture_on_commit_callbacks)
    assert prospect.status == Prospect.Status.VERIFIED
    assert "Vérifié par Dropcontact" in list_page(keyed_client)

    prospect_services.suppress_person(keyed, email=prospect.email)

    for page in (list_page(keyed_client), page_of(keyed_client, prospect)):
        assert "Opposé(e)" in page
        assert "Vérifié par" not in page


def test_the_list_finds_objectors_in_one_query(workspace, member_client, django_assert_num_queries):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            member_client.get(reverse("admin:prospects_prospect_changelist"))
        return len(queries)

    ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED)
    few = count()
    people = ProspectFactory.create_batch(5, workspace=workspace, status=Prospect.Status.VERIFIED)
    prospect_services.suppress_person(workspace, email=people[0].email)

    assert count() == few
    assert list_page(member_client).count("Opposé(e)") == 1


# --- Companies ---------------------------------------------------------------------------


def test_enrichment_fills_the_existing_company_not_a_second_one(
    keyed, http, django_capture_on_commit_callbacks
):
    # As an import followed by enrichment left them: a bare company, and the same one filled.
    bare = CompanyFactory(workspace=keyed, name="ACME Conseil", domain="")
    ProspectFactory(workspace=keyed, company=bare, last_name="Durand", email="d@acme.example")
    known = CompanyFactory(workspace=keyed, name="Acme Conseil", domain="acme-conseil.example")
    ProspectFactory(workspace=keyed, company=known, last_name="Martin")

    prospect = enriched(keyed, http, django_capture_on_commit_callbacks)

    companies = Company.objects.for_workspace(keyed)
    assert list(companies) == [known]
    assert prospect.company_id == known.pk
    assert Prospect.objects.for_workspace(keyed).filter(company=known).count() == 3
    known.refresh_from_db()
    assert known.siren == "732829320"


@pytest.mark.parametrize(
    ("qualification", "said"),
    [
        ("catch_all", "son domaine accepte toutes les adresses"),
        ("ACCEPT_ALL", "son domaine accepte toutes les adresses"),
        ("unknown", "le serveur de messagerie ne s’est pas prononcé"),
        ("nominatif@pro", "nominatif@pro"),
        ("something_new", "something_new"),
    ],
)
def test_a_finders_word_for_an_unconfirmed_address_is_said_in_french(qualification, said):
    prospect = Prospect(
        status=Prospect.Status.NOT_VERIFIED,
        verification_reason=Reason.UNVERIFIED,
        email_qualification=qualification,
    )
    assert prospect.not_verified_reason == f"Adresse trouvée mais non vérifiée ({said})"
