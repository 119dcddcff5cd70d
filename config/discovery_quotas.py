"""Reading SOURCIER_DISCOVERY_QUOTAS: the operator's discovery quotas over the defaults.

Pure (no Django import) so that settings can read it at startup. Format: `name=N` entries
separated by `,`, e.g. `contacts=200,company=80` (names below).
"""

from __future__ import annotations

# The name an operator writes -> the quota it sets (enrichment/discovery/quotas.py, whose
# QUOTA_DEFAULTS give the value of a name left out).
QUOTA_NAMES = {
    "contacts": "contacts_per_user_per_day",  # contacts added per key (or person) in 24 h
    "emails": "emails_per_user_per_day",  # addresses checked per key (or person) in 24 h
    "jobs": "jobs_per_user",  # discovery jobs running at once per key (or person)
    "company": "contacts_per_company",  # discovered contacts per company and workspace
}
# A quota above this is a typo, not a plan.
MAX_QUOTA = 1_000_000


def parse_discovery_quotas(text: str) -> dict[str, int]:
    """`{quota: N}` with only the quotas given; ValueError names the bad entry and what is
    expected."""
    quotas: dict[str, int] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, sep, value = entry.partition("=")
        name = name.strip().lower()
        if not sep:
            raise ValueError(f"{entry!r}: expected name=N, e.g. contacts=100")
        if name not in QUOTA_NAMES:
            raise ValueError(f"{name!r} is not a quota; known: {', '.join(QUOTA_NAMES)}")
        if QUOTA_NAMES[name] in quotas:
            raise ValueError(f"{name!r} is given twice")
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_QUOTA:
            raise ValueError(f"{name}={value!r} is not a whole number from 1 to {MAX_QUOTA}")
        quotas[QUOTA_NAMES[name]] = int(value)
    return quotas
