"""In-house email discovery: candidate addresses from a name, checked through DNS and SMTP.

Pure modules: `permutations` (candidate local parts and `pattern_of`), `patterns` (a domain's
pattern learned from known addresses), `scoring` (score and status). Network: `dns` (one
resolver, MX with its fallbacks), `smtp` (one RCPT-only conversation with a mail host).
Services (`services`): `verify_address(email, ...)`, `find_best_address(first, last, domain,
...)`, `recheck_due_probes()`; every probe is a database row (`EmailProbe`) with a unique key.
"""
