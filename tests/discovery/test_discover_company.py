"""`discover_company` and `manage.py discover_contacts`: a company's pages read through the
sandbox's websites, each person's address found and checked on its DNS and mail servers."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.discovery import contacts
from enrichment.discovery.company import discover_company, fetch_page
from enrichment.discovery.warning_texts import warning_text
from enrichment.models import DiscoveredContact, EmailProbe
from enrichment.sandbox.mail_world import BLOCKLIST, NORMAL
from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.websites import has_team_page
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.factories import WorkspaceFactory


@pytest.fixture(scope="module")
def sites(world):
    # The same seed and size as the DNS and mail servers' world: the same companies.
    with start_sandbox(seed=world.seed, size=world.size) as server:
        yield server


@pytest.fixture
def discovering(settings, sites, mail_sandbox):
    settings.SOURCIER_DISCOVERY_SITE_URL = f"{sites.url}/sites/{{domain}}"
    return mail_sandbox


@pytest.fixture
def company(world, plan):
    """A company with a team page and ordinary mail hosts that refuse unknown mailboxes."""
    return next(
        c
        for c in world.companies
        if has_team_page(c)
        and plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
    )


def staff(world, company):
    return [p for p in world.people if p.company is company]


def test_people_on_the_site_wait_for_approval_with_their_checked_address(
    discovering, world, company
):
    workspace = WorkspaceFactory()
    run = discover_company(workspace, company.domain)

    people = staff(world, company)
    assert run.pages >= 2 and run.people >= len(people) - 1
    found = DiscoveredContact.objects.for_workspace(workspace)
    assert found.count() == run.added == len(run.contact_ids)
    assert set(found.values_list("status", flat=True)) == {"pending"}
    truth = {(p.first_name, p.last_name): p.true_email for p in people}
    for contact in found:
        assert contact.checked_at is not None
        if contact.email_status == "verified":
            assert contact.email == truth[(contact.first_name, contact.last_name)]
    assert found.filter(email_status="verified").count() >= len(people) // 2
    assert not Prospect.objects.for_workspace(workspace).exists()
    # No session ever sent DATA or VRFY.
    assert not any(s.saw_data or s.saw_vrfy for s in discovering.sessions)


def test_a_companys_people_are_checked_together(discovering, world, company):
    """Their candidates are asked in rounds together: one INSERT of probe rows carries
    several addresses, where one person at a time wrote one per address."""
    workspace = WorkspaceFactory()
    with CaptureQueriesContext(connection) as queries:
        run = discover_company(workspace, company.domain)
    assert sum(run.statuses.values()) >= 3
    rcpts = [address for s in discovering.sessions for address, _code in s.rcpts]
    inserts = [
        q for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "enrichment_emailprobe"')
    ]  # fmt: skip
    assert len(inserts) < len(rcpts)
    assert len(set(rcpts)) == len(rcpts)


def test_the_progress_goes_on_while_a_group_is_asked(discovering, company):
    """A job's lease lives on its progress: it is told between the waves of rounds too, not
    only once a group of contacts is done (a slow host could outlast the lease)."""
    calls = []
    run = discover_company(
        WorkspaceFactory(), company.domain, progress=lambda done, total: calls.append(done)
    )
    assert len(run.contact_ids) <= 25  # one group
    assert len(calls) > 2
    assert calls == sorted(calls) and calls[-1] == run.people


def test_a_second_run_adds_no_one_and_sends_no_new_probe(discovering, company):
    workspace = WorkspaceFactory()
    discover_company(workspace, company.domain)
    probes = EmailProbe.objects.unscoped().count()
    again = discover_company(workspace, company.domain)
    assert again.added == 0
    assert EmailProbe.objects.unscoped().count() == probes


def test_someone_who_objected_is_never_probed(discovering, world, company):
    workspace = WorkspaceFactory()
    person = next(p for p in staff(world, company) if p.true_email)
    prospect_services.suppress_person(workspace, email=person.true_email)

    run = discover_company(workspace, company.domain)

    assert run.objected >= 1
    names = {
        (c.first_name, c.last_name) for c in DiscoveredContact.objects.for_workspace(workspace)
    }
    assert (person.first_name, person.last_name) not in names
    asked = {address for s in discovering.sessions for address, _code in s.rcpts}
    assert person.true_email not in asked


def test_the_company_quota_stops_the_run_with_its_reason(discovering, settings, company):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 1}
    workspace = WorkspaceFactory()
    run = discover_company(workspace, company.domain)
    assert run.added == 1
    assert "le maximum par entreprise" in run.refused


def test_a_site_that_does_not_answer_gives_no_one(discovering, settings):
    settings.SOURCIER_DISCOVERY_SITE_URL = "http://127.0.0.1:9/sites/{domain}"
    workspace = WorkspaceFactory()
    run = discover_company(workspace, "alpha.fr")
    assert (run.pages, run.people, run.added) == (0, 0, 0)
    # Said so: an empty run that did not see the site is not a site that names nobody.
    assert run.warnings == {"site_unreadable"}
    assert warning_text("site_unreadable").startswith(
        "Aucune page du site de l’entreprise n’a pu être lue"
    )


def test_a_site_read_gives_no_unreadable_warning(discovering, company):
    run = discover_company(WorkspaceFactory(), company.domain, smtp=False)
    assert run.pages >= 1 and "site_unreadable" not in run.warnings


def test_a_private_address_is_never_fetched(settings, transactional_db):
    import socket

    # Without the sandbox, a company's site is fetched from the internet only.
    settings.SOURCIER_DISCOVERY_SITE_URL = ""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        for url in (
            f"http://127.0.0.1:{port}/",
            f"http://localhost:{port}/equipe",
            f"http://[::ffff:127.0.0.1]:{port}/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
        ):
            assert fetch_page(url) is None
        with pytest.raises(OSError):
            listener.accept()  # nothing ever connected
    workspace = WorkspaceFactory()
    for domain in ("localhost", "pas un domaine", ""):
        with pytest.raises(contacts.DiscoveryRefused):
            discover_company(workspace, domain, smtp=False)


def test_the_command_prints_a_json_last_line(discovering, company):
    workspace = WorkspaceFactory()
    out = io.StringIO()
    call_command(
        "discover_contacts",
        "--workspace",
        workspace.slug,
        "--domain",
        company.domain,
        "--wait",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert last["domain"] == company.domain
    assert last["added"] == len(last["contacts"]) >= 1
    assert sum(last["statuses"].values()) == last["added"]
    with pytest.raises(CommandError, match="personne"):
        call_command("discover_contacts", "--workspace", "personne", "--domain", "x.fr")
    with pytest.raises(CommandError, match="Domaine invalide"):
        call_command(
            "discover_contacts", "--workspace", workspace.slug, "--domain", "a" * 300 + ".fr"
        )
    with pytest.raises(CommandError, match=r"foo\.localhost est un nom réservé"):
        call_command(
            "discover_contacts", "--workspace", workspace.slug, "--domain", "foo.localhost"
        )


def test_each_contact_found_is_one_webhook_event(discovering, settings, company):
    from enrichment.webhooks import services as webhooks
    from enrichment.webhooks.models import WebhookEvent

    settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    workspace = WorkspaceFactory()
    webhooks.create_endpoint(
        workspace, url="http://127.0.0.1:9/hook", events=["discovery.contact_found"]
    )
    run = discover_company(workspace, company.domain)
    discover_company(workspace, company.domain)
    found = WebhookEvent.objects.for_workspace(workspace).filter(type="discovery.contact_found")
    with_email = DiscoveredContact.objects.for_workspace(workspace).exclude(email="").count()
    assert found.count() == with_email >= 1
    assert with_email <= run.added


def test_the_command_says_in_french_why_probing_was_held_back(discovering, world, plan):
    blocking = next(
        c for c in world.companies if has_team_page(c) and plan.kinds.get(c.domain) == BLOCKLIST
    )
    out = io.StringIO()
    call_command(
        "discover_contacts",
        "--workspace",
        WorkspaceFactory().slug,
        "--domain",
        blocking.domain,
        stdout=out,
        stderr=io.StringIO(),
    )
    said = out.getvalue()
    assert "a répondu par une liste de blocage : la sonde de ce serveur est suspendue" in said
    assert "mail_host_blocked_us" not in said


def test_the_addresses_checked_quota_stops_a_running_job_at_the_quota(
    discovering, settings, world, company
):
    """The quota of addresses checked in 24 hours is taken before each group of contacts is
    checked, not counted at the job's end: a job past it stops there, the rest unchecked."""
    from enrichment.discovery import jobs
    from enrichment.models import DiscoveryJob
    from tests.factories import UserFactory

    assert len(staff(world, company)) >= 3
    settings.SOURCIER_DISCOVERY_QUOTAS = {"emails_per_user_per_day": 3}
    workspace, user = WorkspaceFactory(), UserFactory()
    DiscoveryJob.objects.create(
        workspace=workspace, domain="autre.fr", status="completed", requested_by=user, checked=1
    )
    job = DiscoveryJob.objects.create(workspace=workspace, domain=company.domain, requested_by=user)
    assert jobs.run_job(job.pk) == "completed"
    job.refresh_from_db()
    assert (job.checked, job.error_code) == (2, "discovery_quota_emails")
    assert "quota d’adresses vérifiées" in jobs.error_message(job.error_code)
    found = DiscoveredContact.objects.for_workspace(workspace)
    assert found.exclude(checked_at=None).count() == 2
    assert found.filter(checked_at=None).count() == found.count() - 2 >= 1
    # The requester has nothing left today: a new job is refused at once.
    with pytest.raises(contacts.DiscoveryRefused) as refused:
        jobs.start_job(workspace, "beta.fr", user=user)
    assert refused.value.code == "discovery_quota_emails"


def test_a_retried_jobs_earlier_checks_still_count(discovering, world, company):
    # A job retried after its worker died: what its first attempt checked stays counted.
    from enrichment.discovery import jobs
    from enrichment.models import DiscoveryJob

    workspace = WorkspaceFactory()
    job = DiscoveryJob.objects.create(
        workspace=workspace, domain=company.domain, checked=2, attempts=1
    )
    assert jobs.run_job(job.pk) == "completed"
    job.refresh_from_db()
    checked_now = DiscoveredContact.objects.for_workspace(workspace).exclude(checked_at=None)
    assert checked_now.count() >= 1
    assert job.checked == 2 + checked_now.count()
