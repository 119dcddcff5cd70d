"""Objects the API tests build in a workspace: prospects, a provider key, a job with records."""

from enrichment import bulk, credentials
from enrichment.models import EnrichmentItem, EnrichmentJob, ProviderAttempt
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
        "webhooks": sorted(
            WebhookEndpoint.objects.for_workspace(workspace).values_list(
                "pk", "encrypted_secret", "is_active"
            )
        ),
    }
