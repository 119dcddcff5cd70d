"""A discovery job in its worker: run end to end against the sandbox's websites, DNS and mail
servers; claimed once; resumed by the sweeper when its message is lost or its worker dies;
failed with a code, then retried."""

import datetime as dt

import pytest
from django.utils import timezone

from config.celery import app
from enrichment import sweeper
from enrichment.discovery import jobs
from enrichment.engine import claims
from enrichment.models import DiscoveredContact, DiscoveryJob, EmailProbe
from enrichment.sandbox.mail_world import NORMAL
from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.websites import has_team_page
from prospects.models import Prospect
from tests.discovery.conftest import dns_server, mail_sandbox, plan, smtp_server, world  # noqa: F401

UNREACHABLE_SITE = "http://127.0.0.1:9/sites/{domain}"


@pytest.fixture(scope="module")
def sites(world):  # noqa: F811
    with start_sandbox(seed=world.seed, size=world.size) as server:
        yield server


@pytest.fixture
def discovering(settings, sites, mail_sandbox):  # noqa: F811
    settings.SOURCIER_DISCOVERY_SITE_URL = f"{sites.url}/sites/{{domain}}"
    return mail_sandbox


@pytest.fixture
def company(world, plan):  # noqa: F811
    return next(
        c
        for c in world.companies
        if has_team_page(c)
        and plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
    )


@pytest.fixture
def no_site(settings):
    """A site that does not answer and probing not configured: a run fails at once."""
    settings.SOURCIER_DISCOVERY_SITE_URL = UNREACHABLE_SITE
    settings.SOURCIER_SMTP_HELO = ""


def test_the_worker_tasks_are_registered():
    for name in ("run_discovery_job_task", "recheck_email_probes_task"):
        assert f"enrichment.tasks.{name}" in app.tasks


def test_discover_a_company_through_the_api(discovering, api, workspace, world, company):  # noqa: F811
    created = api.post("/api/v1/discovery/jobs", {"domain": company.domain})
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    # The task ran once the job was committed (tasks run inline in the tests).
    job = api.get(f"/api/v1/discovery/jobs/{job_id}").json()
    assert job["status"] == "completed", job
    assert job["pages"] >= 2 and job["added"] >= 1 and job["error"] is None
    assert job["checked"] == job["added"]
    assert job["progress"]["percent"] == 100
    found = api.get(f"/api/v1/discovery/contacts?job={job_id}&limit=100").json()
    assert found["count"] == job["added"]
    truth = {(p.first_name, p.last_name): p.true_email for p in world.people}
    verified = [c for c in found["items"] if c["email_status"] == "verified"]
    assert verified
    for contact in verified:
        assert contact["email"] == truth[(contact["first_name"], contact["last_name"])]
    detail = api.get(f"/api/v1/discovery/contacts/{verified[0]['id']}").json()
    assert detail["candidates"][-1]["email"] == verified[0]["email"]
    assert detail["candidates"][-1]["answer"] == "accepted"
    assert not Prospect.objects.for_workspace(workspace).exists()

    approved = api.post(f"/api/v1/discovery/contacts/{verified[0]['id']}/approve", {})
    assert approved.status_code == 200, approved.content
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (prospect.email, prospect.status) == (verified[0]["email"], "verified")


def test_a_key_s_jobs_in_flight_share_its_contacts_quota(
    discovering, member_api, member_key, workspace, company, settings
):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 3}
    # Another job of the key, still running, has added two contacts so far.
    DiscoveryJob.objects.create(
        workspace=workspace,
        domain="autre.fr",
        status="running",
        added=2,
        api_key=member_key.api_key,
    )
    created = member_api.post("/api/v1/discovery/jobs", {"domain": company.domain})
    assert created.status_code == 201, created.content
    job = member_api.get(f"/api/v1/discovery/jobs/{created.json()['id']}").json()
    # It stopped at the quota, and says why, as at the company's.
    assert (job["status"], job["added"]) == ("completed", 1), job
    assert job["people"] >= 2
    assert job["error"]["code"] == "discovery_quota_contacts"
    assert "quota" in job["error"]["message"]
    assert DiscoveredContact.objects.for_workspace(workspace).count() == 1
    refused = member_api.post("/api/v1/discovery/jobs", {"domain": "beta.fr"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "discovery_quota_contacts"


def test_running_a_job_twice_does_it_once(discovering, workspace, company):
    job = DiscoveryJob.objects.create(workspace=workspace, domain=company.domain)
    assert jobs.run_job(job.pk) == "completed"
    probes = EmailProbe.objects.unscoped().count()
    contacts = DiscoveredContact.objects.for_workspace(workspace).count()
    assert jobs.run_job(job.pk) == "not-due"
    assert (EmailProbe.objects.unscoped().count(), contacts) == (
        probes,
        DiscoveredContact.objects.for_workspace(workspace).count(),
    )
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_token) == ("completed", 1, "")


def test_a_lost_message_is_picked_up_by_the_sweeper(no_site, settings, db, workspace):
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    # Created as the route does, but its task message never left (the test's transaction
    # never commits): the sweeper finds it waiting and runs it.
    job = jobs.start_job(workspace, "exemple.fr")
    assert job.status == "pending"
    counts = sweeper.dispatch_due_work()
    assert counts["discoveries"] == 1
    job.refresh_from_db()
    assert (job.status, job.pages, job.error_code) == ("completed", 0, "")
    assert sweeper.dispatch_due_work()["discoveries"] == 0


def test_a_dead_worker_s_job_is_resumed_once_its_lease_ends(no_site, settings, db, workspace):
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    job = DiscoveryJob.objects.create(workspace=workspace, domain="exemple.fr")
    dead = jobs.claim_job(job.pk)  # a worker took it and died
    assert dead is not None and dead.status == "running"
    assert sweeper.dispatch_due_work()["discoveries"] == 0  # its lease still runs
    DiscoveryJob.objects.unscoped().filter(pk=job.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert sweeper.dispatch_due_work()["discoveries"] == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("completed", 2)
    # The dead worker, come back to life, writes nothing over its successor's work.
    with pytest.raises(claims.LeaseLost):
        claims.write_claimed(dead, statuses=("running",), status="failed")


def test_a_job_whose_workers_keep_dying_fails_as_interrupted(no_site, db, workspace):
    job = DiscoveryJob.objects.create(
        workspace=workspace, domain="exemple.fr", status="running", attempts=jobs.MAX_ATTEMPTS
    )
    assert jobs.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "interrupted")


def test_a_failed_job_says_why_and_is_retried_through_the_api(
    no_site, api, settings, db, workspace, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/discovery/jobs", {"domain": "exemple.fr"}).json()
    failed = api.get(f"/api/v1/discovery/jobs/{created['id']}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "probing_not_configured"
    assert "n’est pas configurée" in failed["error"]["message"]

    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post(f"/api/v1/discovery/jobs/{created['id']}/retry", {})
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "pending"  # the answer is the job as it was queued
    done = api.get(f"/api/v1/discovery/jobs/{created['id']}").json()
    assert (done["status"], done["error"], done["attempts"]) == ("completed", None, 1)


def test_a_job_with_people_search_pays_ai_ark_once_and_adds_its_people(
    discovering,
    api,
    workspace,
    sites,
    world,  # noqa: F811
    plan,  # noqa: F811
    settings,
):
    from decimal import Decimal

    from enrichment import credentials
    from enrichment.engine import ledger

    settings.PROVIDER_BASE_URLS = {**settings.PROVIDER_BASE_URLS, "aiark": sites.base_url("aiark")}
    domain = next(
        c.domain
        for c in world.companies
        if not has_team_page(c)
        and plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
        and sum(p.company is c and not p.do_not_contact for p in world.people) >= 2
    )
    body = {"domain": domain, "people_search": True}
    refused = api.post("/api/v1/discovery/jobs", body)
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["code"] == "no_provider_key"
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()

    credentials.set_api_key(workspace, "aiark", "sandbox-key")
    ledger.top_up(workspace.pk, Decimal("5"), key="api-people-search")
    created = api.post("/api/v1/discovery/jobs", body)
    assert created.status_code == 201, created.content
    job = api.get(f"/api/v1/discovery/jobs/{created.json()['id']}").json()
    assert job["status"] == "completed" and job["people_search"] is True, job
    assert job["provider_people"] > 0
    assert Decimal(str(job["cost"])) == ledger.spent_total(workspace.pk) > 0
    assert (
        DiscoveredContact.objects.for_workspace(workspace)
        .filter(method=DiscoveredContact.Method.PROVIDER)
        .count()
        == job["provider_people"]
    )


def test_a_job_with_people_search_and_only_an_apollo_key_adds_apollo_s_people(
    discovering,
    api,
    workspace,
    sites,
    world,  # noqa: F811
    plan,  # noqa: F811
    settings,
):
    from decimal import Decimal

    from enrichment import credentials
    from enrichment.engine import ledger

    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        "apollo": sites.base_url("apollo"),
    }
    domain = next(
        c.domain
        for c in world.companies
        if not has_team_page(c)
        and plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
        and sum(p.company is c and not p.do_not_contact for p in world.people) >= 2
    )
    credentials.set_api_key(workspace, "apollo", "sandbox-key")
    ledger.top_up(workspace.pk, Decimal("5"), key="api-apollo-people-search")
    created = api.post("/api/v1/discovery/jobs", {"domain": domain, "people_search": True})
    assert created.status_code == 201, created.content
    job = api.get(f"/api/v1/discovery/jobs/{created.json()['id']}").json()
    assert job["status"] == "completed" and job["provider_people"] > 0, job
    assert Decimal(str(job["cost"])) == ledger.spent_total(workspace.pk) > 0
    sources = set(
        DiscoveredContact.objects.for_workspace(workspace)
        .filter(method=DiscoveredContact.Method.PROVIDER)
        .values_list("source", flat=True)
    )
    assert sources == {"apollo"}
