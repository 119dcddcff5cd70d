"""The discovery routes: jobs (create within quotas, list, detail, retry) and the discovered
contacts (list with filters, detail with the addresses tried, approve, link, delete)."""

import pytest

from enrichment.models import DiscoveredContact, DiscoveryJob, EmailProbe
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.factories import ProspectFactory

from .support import make_discovery
from .test_auth import assert_envelope

JOBS = "/api/v1/discovery/jobs"
CONTACTS = "/api/v1/discovery/contacts"


# --- Jobs --------------------------------------------------------------------------------


def test_a_discovery_job_is_created_waiting_for_a_worker(api, workspace, admin_key):
    response = api.post(JOBS, {"domain": "https://www.Exemple.fr/equipe"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["domain"], body["status"], body["error"]) == ("exemple.fr", "pending", None)
    assert body["progress"] == {"total": 0, "done": 0, "percent": 0}
    job = DiscoveryJob.objects.for_workspace(workspace).get()
    assert (job.pk, job.api_key_id, job.requested_by_id) == (body["id"], admin_key.api_key.pk, None)
    assert api.get(f"{JOBS}/{job.pk}").json() == body


def test_a_member_key_may_discover(member_api, workspace):
    assert member_api.post(JOBS, {"domain": "exemple.fr"}).status_code == 201


def test_a_people_search_spends_money_so_it_needs_an_admin_key(member_api, api, workspace):
    from enrichment import credentials

    credentials.set_api_key(workspace, "aiark", "sandbox-key")
    body = {"domain": "exemple.fr", "people_search": True}
    assert_envelope(member_api.post(JOBS, body), 403, "forbidden")
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()
    assert member_api.post(JOBS, {**body, "people_search": False}).status_code == 201
    assert api.post(JOBS, body).status_code == 201
    # Retrying a failed people search spends again: an admin key too.
    paid = DiscoveryJob.objects.for_workspace(workspace).get(people_search=True)
    DiscoveryJob.objects.for_workspace(workspace).update(status="failed")
    assert_envelope(member_api.post(f"{JOBS}/{paid.pk}/retry", {}), 403, "forbidden")
    assert DiscoveryJob.objects.for_workspace(workspace).get(pk=paid.pk).status == "failed"
    free = DiscoveryJob.objects.for_workspace(workspace).get(people_search=False)
    assert member_api.post(f"{JOBS}/{free.pk}/retry", {}).status_code == 200


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", None])
def test_people_search_is_a_json_boolean_only(api, workspace, value):
    refused = api.post(JOBS, {"domain": "exemple.fr", "people_search": value})
    body = assert_envelope(refused, 422, "validation_error")
    (field,) = body["error"]["fields"]
    assert (field["loc"][-1], field["type"]) == ("people_search", "bool_type")
    assert field["msg"] == "true ou false est attendu."
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()


def test_the_same_idempotency_key_replays_the_job(api, workspace):
    key = {"Idempotency-Key": "decouverte-1"}
    first = api.post(JOBS, {"domain": "exemple.fr"}, headers=key)
    again = api.post(JOBS, {"domain": "exemple.fr"}, headers=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert DiscoveryJob.objects.for_workspace(workspace).count() == 1
    other = api.post(JOBS, {"domain": "autre.fr"}, headers=key)
    assert_envelope(other, 422, "idempotency_key_reused")
    assert DiscoveryJob.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    "domain",
    [
        *("localhost", "pas un domaine", "[oops", "exemple"),
        *("exa mple.fr", "ab\x00c.fr", "-x.fr", "x_y.fr"),
        # Reserved names no mail goes to (RFC 6761), refused as verify_emails refuses them.
        *("foo.localhost", "société.invalid", "www.acme.test", "xn--a.fr"),
    ],
)
def test_an_invalid_domain_is_refused(api, workspace, domain):
    assert_envelope(api.post(JOBS, {"domain": domain}), 422, "invalid_domain")
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()


def test_a_reserved_name_is_refused_with_its_reason_in_french(api, workspace):
    refused = api.post(JOBS, {"domain": "https://foo.localhost/equipe"})
    assert_envelope(refused, 422, "invalid_domain")
    assert refused.json()["error"]["message"].startswith(
        "foo.localhost est un nom réservé où aucun courrier n’arrive"
    )


def test_the_parallel_jobs_quota_is_a_429_in_the_request_s_language(api, settings, workspace):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"jobs_per_user": 1}
    api.post(JOBS, {"domain": "exemple.fr"})
    french = api.post(JOBS, {"domain": "autre.fr"})
    english = api.post(JOBS, {"domain": "autre.fr"}, headers={"Accept-Language": "en"})
    assert_envelope(french, 429, "discovery_quota_jobs")
    assert "déjà en cours" in french.json()["error"]["message"]
    assert english.json()["error"]["message"].startswith("1 discovery is already running")
    assert DiscoveryJob.objects.for_workspace(workspace).count() == 1


def test_the_quotas_count_per_key(api, admin_key, member_api, settings, workspace):
    settings.SOURCIER_DISCOVERY_QUOTAS = {
        "contacts_per_user_per_day": 2,
        "emails_per_user_per_day": 3,
    }
    make_discovery(workspace, domain="alpha.fr", api_key=admin_key.api_key)
    assert_envelope(api.post(JOBS, {"domain": "beta.fr"}), 429, "discovery_quota_contacts")
    # Another key has its own quota.
    assert member_api.post(JOBS, {"domain": "beta.fr"}).status_code == 201
    DiscoveryJob.objects.for_workspace(workspace).filter(domain="alpha.fr").update(
        added=0, checked=3
    )
    assert_envelope(api.post(JOBS, {"domain": "beta.fr"}), 429, "discovery_quota_emails")


def test_a_company_with_the_most_contacts_is_a_422(api, settings, workspace):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 2}
    make_discovery(workspace, domain="exemple.fr")
    assert_envelope(api.post(JOBS, {"domain": "exemple.fr"}), 422, "discovery_quota_company")
    assert api.post(JOBS, {"domain": "autre.fr"}).status_code == 201


def test_list_jobs_filters_and_paginates(api, workspace, other_workspace):
    for n in range(3):
        make_discovery(workspace, domain=f"societe{n}.fr")
    make_discovery(workspace, domain="rate.fr", status="failed", error_code="interrupted")
    make_discovery(other_workspace, domain="autre.fr")
    page = api.get(f"{JOBS}?limit=2&page=2").json()
    assert (page["count"], page["pages"], len(page["items"])) == (4, 2, 2)
    failed = api.get(f"{JOBS}?status=failed").json()["items"]
    assert [j["domain"] for j in failed] == ["rate.fr"]
    assert failed[0]["error"]["code"] == "interrupted"
    assert failed[0]["error"]["message"].startswith("Les workers")
    assert [j["domain"] for j in api.get(f"{JOBS}?domain=Societe1.fr").json()["items"]] == [
        "societe1.fr"
    ]
    assert [j["domain"] for j in api.get(f"{JOBS}?domain=www.societe2.fr").json()["items"]] == [
        "societe2.fr"
    ]
    nul = assert_envelope(api.get(f"{JOBS}?domain=%00"), 422, "validation_error")
    assert nul["error"]["fields"][0]["msg"] == "Le texte contient un caractère interdit (NUL)."
    refused = assert_envelope(api.get(f"{JOBS}?status=perdu"), 422, "validation_error")
    (field,) = refused["error"]["fields"]
    assert field["type"] in ("literal_error", "enum")
    assert field["msg"].startswith("Doit être l'une de ces valeurs : ")
    assert " or " not in field["msg"] and "' ou '" in field["msg"]


def test_only_a_failed_job_is_retried(api, workspace):
    done = make_discovery(workspace, domain="fini.fr")
    refused = api.post(f"{JOBS}/{done.pk}/retry", {})
    assert_envelope(refused, 409, "not_retryable")
    failed = make_discovery(workspace, domain="rate.fr", status="failed", attempts=3)
    failed.error_code = "internal_error"
    failed.save()
    response = api.post(f"{JOBS}/{failed.pk}/retry", {}, headers={"Idempotency-Key": "r-1"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["error"]) == ("pending", None)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error_code) == ("pending", 0, "")
    # Replayed with the same key: the stored answer, nothing retried twice.
    again = api.post(f"{JOBS}/{failed.pk}/retry", {}, headers={"Idempotency-Key": "r-1"})
    assert again.json() == response.json()
    assert_envelope(api.post(f"{JOBS}/{failed.pk}/retry", {}), 409, "not_retryable")


# --- Contacts ----------------------------------------------------------------------------


def test_list_contacts_filters_by_status_domain_and_job(api, workspace, other_workspace):
    first = make_discovery(workspace, domain="alpha.fr")
    second = make_discovery(workspace, domain="beta.fr")
    theirs = make_discovery(other_workspace, domain="alpha.fr")
    everyone = api.get(CONTACTS).json()
    assert everyone["count"] == 4
    by_job = api.get(f"{CONTACTS}?job={second.pk}").json()["items"]
    assert sorted(c["id"] for c in by_job) == sorted(second.contact_ids)
    assert api.get(f"{CONTACTS}?job={theirs.pk}").json()["count"] == 0
    assert api.get(f"{CONTACTS}?domain=ALPHA.fr").json()["count"] == 2
    assert api.get(f"{CONTACTS}?domain=https://www.alpha.fr/").json()["count"] == 2
    assert api.get(f"{CONTACTS}?domain=pas un domaine").json()["count"] == 0
    DiscoveredContact.objects.for_workspace(workspace).filter(pk=first.contact_ids[0]).update(
        status="rejected"
    )
    rejected = api.get(f"{CONTACTS}?status=rejected").json()["items"]
    assert [c["id"] for c in rejected] == [first.contact_ids[0]]


def test_contact_detail_has_the_addresses_tried_and_their_answers(api, workspace):
    job = make_discovery(workspace)
    EmailProbe.objects.create(
        workspace=workspace,
        key=f"{workspace.pk}:anne.legall@exemple.fr:1",
        email="anne.legall@exemple.fr",
        domain="exemple.fr",
        pattern="first.last",
        status="accepted",
        mail_host="mx1.exemple.fr",
        reply_code=250,
        created_at="2026-12-01T10:00:00Z",
        finished_at="2026-12-01T10:00:01Z",
    )
    anne = api.get(f"{CONTACTS}/{job.contact_ids[0]}").json()
    assert (anne["email"], anne["email_status"], anne["score"]) == (
        "anne.legall@exemple.fr",
        "verified",
        92,
    )
    assert anne["evidence"] == "3 adresses connues, toutes prenom.nom"
    assert anne["candidates"] == [
        {
            "email": "anne.legall@exemple.fr",
            "pattern": "first.last",
            "answer": "accepted",
            "reply_code": 250,
            "mail_host": "mx1.exemple.fr",
            "checked_at": "2026-12-01T10:00:01Z",
        }
    ]
    paul = api.get(f"{CONTACTS}/{job.contact_ids[1]}").json()
    assert (paul["email"], paul["reason"]) == ("", "no_mailbox_found")
    assert paul["candidates"][0]["answer"] == ""


def test_only_an_admin_key_deletes_a_contact(api, member_api, workspace):
    job = make_discovery(workspace)
    contact_id = job.contact_ids[0]
    assert_envelope(member_api.delete(f"{CONTACTS}/{contact_id}"), 403, "forbidden")
    response = api.delete(f"{CONTACTS}/{contact_id}")
    assert response.status_code == 204
    assert not DiscoveredContact.objects.for_workspace(workspace).filter(pk=contact_id).exists()
    assert_envelope(api.delete(f"{CONTACTS}/{contact_id}"), 404, "not_found")


def test_approve_creates_the_verified_prospect_once(member_api, workspace):
    job = make_discovery(workspace)
    path = f"{CONTACTS}/{job.contact_ids[0]}/approve"
    key = {"Idempotency-Key": "approuver-anne"}
    response = member_api.post(path, {}, headers=key)
    assert response.status_code == 200, response.content
    body = response.json()
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (body["status"], body["prospect_id"]) == ("approved", prospect.pk)
    assert (prospect.email, prospect.status, prospect.source) == (
        "anne.legall@exemple.fr",
        "verified",
        "discovery",
    )
    # The contact now belongs to the company its prospect was filed under.
    assert prospect.company_id is not None and body["company_id"] == prospect.company_id
    assert member_api.post(path, {}, headers=key).json() == body
    assert_envelope(member_api.post(path, {}), 409, "already_decided")
    assert Prospect.objects.for_workspace(workspace).count() == 1


def test_approving_someone_who_objected_is_refused_and_rejects_them(api, workspace):
    job = make_discovery(workspace)
    prospect_services.suppress_person(workspace, email="anne.legall@exemple.fr")
    refused = api.post(f"{CONTACTS}/{job.contact_ids[0]}/approve", {})
    assert_envelope(refused, 422, "objected")
    assert not Prospect.objects.for_workspace(workspace).exists()
    contact = DiscoveredContact.objects.for_workspace(workspace).get(pk=job.contact_ids[0])
    assert contact.status == "rejected"


def test_link_approves_the_contact_as_an_existing_prospect(api, workspace):
    job = make_discovery(workspace)
    prospect = ProspectFactory(workspace=workspace, email="", status="not_verified")
    link = f"{CONTACTS}/{job.contact_ids[0]}/link"
    for loose in (str(prospect.pk), True):
        refused = assert_envelope(api.post(link, {"prospect_id": loose}), 422, "validation_error")
        assert refused["error"]["fields"][0]["msg"] == "Un nombre entier est attendu."
    response = api.post(link, {"prospect_id": float(prospect.pk)})  # a JSON number: 40.0
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["prospect_id"]) == (
        "approved",
        prospect.pk,
    )
    prospect.refresh_from_db()
    assert (prospect.email, prospect.status) == ("anne.legall@exemple.fr", "verified")
    assert Prospect.objects.for_workspace(workspace).count() == 1
    # Linked to a prospect of another company: the contact keeps none rather than that one.
    assert prospect.company.domain != "exemple.fr" and response.json()["company_id"] is None


def test_an_address_taken_by_another_prospect_is_a_409_and_changes_nothing(api, workspace):
    job = make_discovery(workspace)
    ProspectFactory(workspace=workspace, email="anne.legall@exemple.fr")
    other = ProspectFactory(workspace=workspace, email="", status="not_verified")
    response = api.post(f"{CONTACTS}/{job.contact_ids[0]}/link", {"prospect_id": other.pk})
    assert_envelope(response, 409, "address_taken")
    other.refresh_from_db()
    assert other.email == ""
    contact = DiscoveredContact.objects.for_workspace(workspace).get(pk=job.contact_ids[0])
    assert (contact.status, contact.prospect_id) == ("pending", None)


def test_link_refuses_a_decided_contact_and_a_missing_prospect(api, workspace):
    job = make_discovery(workspace)
    prospect = ProspectFactory(workspace=workspace)
    path = f"{CONTACTS}/{job.contact_ids[1]}/link"
    assert_envelope(api.post(path, {"prospect_id": 987654321}), 404, "not_found")
    assert_envelope(api.post(path, {"prospect_id": 0}), 422, "validation_error")
    api.post(f"{CONTACTS}/{job.contact_ids[1]}/approve", {})
    assert_envelope(api.post(path, {"prospect_id": prospect.pk}), 409, "already_decided")


def test_reject_keeps_the_contact_from_the_prospects_and_refuses_a_decided_one(
    member_api, workspace
):
    job = make_discovery(workspace)
    first, second = job.contact_ids[:2]
    response = member_api.post(f"{CONTACTS}/{first}/reject", {})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["prospect_id"]) == ("rejected", None)
    assert not Prospect.objects.for_workspace(workspace).exists()
    again = member_api.post(f"{CONTACTS}/{first}/reject", {})
    assert_envelope(again, 409, "already_decided")
    assert again.json()["error"]["message"].startswith("Déjà refusé")
    member_api.post(f"{CONTACTS}/{second}/approve", {})
    approved = member_api.post(f"{CONTACTS}/{second}/reject", {})
    assert_envelope(approved, 409, "already_decided")
    assert approved.json()["error"]["message"].startswith("Déjà approuvé")
    contact = DiscoveredContact.objects.for_workspace(workspace).get(pk=second)
    assert contact.status == "approved"


def test_stats_count_the_discovery(api, workspace, other_workspace):
    make_discovery(workspace)
    make_discovery(workspace, domain="rate.fr", status="failed")
    make_discovery(other_workspace, domain="autre.fr")
    stats = api.get("/api/v1/stats").json()
    assert (stats["contacts_discovered"], stats["discovered_emails_verified"]) == (4, 2)
    assert stats["discovered_contacts_pending"] == 4
    assert (stats["discovery_jobs_completed"], stats["discovery_jobs_failed"]) == (1, 1)
    assert stats["discovery_jobs_running"] == 0
