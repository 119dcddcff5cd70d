"""The prospects app's models, one module per concept; import them from here.

`workspace` (workspaces, names, members), `import_batches` (CSV imports and their rejected
rows), `sources` (where a value comes from), `company`, `prospect`, `provenance` (every value
observed and its source) and `suppression` (the objection list). Invitations and the remembered
workspace are in `access_models`, API keys and idempotent requests in `api_models`.
"""

from ..access_models import Invitation, WorkspacePreference
from ..api_models import ApiKey, IdempotentRequest
from .company import COMPANY_FIELDS, Company, validate_siren, validate_siret
from .import_batches import ImportBatch, ImportBatchQuerySet, RejectedRow
from .prospect import (
    OBJECTION_REASONS,
    QUALIFICATIONS,
    Prospect,
    ProspectQuerySet,
    qualification_label,
)
from .provenance import FieldProvenance
from .sources import HUMAN_SOURCES, Source
from .suppression import SuppressionEntry
from .workspace import (
    Membership,
    Workspace,
    auto_enrich_steps,
    mixed_scripts,
    tidy_workspace_name,
    workspace_name_key,
)

__all__ = [
    "COMPANY_FIELDS",
    "HUMAN_SOURCES",
    "OBJECTION_REASONS",
    "QUALIFICATIONS",
    "ApiKey",
    "Company",
    "FieldProvenance",
    "IdempotentRequest",
    "ImportBatch",
    "ImportBatchQuerySet",
    "Invitation",
    "Membership",
    "Prospect",
    "ProspectQuerySet",
    "RejectedRow",
    "Source",
    "SuppressionEntry",
    "Workspace",
    "WorkspacePreference",
    "auto_enrich_steps",
    "mixed_scripts",
    "qualification_label",
    "tidy_workspace_name",
    "validate_siren",
    "validate_siret",
    "workspace_name_key",
]
