"""In-house discovery as the email waterfall's first step: free, before any paid provider."""

import pytest

from enrichment import bulk
from enrichment.models import CreditEntry, EnrichmentJob, ProviderAttempt, ProviderCall
from enrichment.sandbox.mail_world import NORMAL
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.factories import WorkspaceFactory


@pytest.fixture
def staff(world, plan):
    """The people of a company whose mail hosts refuse unknown mailboxes."""
    company = next(
        c
        for c in world.companies
        if plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
        and sum(1 for p in world.people if p.company is c and p.true_email) >= 3
    )
    return [p for p in world.people if p.company is company]


def add_people(workspace, people):
    return [
        prospect_services.create_prospect(
            workspace,
            data={
                "first_name": p.first_name,
                "last_name": p.last_name,
                "company_name": p.company.name,
                "company_domain": p.company.domain,
            },
        )
        for p in people
    ]


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(auto_enrich="none", discovery_first=True)


def test_a_workspace_default_puts_discovery_first_and_needs_no_key(workspace, settings):
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    estimate = bulk.estimate_job(workspace.pk, [])
    assert estimate.providers == ["discovery"]
    assert estimate.most == 0


def test_without_probing_set_up_discovery_is_not_offered(workspace, settings):
    settings.SOURCIER_SMTP_HELO = ""
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(workspace.pk, [])
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(workspace.pk, [], providers=["discovery"])


def test_discovery_verifies_for_free_before_any_paid_provider(mail_sandbox, workspace, staff):
    prospects = add_people(workspace, staff)
    job = bulk.start_job(workspace, bulk.estimate_job(workspace.pk))
    job.refresh_from_db()
    assert job.status in (EnrichmentJob.Status.COMPLETED, EnrichmentJob.Status.PARTIALLY_COMPLETED)
    truth = {(p.first_name, p.last_name): p for p in staff}
    verified = 0
    for prospect in Prospect.objects.for_workspace(workspace).filter(
        pk__in=[p.pk for p in prospects]
    ):
        person = truth[(prospect.first_name, prospect.last_name)]
        if prospect.status == Prospect.Status.VERIFIED:
            verified += 1
            assert prospect.email == person.true_email
            assert prospect.enrichment_source == "discovery"
        else:
            assert not person.true_email or prospect.email in ("", person.true_email)
    assert verified >= 3
    attempts = ProviderAttempt.objects.for_workspace(workspace)
    assert set(attempts.values_list("provider", flat=True)) == {"discovery"}
    assert set(attempts.values_list("cost", flat=True)) == {0}
    assert not ProviderCall.objects.for_workspace(workspace).exists()
    assert not CreditEntry.objects.for_workspace(workspace).exists()


def test_nobody_who_objected_is_probed_by_the_waterfall(mail_sandbox, workspace, staff):
    person = next(p for p in staff if p.true_email)
    prospect_services.suppress_person(workspace, email=person.true_email)
    add_people(workspace, [p for p in staff if p is not person])
    # The objector is added without an email: only the candidates would reveal them.
    prospect_services.create_prospect(
        workspace,
        data={
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company_name": person.company.name,
            "company_domain": person.company.domain,
        },
    )
    bulk.start_job(workspace, bulk.estimate_job(workspace.pk))
    asked = {address for s in mail_sandbox.sessions for address, _code in s.rcpts}
    assert person.true_email not in asked
    skipped = ProviderAttempt.objects.for_workspace(workspace).filter(detail="objection_list")
    assert skipped.count() == 1
