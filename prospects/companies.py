"""Company identity: one company per workspace per SIREN, else domain, else normalised name.

Every path that needs a company (the admin and API, imports, enrichment) finds it through
`match_companies`, so a company typed bare ("Acme") and the same company later learnt with
its domain are one row, and its prospects are not split between two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from . import normalize
from .company_merge import refresh_name_keys
from .models import Company, FieldProvenance, Prospect

# Values that may be given when creating a company, in the order provenance is recorded.
CREATE_FIELDS = ("name", "domain", "website", "siren")


@dataclass(frozen=True)
class Identity:
    """What makes two companies the same: the SIREN, else the domain, else the folded name."""

    siren: str = ""
    domain: str = ""
    name_key: str = ""

    @classmethod
    def of(cls, values: dict[str, Any]) -> Identity:
        return cls(
            siren=values.get("siren") or "",
            domain=values.get("domain") or "",
            name_key=normalize.company_name_key(values.get("name") or values.get("domain") or ""),
        )

    def __bool__(self) -> bool:
        return bool(self.siren or self.domain or self.name_key)


def is_bare(company: Any) -> bool:
    """A company known only by its name: nothing yet says which legal entity it is."""
    return not company.domain and not company.siren


def match_companies(
    workspace_id: int, identities: Iterable[Identity], *, exclude: Sequence[int] = ()
) -> dict[Identity, Company]:
    """The workspace's existing company for each identity (three queries at most).

    By SIREN, else by domain; a company with a domain or SIREN nobody has yet is the bare
    company of the same name, if there is one (it is about to learn them); a name alone is the
    oldest company of that name.
    """
    identities = [i for i in set(identities) if i]
    if not identities:
        return {}
    companies = Company.objects.for_workspace(workspace_id).exclude(pk__in=list(exclude))
    sirens = {i.siren for i in identities if i.siren}
    domains = {i.domain for i in identities if i.domain}
    by_siren = by_domain = {}
    if sirens:
        by_siren = {c.siren: c for c in companies.filter(siren__in=sirens).order_by("-pk")}
    if domains:
        by_domain = {c.domain: c for c in companies.filter(domain__in=domains).order_by("-pk")}
    found: dict[Identity, Company] = {}
    for identity in identities:
        company = by_siren.get(identity.siren) or by_domain.get(identity.domain)
        if company is not None:
            found[identity] = company
    names = {i.name_key for i in identities if i not in found and i.name_key}
    if names:
        by_name: dict[str, list[Company]] = {}
        for company in companies.filter(name_key__in=names).order_by("pk"):
            by_name.setdefault(company.name_key, []).append(company)
        for identity in identities:
            if identity in found:
                continue
            candidates = by_name.get(identity.name_key, [])
            if identity.siren or identity.domain:
                candidates = [c for c in candidates if is_bare(c)]
            if candidates:
                found[identity] = candidates[0]
    return found


def _adopt(company: Company, values: dict[str, Any]) -> list[str]:
    """Give a bare company the domain/SIREN it has just been identified by; fields changed."""
    changes = {
        name: values[name]
        for name in ("domain", "website", "siren")
        if values.get(name) and not getattr(company, name)
    }
    if not changes:
        return []
    try:
        with transaction.atomic():
            updated = (
                Company.objects.for_workspace(company.workspace_id)
                .filter(pk=company.pk, domain="", siren="")
                .update(**changes, updated_at=timezone.now())
            )
    except IntegrityError:
        # Another company took this domain meanwhile: this one stays as it was.
        return []
    if not updated:
        return []
    for name, value in changes.items():
        setattr(company, name, value)
    # Its people's name keys follow its identity (the domain now): the same person named
    # again with the domain is found as the one already here.
    refresh_name_keys(company, prospect_model=Prospect)
    return list(changes)


def provenance_rows(
    company: Company,
    fields: Iterable[str],
    *,
    source: str,
    detail: str = "",
    observed_at: dt.datetime | None = None,
) -> list[FieldProvenance]:
    """Rows saying that a person gave these values of the company (100 %, stored)."""
    observed_at = observed_at or timezone.now()
    return [
        FieldProvenance(
            workspace_id=company.workspace_id,
            company=company,
            field=field,
            value=str(getattr(company, field)),
            source=source,
            confidence=100,
            observed_at=observed_at,
            is_current=True,
            detail=detail[:255],
        )
        for field in fields
        if getattr(company, field) not in (None, "")
    ]


def resolve_companies(
    workspace_id: int,
    values: Sequence[dict[str, Any]],
    *,
    source: str | None = None,
    details: Sequence[str] = (),
) -> dict[Identity, Company]:
    """The company of each set of values: found, a bare one identified, or created.

    With `source`, what this creates or fills is recorded as that source's provenance
    (`details[i]` says where values[i] came from, e.g. a file and line).
    """
    wanted: dict[Identity, tuple[dict[str, Any], str]] = {}
    for index, item in enumerate(values):
        identity = Identity.of(item)
        if identity and identity not in wanted:
            wanted[identity] = (item, details[index] if index < len(details) else "")
    found = match_companies(workspace_id, wanted)
    now = timezone.now()
    provenance: list[FieldProvenance] = []
    for identity, company in list(found.items()):
        item, detail = wanted[identity]
        if not (identity.domain or identity.siren) or company.name_key != identity.name_key:
            continue
        same_siren = identity.siren and company.siren == identity.siren
        if company.domain == identity.domain or same_siren:
            continue
        if not is_bare(company):
            # Identified meanwhile (by another row of these values) as another company.
            del found[identity]
            continue
        filled = _adopt(company, item)
        if source and filled:
            provenance += provenance_rows(
                company, filled, source=source, detail=detail, observed_at=now
            )
    missing = [identity for identity in wanted if identity not in found]
    # A name alone that one of the companies about to be created also has is that company.
    named = {i.name_key for i in missing if i.domain or i.siren}
    to_create = []
    if missing:
        for identity in missing:
            if not (identity.domain or identity.siren) and identity.name_key in named:
                continue
            item = wanted[identity][0]
            fields = {name: item[name] for name in CREATE_FIELDS if item.get(name)}
            fields.setdefault("name", identity.domain or identity.siren)
            name_key = normalize.company_name_key(fields["name"])
            to_create.append(Company(workspace_id=workspace_id, name_key=name_key, **fields))
        # A concurrent writer may create the same domain: the unique constraint keeps one, and
        # the lookup below picks it up whoever wrote it.
        if to_create:
            insert_rows(to_create, ignore_conflicts=True)
        created = match_companies(workspace_id, missing)
        found.update(created)
        if source:
            recorded = set()
            for identity, company in created.items():
                if company.pk in recorded:
                    continue
                recorded.add(company.pk)
                provenance += provenance_rows(
                    company,
                    CREATE_FIELDS,
                    source=source,
                    detail=wanted[identity][1],
                    observed_at=now,
                )
    if provenance:
        insert_rows(provenance)
    return found


def insert_rows(rows: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """Insert new rows of one model (no signals, as `bulk_create`) with one statement run for
    all of them (`executemany`); with `ignore_conflicts`, a row that breaks a unique
    constraint is left out.

    `bulk_create` compiled every value of every row through the ORM's insert machinery (a
    quarter of the time an import spent on a new company, and an import meets one every
    twenty rows or so). Here each value only goes through its field's `pre_save` and
    `get_db_prep_save`, as the ORM prepares it; the rows' ids are not read back.
    """
    model = type(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    params = [
        [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
        for row in rows
    ]
    # One transaction, as `bulk_create`: in autocommit each row would commit on its own.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
            params,
        )


def resolve_company(
    workspace_id: int, values: dict[str, Any], *, source: str | None = None, detail: str = ""
) -> Company | None:
    """The company these values identify, created if missing; None without a name or domain."""
    identity = Identity.of(values)
    if not identity:
        return None
    return resolve_companies(workspace_id, [values], source=source, details=[detail]).get(
        identity
    )
