"""Objects the API tests build in a workspace: prospects, a provider key, a job with records,
a discovery job with the contacts it found."""

from enrichment import bulk, credentials
from enrichment.discovery import contacts
from enrichment.models import (
    DiscoveredContact,
    DiscoveryJob,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
)
from enrichment.webhooks.models import WebhookEndpoint
from prospects.models import Prospect, Workspace
from tests.factories import ProspectFactory


def with_prospeo_key(workspace: Workspace) -> None:
    credentials.set_api_key(workspace, "prospeo", "sandbox-key-1234")


def make_job(workspace: Workspace, count: int = 2) -> EnrichmentJob:
    """A running email job over `count` new prospects, one of them with an attempt made."""
    with_prospeo_key(workspace)
    prospects = [ProspectFactory(workspace=workspace) for _ in range(count)]
    estimate = bulk.estimate_job(workspace.pk, [p.pk for p in prospects], providers=["prospeo"])
    job = bulk.start_job(workspace, estimate)
    item = EnrichmentItem.objects.for_workspace(workspace).filter(job=job).first()
    ProviderAttempt.objects.create(
        workspace=workspace,
        item=item,
        provider="prospeo",
        field="email",
        idempotency_key=f"{job.pk}:{item.pk}:email:prospeo",
        result="not_found",
    )
    return job


def make_discovery(workspace: Workspace, domain: str = "exemple.fr", **job) -> DiscoveryJob:
    """A completed discovery job that found two people, one with a verified address."""
    found = []
    for first, last, email, status, score in (
        ("Anne", "Le Gall", f"anne.legall@{domain}", "verified", 92),
        ("Paul", "Martin", "", "unknown", 55),
    ):
        contact, _created = contacts.add_contact(
            workspace, first_name=first, last_name=last, domain=domain, method="website"
        )
        contacts.record_address(
            contact,
            email=email,
            status=status,
            score=score,
            reason="" if email else "no_mailbox_found",
            catch_all=False,
            evidence="3 adresses connues, toutes prenom.nom",
            patterns_tried=[f"anne.legall@{domain}"] if email else [f"paul.martin@{domain}"],
        )
        found.append(contact.pk)
    values = {"status": "completed", "pages": 3, "people": 2, "added": 2, "checked": 2}
    return DiscoveryJob.objects.create(
        workspace=workspace, domain=domain, contact_ids=found, **{**values, **job}
    )


def snapshot(workspace: Workspace) -> dict:
    """What a request could change in a workspace: rows and statuses."""
    return {
        "prospects": sorted(
            Prospect.objects.for_workspace(workspace).values_list("pk", "status", "updated_at")
        ),
        "jobs": sorted(EnrichmentJob.objects.for_workspace(workspace).values_list("pk", "status")),
        "items": sorted(
            EnrichmentItem.objects.for_workspace(workspace).values_list("pk", "status")
        ),
        "discovery_jobs": sorted(
            DiscoveryJob.objects.for_workspace(workspace).values_list(
                "pk", "status", "attempts", "error_code"
            )
        ),
        "discovered": sorted(
            DiscoveredContact.objects.for_workspace(workspace).values_list(
                "pk", "status", "prospect_id", "updated_at"
            )
        ),
        "webhooks": sorted(
            WebhookEndpoint.objects.for_workspace(workspace).values_list(
                "pk", "encrypted_secret", "is_active"
            )
        ),
    }
