"""The enrichment routes of the JSON API: providers, jobs and their records, one prospect's
enrichment, the workspace's figures, webhooks and discovery; mounted in config/api.py."""

from ninja import Router

from . import discovery_contacts, discovery_jobs, figures, jobs, one_prospect, providers, webhooks

router = Router()
for part in (
    providers,
    jobs,
    one_prospect,
    figures,
    webhooks,
    discovery_jobs,
    discovery_contacts,
):
    router.add_router("", part.router)
