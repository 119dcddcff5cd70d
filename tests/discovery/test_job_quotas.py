"""The contacts quota per requester (an API key, or a person) holds across the requester's
jobs while they run: each contact a job adds is counted on it at once, under a lock on the
requester's jobs, so a running job stops at the quota and a job in flight counts."""

import contextlib

import pytest

from enrichment.discovery import contacts, jobs, quotas
from enrichment.models import DiscoveredContact, DiscoveryJob
from prospects.api_keys import create_api_key

NAMES = ["Anne", "Paul", "Marie", "Louis", "Claire", "Hugo", "Léa", "Jules"]


@pytest.fixture
def key(workspace):
    return create_api_key(workspace, name="crm", role="member").api_key


def running(workspace, domain, **requester):
    return DiscoveryJob.objects.create(
        workspace=workspace, domain=domain, status="running", **requester
    )


def add_all_at_once(started, lasts) -> list[bool]:
    """Each job, in a thread of its own started together, adds NAMES with its own last name
    (a quota's refusal skips that one); whether each addition created a contact."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(started))
    added: list[bool] = []

    def worker(job, last):
        try:
            barrier.wait()
            for name in NAMES:
                with contextlib.suppress(quotas.DiscoveryRefused):
                    added.append(add(job, name, last)[1])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(job, last))
        for job, last in zip(started, lasts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return added


def add(job, first, last="Martin"):
    return contacts.add_contact(
        job.workspace,
        first_name=first,
        last_name=last,
        domain=job.domain,
        method="website",
        user=job.requested_by,
        allowance=quotas.JobContacts(job),
    )


def test_a_running_job_counts_its_contacts_as_it_adds_them(workspace, key, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 2}
    job = running(workspace, "alpha.fr", api_key=key)
    add(job, "Anne")
    add(job, "Anne")  # already known: costs nothing
    add(job, "Paul")
    job.refresh_from_db()
    assert (job.status, job.added) == ("running", 2)
    # The job still runs, and the key has no contact left: a new job is refused.
    with pytest.raises(quotas.DiscoveryRefused) as refused:
        jobs.start_job(workspace, "beta.fr", api_key=key)
    assert refused.value.code == "discovery_quota_contacts"
    with pytest.raises(quotas.DiscoveryRefused, match="quota de 2 contacts découverts"):
        add(job, "Marie")
    assert DiscoveredContact.objects.for_workspace(workspace).count() == 2


def test_parallel_jobs_of_one_key_share_its_quota(workspace, key, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 3}
    first, second = (
        running(workspace, "alpha.fr", api_key=key),
        running(workspace, "beta.fr", api_key=key),
    )
    other_key = create_api_key(workspace, name="autre", role="member").api_key
    theirs = running(workspace, "gamma.fr", api_key=other_key)
    added = 0
    for name in NAMES:
        for job in (first, second):
            with contextlib.suppress(quotas.DiscoveryRefused):
                added += add(job, name)[1]
    assert added == 3
    assert (
        sum(
            DiscoveryJob.objects.for_workspace(workspace)
            .filter(api_key=key)
            .values_list("added", flat=True)
        )
        == 3
    )
    # Another key has its own quota.
    assert [add(theirs, name)[1] for name in NAMES[:3]] == [True] * 3


def test_a_person_s_jobs_share_their_quota_too(workspace, member, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 2}
    first = running(workspace, "alpha.fr", requested_by=member)
    second = running(workspace, "beta.fr", requested_by=member)
    add(first, "Anne")
    add(second, "Paul")
    with pytest.raises(quotas.DiscoveryRefused):
        add(first, "Marie")
    with pytest.raises(quotas.DiscoveryRefused):
        jobs.start_job(workspace, "gamma.fr", user=member)


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_of_one_key_never_pass_its_quota(settings):

    from django.db import connection

    from tests.factories import WorkspaceFactory

    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 7}
    workspace = WorkspaceFactory()
    key = create_api_key(workspace, name="crm", role="member").api_key
    started = [running(workspace, f"societe{n}.fr", api_key=key) for n in range(4)]
    added = add_all_at_once(started, ["Martin"] * len(started))
    assert sum(added) == 7
    assert DiscoveredContact.objects.for_workspace(workspace).count() == 7
    assert (
        sum(
            DiscoveryJob.objects.for_workspace(workspace)
            .filter(api_key=key)
            .values_list("added", flat=True)
        )
        == 7
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_jobs_on_one_company_never_pass_its_quota(settings):
    """Two requesters' jobs on one domain at once: the company's quota holds across them (the
    company's count is taken under a lock of its own), whoever asked."""

    from django.db import connection

    from tests.factories import WorkspaceFactory

    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 3}
    workspace = WorkspaceFactory()
    keys = [create_api_key(workspace, name=f"crm{n}", role="member").api_key for n in range(4)]
    started = [running(workspace, "meme-societe.fr", api_key=key) for key in keys]
    added = add_all_at_once(started, ["Martin", "Bernard", "Dubois", "Thomas"])
    assert sum(added) == 3
    assert DiscoveredContact.objects.for_workspace(workspace).count() == 3
