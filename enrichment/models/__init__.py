"""The enrichment app's models, one module per concept; import them from here.

`work` (jobs, items, provider batches and attempts), `providers` (keys, calls, reusable
answers), `limits` (concurrency slots, rate windows, breakers) and `ledger` (credits and
costs). Discovery jobs, discovered contacts and the webhooks' rows live in their own modules.
"""

from ..discovery_jobs import DiscoveryJob
from ..discovery_models import (
    DiscoveredContact,
    EmailProbe,
    MailDomain,
    ProbeBudget,
    ProbingPause,
)
from ..webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .ledger import CostDashboard, CreditBudget, CreditEntry
from .limits import ProviderBreaker, ProviderLease, ProviderRateWindow
from .providers import CachedAnswer, ProviderCall, ProviderCredential
from .work import (
    EnrichmentItem,
    EnrichmentItemQuerySet,
    EnrichmentJob,
    OutcomeFields,
    ProviderAttempt,
    ProviderBatch,
    attempt_key,
)

__all__ = [
    "CachedAnswer",
    "CostDashboard",
    "CreditBudget",
    "CreditEntry",
    "DiscoveredContact",
    "DiscoveryJob",
    "EmailProbe",
    "EnrichmentItem",
    "EnrichmentItemQuerySet",
    "EnrichmentJob",
    "MailDomain",
    "OutcomeFields",
    "ProbeBudget",
    "ProbingPause",
    "ProviderAttempt",
    "ProviderBatch",
    "ProviderBreaker",
    "ProviderCall",
    "ProviderCredential",
    "ProviderLease",
    "ProviderRateWindow",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "attempt_key",
]
