"""The database side of discovery: cached mail routes and catch-all answers, probe rows.

Each function is one short write or read; none is ever called inside a transaction that
spans network I/O (a probe row is created, the network is used, then the row is finished).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..models import EmailProbe, MailDomain
from .dns import MailHost, MailRoute
from .model_rows import read_rows, unsaved_rows

Status = EmailProbe.Status


def probes_of(workspace_id: int | None) -> QuerySet[EmailProbe]:
    """One workspace's probes, or the probes made without a workspace (None)."""
    if workspace_id is None:
        return EmailProbe.objects.unscoped().filter(workspace__isnull=True)
    return EmailProbe.objects.for_workspace(workspace_id)


def probe_key(workspace_id: int | None, email: str, attempt: int, kind: str = "address") -> str:
    """The probe's unique key; long addresses are hashed so the key fits its column."""
    scope = f"{kind}:{workspace_id or '-'}"
    subject = email if len(email) <= 320 else hashlib.sha256(email.encode()).hexdigest()
    return f"{scope}:{subject}:{attempt}"


def latest_probe(workspace_id: int | None, email: str) -> EmailProbe | None:
    return (
        probes_of(workspace_id)
        .filter(email=email, kind=EmailProbe.Kind.ADDRESS)
        .order_by("-attempt")
        .first()
    )


def latest_probes(workspace_id: int | None, emails: list[str]) -> dict[str, EmailProbe | None]:
    """`latest_probe` for many addresses in one query (None where never asked)."""
    found: dict[str, EmailProbe | None] = dict.fromkeys(emails)
    rows = (
        probes_of(workspace_id)
        .filter(email__in=emails, kind=EmailProbe.Kind.ADDRESS)
        .order_by("email", "-attempt")
    )
    for probe in read_rows(rows):
        if found[probe.email] is None:
            found[probe.email] = probe
    return found


# The most probe rows a batch reads at once for its domains; past it (a domain asked about
# for years), its rounds read their own addresses' rows instead.
MOST_BATCH_PROBES = 5000


def latest_probes_of_domains(
    workspace_id: int | None, domains: list[str]
) -> dict[str, EmailProbe] | None:
    """The latest probe of every address of these domains asked so far, in one query (an
    address never asked is missing; the transcripts are left unread), or None when there
    are more than MOST_BATCH_PROBES rows."""
    rows = probes_of(workspace_id).filter(domain__in=domains, kind=EmailProbe.Kind.ADDRESS)
    # Not ordered by the database: the domain index finds the rows, the newest is kept here.
    read = read_rows(rows[: MOST_BATCH_PROBES + 1], without=("transcript",))
    if len(read) > MOST_BATCH_PROBES:
        return None
    found: dict[str, EmailProbe] = {}
    for probe in read:
        if probe.email not in found or found[probe.email].attempt < probe.attempt:
            found[probe.email] = probe
    return found


def latest_catch_all_probes(emails: list[str]) -> dict[str, EmailProbe]:
    """The last catch-all check of each of these random addresses (made without a
    workspace), in one query; an address never asked is missing."""
    found: dict[str, EmailProbe] = {}
    rows = EmailProbe.objects.unscoped().filter(
        workspace__isnull=True, kind=EmailProbe.Kind.CATCH_ALL, email__in=emails
    )
    for probe in read_rows(rows):
        if probe.email not in found or found[probe.email].attempt < probe.attempt:
            found[probe.email] = probe
    return found


# A probe row's columns as INSERTed (every one but the id) and as its answer UPDATEs them.
FINISH_FIELDS = (
    "status", "mail_host", "reply_code", "reply_text", "transcript", "finished_at", "recheck_at"
)
# Rows per INSERT statement (SQLite allows 32,766 parameters in one).
INSERT_CHUNK = 500


def start_probe(
    *,
    workspace_id: int | None,
    email: str,
    domain: str,
    attempt: int,
    now: dt.datetime,
    pattern: str = "",
    kind: str = EmailProbe.Kind.ADDRESS,
) -> EmailProbe | None:
    """The pending row for one probe, or None when that probe already exists (a replay)."""
    row = {"workspace_id": workspace_id, "email": email, "domain": domain, "attempt": attempt,
           "now": now, "pattern": pattern, "kind": kind}
    return start_probes([row])[0]


def start_probes(rows: list[dict]) -> list[EmailProbe | None]:
    """`start_probe` for many probes (each a dict of its arguments): one statement, `INSERT
    … ON CONFLICT (key) DO NOTHING RETURNING`, so a replayed probe (its key taken) is None
    and the others are created all the same, with no error to recover from and no
    transaction of its own (the statement alone is atomic)."""
    probes = unsaved_rows(EmailProbe, (
        {
            "workspace_id": row["workspace_id"],
            "key": probe_key(row["workspace_id"], row["email"], row["attempt"],
                             row.get("kind", EmailProbe.Kind.ADDRESS)),
            "kind": row.get("kind", EmailProbe.Kind.ADDRESS),
            "email": row["email"],
            "domain": row["domain"],
            "pattern": row.get("pattern", ""),
            "attempt": row["attempt"],
            "created_at": row["now"],
        }
        for row in rows
    ))  # fmt: skip
    ids: dict[str, int] = {}
    # In key order: two workers inserting overlapping keys wait for each other in one order.
    ordered = sorted(probes, key=lambda probe: probe.key)
    for start in range(0, len(ordered), INSERT_CHUNK):
        ids.update(_insert_new(ordered[start : start + INSERT_CHUNK]))
    created: list[EmailProbe | None] = []
    for probe in probes:
        probe.pk = ids.pop(probe.key, None)  # the same key twice in `rows`: created once
        if probe.pk is not None:
            probe._state.adding, probe._state.db = False, connection.alias
        created.append(probe if probe.pk is not None else None)
    return created


def _insert_new(probes: list[EmailProbe]) -> dict[str, int]:
    """INSERT the probes whose key is free; {key: id} of those created."""
    meta = EmailProbe._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    key, pk = quote(meta.get_field("key").column), quote(meta.pk.column)
    # Only the model's own table and column names are spliced in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(probes))} "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {pk}, {key}"
    )
    convert = [(f.attname, _to_database(f)) for f in fields]
    params = [value for probe in probes for value in _values(probe, convert)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {probe_key: probe_id for probe_id, probe_key in cursor.fetchall()}


def _pk(row: models.Model) -> int:
    return row.pk


def _to_database(field: models.Field) -> Callable[[Any], Any] | None:
    """How a probe field's value is written: None when as it is (text, numbers, the
    workspace's id), the database's own form of a date and time, else the field's own
    preparation. A round writes every field of every row: the field's whole machinery for
    each one cost more than the statement."""
    if isinstance(field, models.DateTimeField):
        # A round's rows share their times (its clock read once): each converted once.
        written: dict[dt.datetime, Any] = {}

        def to_db(value: dt.datetime) -> Any:
            if value not in written:
                written[value] = connection.ops.adapt_datetimefield_value(
                    value if timezone.is_aware(value) else timezone.make_aware(value)
                )
            return written[value]

        return to_db
    as_given = models.CharField | models.TextField | models.IntegerField | models.ForeignKey
    if isinstance(field, as_given):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _values(row: models.Model, convert: list[tuple[str, Callable | None]]) -> list[Any]:
    """The row's values of these fields (attname, `_to_database`), as written."""
    values = []
    for attname, to_db in convert:
        value = getattr(row, attname)
        values.append(value if to_db is None or value is None else to_db(value))
    return values


def finish_probes(probes: list[EmailProbe]) -> None:
    """Record many answers set on the probes (FINISH_FIELDS) with one UPDATE statement run
    for every row at once: only rows still pending are written (an answer is recorded once)."""
    _update_each(probes, list(FINISH_FIELDS), only_status=Status.PENDING.value)


def claim_recheck(probe: EmailProbe) -> bool:
    """Take a due recheck (conditional UPDATE): exactly one caller gets True."""
    return bool(
        EmailProbe.objects.unscoped()
        .filter(pk=probe.pk, recheck_at__isnull=False)
        .update(recheck_at=None)
    )


def claim_rechecks(probes: list[EmailProbe]) -> set[int]:
    """`claim_recheck` for many probes in one transaction: the ids this caller took, each
    taken by exactly one caller (the rows are locked, and a row another caller took
    meanwhile no longer matches)."""
    ids = [probe.pk for probe in probes]
    if not ids:
        return set()
    rows = EmailProbe.objects.unscoped()
    with transaction.atomic():
        taken = list(
            rows.select_for_update()
            .filter(pk__in=ids, recheck_at__isnull=False)
            .order_by("pk")  # locked in one order by every caller
            .values_list("pk", flat=True)
        )
        rows.filter(pk__in=taken).update(recheck_at=None)
    return set(taken)


def _due(now: dt.datetime, domains: Iterable[str] | None) -> QuerySet[EmailProbe]:
    due = EmailProbe.objects.unscoped().filter(recheck_at__lte=now, kind=EmailProbe.Kind.ADDRESS)
    if domains is not None:
        due = due.filter(domain__in=[domains] if isinstance(domains, str) else list(domains))
    return due


def due_rechecks(
    now: dt.datetime,
    limit: int = 500,
    *,
    domains: Iterable[str] | None = None,
    workspace_id: int | None = None,
) -> list[EmailProbe]:
    """One workspace's greylisted probes whose recheck is due, oldest first (None: those
    made without a workspace; of `domains` only, if given)."""
    due = _due(now, domains).filter(workspace_id=workspace_id)
    return read_rows(due.order_by("recheck_at")[:limit])


def workspaces_with_due_rechecks(
    now: dt.datetime, *, domains: Iterable[str] | None = None
) -> list[int | None]:
    """The workspaces (None: no workspace) with a greylisted probe due for its recheck."""
    found = set(_due(now, domains).values_list("workspace_id", flat=True).distinct())
    return sorted(found, key=lambda workspace_id: workspace_id or 0)


def verified_patterns(domain: str, workspace_id: int | None) -> list[str]:
    """Patterns of the addresses our probes confirmed on a domain (newest answer per address)."""
    return verified_patterns_many([domain], workspace_id)[domain]


def verified_patterns_many(domains: list[str], workspace_id: int | None) -> dict[str, list[str]]:
    """`verified_patterns` of many domains, in one query."""
    rows = (
        probes_of(workspace_id)
        .filter(domain__in=domains, kind=EmailProbe.Kind.ADDRESS)
        .exclude(pattern="")
        .values_list("domain", "email", "attempt", "status", "pattern")
    )
    # Sorted here, not by the database: an ORDER BY email led SQLite to walk the workspace's
    # index (workspace, email, attempt) through every probe of the workspace instead of
    # reading the domains' own rows.
    latest: dict[str, tuple[str, str, str]] = {}
    for domain, email, _attempt, status, pattern in sorted(rows, key=lambda r: (r[1], -r[2])):
        latest.setdefault(email, (domain, status, pattern))
    found: dict[str, list[str]] = {domain: [] for domain in domains}
    for domain, status, pattern in latest.values():
        if status == Status.ACCEPTED:
            found[domain].append(pattern)
    return found


def load_domain(domain: str) -> MailDomain:
    row, _created = MailDomain.objects.get_or_create(domain=domain)
    return row


def load_domains(domains: list[str]) -> dict[str, MailDomain]:
    """`load_domain` for many domains: one read, one INSERT of those never seen, one read."""
    rows = {row.domain: row for row in MailDomain.objects.filter(domain__in=domains)}
    missing = [domain for domain in dict.fromkeys(domains) if domain not in rows]
    if missing:
        MailDomain.objects.bulk_create(
            [MailDomain(domain=domain) for domain in missing], ignore_conflicts=True
        )
        rows.update((row.domain, row) for row in MailDomain.objects.filter(domain__in=missing))
    return rows


def cached_route(row: MailDomain, now: dt.datetime) -> MailRoute | None:
    if not row.route or row.dns_expires_at is None or row.dns_expires_at <= now:
        return None
    hosts = tuple(MailHost(h[0], h[1], tuple(h[2])) for h in row.mail_hosts)
    return MailRoute(row.domain, row.route, hosts)


def save_route(row: MailDomain, route: MailRoute, now: dt.datetime) -> None:
    save_routes([(row, route)], now)


def save_routes(answers: list[tuple[MailDomain, MailRoute]], now: dt.datetime) -> None:
    """Keep what DNS answered for these domains' rows, until its TTL (one statement)."""
    for row, route in answers:
        row.route = route.status
        row.mail_hosts = [[h.name, h.preference, list(h.addresses)] for h in route.hosts]
        row.dns_checked_at = now
        row.dns_expires_at = now + dt.timedelta(seconds=route.ttl)
    fields = ["route", "mail_hosts", "dns_checked_at", "dns_expires_at"]
    _update_each([row for row, _route in answers], fields)


def save_catch_alls(rows: list[MailDomain]) -> None:
    """Write the catch-all answers set on these domains' rows (one statement)."""
    _update_each(rows, ["catch_all", "catch_all_local", "catch_all_checked_at"])


def _update_each(rows: list[models.Model], names: list[str], *, only_status: str = "") -> None:
    """Write these fields of each row (of one model), its own values: one UPDATE statement
    run for every row in one transaction (Django's bulk_update builds a CASE per field and
    row, which cost more than the writes). With `only_status`, rows no longer in that status
    are left as they are."""
    if not rows:
        return
    meta = rows[0]._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    where = f"{quote(meta.pk.column)} = %s"
    if only_status:
        where += f" AND {quote('status')} = %s"
    # Only the model's own table and column names are spliced in; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {where}"  # noqa: S608
    convert = [(f.attname, _to_database(f)) for f in fields]
    tail = [only_status] if only_status else []
    # In primary-key order: two workers writing overlapping rows lock them in the same order
    # (in any other, PostgreSQL may find them deadlocked).
    params = [[*_values(row, convert), row.pk, *tail] for row in sorted(rows, key=_pk)]
    if len(params) == 1:  # one statement: atomic alone
        with connection.cursor() as cursor:
            cursor.execute(sql, params[0])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, params)
