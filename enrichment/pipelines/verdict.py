"""What every pipeline sets on a prospect when it settles its verdict."""

# Besides the merged fields: the status, why it is not verified, which source verified it.
VERDICT_FIELDS = [
    "status",
    "email_qualification",
    "verified_at",
    "enrichment_source",
    "enriched_at",
    "last_error",
    "verification_reason",
    "company",
]
