"""The enrichment engine: claims, retry policy, gateway, breaker, limits, ledger, job roll-up."""
