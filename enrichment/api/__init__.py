"""The enrichment routes of the JSON API: providers, jobs and their records, one prospect's
enrichment, and the workspace's figures; mounted in config/api.py."""

from ninja import Router

from . import figures, jobs, one_prospect, providers, webhooks

router = Router()
for part in (providers, jobs, one_prospect, figures, webhooks):
    router.add_router("", part.router)
