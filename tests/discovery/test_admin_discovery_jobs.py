"""Discovery started from the admin: the form on the approval queue starts the same job as the
API, its run is listed with its counters, the paid people search is for administrators only,
and another workspace's runs are not there; French messages, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrichment.models import DiscoveredContact, DiscoveryJob
from tests.api.test_discovery_worker import company, discovering, sites  # noqa: F401
from tests.discovery.conftest import dns_server, mail_sandbox, plan, smtp_server, world  # noqa: F401

QUEUE = reverse("admin:enrichment_discoveredcontact_changelist")
START = reverse("admin:enrichment_discoveryjob_start")
RUNS = reverse("admin:enrichment_discoveryjob_changelist")


def start(client, capture, **fields):
    with capture(execute=True):
        response = client.post(START, {"domain": "", **fields})
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def test_the_queue_links_to_the_french_form(member_client, workspace):
    assert f'href="{START}"' in member_client.get(QUEUE).content.decode()
    page = member_client.get(START).content.decode()
    assert "Découvrir les contacts d’une entreprise" in page
    assert "Lancer la découverte" in page
    # The paid people search is not offered to a member.
    assert "people_search" not in page


def test_a_discovery_started_from_the_admin_runs_and_is_listed(
    discovering, admin_client_ws, workspace, company, django_capture_on_commit_callbacks  # noqa: F811
):
    assert 'name="people_search"' in admin_client_ws.get(START).content.decode()
    response, said = start(
        admin_client_ws, django_capture_on_commit_callbacks, domain=f"https://www.{company.domain}/"
    )
    assert response.status_code == 302 and response["Location"] == RUNS
    assert any("Découverte de " + company.domain in m for m in said), said
    job = DiscoveryJob.objects.for_workspace(workspace).get()
    assert (job.domain, job.status, job.people_search) == (company.domain, "completed", False)
    assert job.added >= 1
    found = DiscoveredContact.objects.for_workspace(workspace).filter(domain=company.domain)
    assert found.count() == job.added
    runs = admin_client_ws.get(RUNS).content.decode()
    assert company.domain in runs and job.get_status_display() in runs
    assert "0,00\u00a0€" in runs  # what it cost, as the other money pages write it
    # The count of new contacts leads to them in the approval queue.
    assert f'href="{QUEUE}?domain={company.domain}"' in runs
    theirs = admin_client_ws.get(f"{QUEUE}?domain={company.domain}")
    assert theirs.status_code == 200 and theirs.context["cl"].result_count == job.added


def test_a_member_cannot_ask_for_the_paid_people_search(
    member_client, workspace, django_capture_on_commit_callbacks, settings
):
    settings.SOURCIER_DISCOVERY_SITE_URL = "http://127.0.0.1:9/sites/{domain}"
    capture = django_capture_on_commit_callbacks
    start(member_client, capture, domain="exemple.fr", people_search="on")
    job = DiscoveryJob.objects.for_workspace(workspace).get()
    assert job.people_search is False


@pytest.mark.parametrize("domain", ["", "localhost", "pas un domaine"])
def test_a_bad_domain_is_refused_in_french_and_nothing_starts(
    member_client, workspace, domain, django_capture_on_commit_callbacks
):
    response, _said = start(member_client, django_capture_on_commit_callbacks, domain=domain)
    assert response.status_code == 200
    page = response.content.decode()
    assert "errorlist" in page
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()


def test_another_workspace_s_runs_are_not_listed(member_client, workspace, other_workspace):
    theirs = DiscoveryJob.objects.create(workspace=other_workspace, domain="concurrent.fr")
    assert "concurrent.fr" not in member_client.get(RUNS).content.decode()
    change = reverse("admin:enrichment_discoveryjob_change", args=[theirs.pk])
    assert member_client.get(change).status_code in (302, 404)


def test_a_run_asked_for_by_an_api_key_names_the_key(member_client, workspace):
    from prospects.api_keys import create_api_key

    key = create_api_key(workspace, name="CRM Lyon", role="member").api_key
    job = DiscoveryJob.objects.create(workspace=workspace, domain="alpha.fr", api_key=key)
    page = member_client.get(reverse("admin:enrichment_discoveryjob_change", args=[job.pk]))
    assert "clé d’API « CRM Lyon »" in page.content.decode()


def test_a_failed_run_starts_again_but_a_paid_one_only_for_an_administrator(
    member_client, admin_client_ws, workspace, django_capture_on_commit_callbacks, settings
):
    settings.SOURCIER_DISCOVERY_SITE_URL = "http://127.0.0.1:9/sites/{domain}"
    failed = DiscoveryJob.Status.FAILED
    free = DiscoveryJob.objects.create(workspace=workspace, domain="libre.fr", status=failed)
    paid = DiscoveryJob.objects.create(
        workspace=workspace, domain="payant.fr", status=failed, people_search=True
    )
    action = {"action": "retry", "_selected_action": [free.pk, paid.pk]}
    with django_capture_on_commit_callbacks(execute=False):
        response = member_client.post(RUNS, action)
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("payant.fr" in m and "administrateur" in m for m in said), said
    free.refresh_from_db()
    paid.refresh_from_db()
    assert (free.status, paid.status) == ("pending", "failed")
    with django_capture_on_commit_callbacks(execute=False):
        admin_client_ws.post(RUNS, {**action, "_selected_action": [paid.pk]})
    paid.refresh_from_db()
    assert paid.status == "pending"
