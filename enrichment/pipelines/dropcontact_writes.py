"""Reading and writing a Dropcontact batch in a number of statements that does not grow with it.

Before the records are merged: every company they may touch, in one read. After: one read of
the objection list and one of the match keys, to refuse (in answer order, as one save after
another would have) the values that cannot be stored; then one UPDATE for the companies and
one for the prospects. Should a concurrent writer make that UPDATE fail all the same, the rows
are saved one by one, each refusing what it cannot store, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When

from prospects import services as prospect_services
from prospects.models import Company, Prospect

from ..providers import dropcontact
from .dropcontact_records import Applying, Holders, clean, refuse_address, siren_of

KEYS = ("email_key", "linkedin_key", "name_key")


# --- Before merging ------------------------------------------------------------------------


def load_companies(
    workspace_id: int, pairs: list[tuple[Prospect, dropcontact.EnrichedRecord]]
) -> tuple[dict[int, Company], dict[int, Company], Holders, Holders]:
    """The companies the records may touch, one instance each, and who holds which domain
    and SIREN; the company of each prospect that had none is found or created here.

    Returns (companies by id, company by prospect id for those that had none, domains, sirens).
    """
    from prospects.normalize import normalize_domain

    companies: dict[int, Company] = {}
    wanted: list[tuple[int, dict[str, str]]] = []
    domains: set[str] = set()
    sirens: set[str] = set()
    for prospect, record in pairs:
        if record.is_do_not_contact:
            continue
        domain, siren = clean(normalize_domain, record.website), siren_of(record)
        domains.update(filter(None, [domain]))
        sirens.update(filter(None, [siren]))
        if prospect.company is None and (record.company or domain):
            wanted.append(
                (
                    prospect.pk,
                    {
                        "name": prospect_services.fit_column(
                            Company, "name", record.company or domain
                        ),
                        "domain": domain,
                        "siren": siren,
                    },
                )
            )
    created: dict[int, Company] = {}
    if wanted:
        found = prospect_services.get_or_create_companies(
            workspace_id, [values for _pk, values in wanted]
        )
        for (prospect_id, _values), company in zip(wanted, found, strict=True):
            if company is not None:
                created[prospect_id] = companies.setdefault(company.pk, company)
    if domains or sirens:
        holders = Company.objects.for_workspace(workspace_id).filter(
            Q(domain__in=domains) | Q(siren__in=sirens)
        )
        for company in holders:
            companies.setdefault(company.pk, company)
    for prospect, _record in pairs:
        if prospect.company_id:
            prospect.company = companies.setdefault(prospect.company_id, prospect.company)
    by_domain, by_siren = Holders(), Holders()
    for company in companies.values():
        by_domain.move(company.pk, "", company.domain)
        by_siren.move(company.pk, "", company.siren)
    return companies, created, by_domain, by_siren


# --- After merging: what cannot be stored ---------------------------------------------------


class KeyOwners:
    """Which prospect holds each match key, as one save after another would find them."""

    def __init__(self, workspace_id: int, prospects: list[Prospect], state: Applying) -> None:
        wanted: dict[str, set[str]] = {key: set() for key in KEYS}
        for prospect in prospects:
            for key in KEYS:
                wanted[key].add(getattr(prospect, key))
            # The key a refused prospect would fall back to (its own name, its old company).
            before = state.company_before.get(prospect.pk)
            wanted["name_key"].add(fallback_name_key(prospect, before))
        query = Q()
        for key, values in wanted.items():
            values.discard("")
            if values:
                query |= Q(**{f"{key}__in": values}) & ~Q(**{key: ""})
        self.owner: dict[tuple[str, str], int] = {}
        if query:
            rows = Prospect.objects.for_workspace(workspace_id).filter(query)
            for pk, *keys in rows.values_list("pk", *KEYS):
                for key, value in zip(KEYS, keys, strict=True):
                    if value:
                        self.owner[(key, value)] = pk

    def taken(self, prospect: Prospect) -> bool:
        """Whether another prospect holds one of the keys `prospect` would be saved with."""
        return any(
            self.owner.get((key, getattr(prospect, key)), prospect.pk) != prospect.pk
            for key in KEYS
            if getattr(prospect, key)
        )

    def claim(self, prospect: Prospect) -> None:
        loaded = getattr(prospect, "_loaded", {})
        for key in KEYS:
            old, new = loaded.get(key, ""), getattr(prospect, key)
            if old != new and self.owner.get((key, old)) == prospect.pk:
                del self.owner[(key, old)]
            if new:
                self.owner[(key, new)] = prospect.pk


def fallback_name_key(prospect: Prospect, company: Company | None) -> str:
    from prospects import normalize

    loaded = getattr(prospect, "_loaded", {})
    key = normalize.company_key(company.domain, company.name) if company else ""
    return normalize.name_key(
        loaded.get("first_name", prospect.first_name),
        loaded.get("last_name", prospect.last_name),
        key,
    )


def refuse_unstorable(
    workspace_id: int, prospects: list[Prospect], state: Applying, *, do_not_contact: set[int]
) -> None:
    """Refuse, in answer order, an address (or phone) that objected or that another prospect
    holds, as saving each prospect would have; the objection list counts each refusal."""
    checks = {
        prospect.pk: prospect_services.objection_hashes(email=prospect.email, phone=prospect.phone)
        for prospect in prospects
        if {"email", "phone"} & set(state.changed.get(prospect.pk, ()))
    }
    entries = prospect_services.objection_entries(
        workspace_id, (pair for pairs in checks.values() for pair in pairs)
    )
    owners = KeyOwners(workspace_id, prospects, state)
    blocked: list[int] = []
    for prospect in prospects:
        hits = [entries[pair] for pair in checks.get(prospect.pk, ()) if pair in entries]
        if hits:
            blocked.append(min(hits))
            refuse_address(prospect, state)
        elif prospect.pk not in do_not_contact and owners.taken(prospect):
            refuse_address(prospect, state)
        if owners.taken(prospect):
            # Even refused, a key is taken (its company's domain changed): the row keeps the
            # keys it has; the UPDATE below would fail otherwise.
            for key in KEYS:
                setattr(prospect, key, prospect._loaded[key])
        owners.claim(prospect)
    if blocked:
        prospect_services.record_blocked_attempts(workspace_id, blocked)


# --- Writing -----------------------------------------------------------------------------


def write_batch_rows(
    state: Applying, prospects: list[Prospect], *, do_not_contact: set[int]
) -> None:
    """One UPDATE for the companies, one for the prospects; one by one if a race breaks it."""
    companies = {
        pk: {name: getattr(state.companies[pk], name) for name in [*fields, "updated_at"]}
        for pk, fields in state.company_fields.items()
    }
    rows = {}
    for prospect in prospects:
        prospect.updated_at = state.now
        names = [*state.fields[prospect.pk], *KEYS, "search_key", "updated_at"]
        rows[prospect.pk] = {name: field_value(prospect, name) for name in names}
    try:
        with transaction.atomic():
            update_each(Company.objects.for_workspace(state.workspace_id), companies)
            update_each(Prospect.objects.for_workspace(state.workspace_id), rows)
    except IntegrityError:
        save_one_by_one(state, prospects, do_not_contact=do_not_contact)


def field_value(instance: Any, name: str) -> Any:
    return getattr(instance, instance._meta.get_field(name).attname)


def save_one_by_one(
    state: Applying, prospects: list[Prospect], *, do_not_contact: set[int]
) -> None:
    """Each company, then each prospect, saved alone: a row that cannot be stored is refused."""
    for pk, fields in state.company_fields.items():
        company = state.companies[pk]
        try:
            with transaction.atomic():
                company.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            # Another company of the workspace took this domain meanwhile: ours stays as it is.
            company.refresh_from_db()
            state.merged.revert(company, list(fields))
    for prospect in prospects:
        try:
            with transaction.atomic():
                prospect.save(update_fields=state.fields[prospect.pk])
        except (IntegrityError, prospect_services.SuppressedPerson):
            if prospect.pk in do_not_contact:
                raise
            refuse_address(prospect, state)
            prospect.save(update_fields=state.fields[prospect.pk])


def update_each(queryset: QuerySet, values: dict[int, dict[str, Any]]) -> None:
    """Give each row its own values in one UPDATE (a field a row does not list keeps its value).

    Rows sharing a value share one WHEN, and a field every row gives the same value is set
    without a CASE: the verdict fields of a batch take few distinct values.
    """
    if not values:
        return
    names = sorted({name for row in values.values() for name in row})
    per_row = 2 * len(names) + 1
    ids = list(values)
    step = max(1, (connection.features.max_query_params or 65535) // per_row)
    for start in range(0, len(ids), step):
        chunk = {pk: values[pk] for pk in ids[start : start + step]}
        queryset.filter(pk__in=list(chunk)).update(**assignments(queryset.model, names, chunk))


def assignments(model: Any, names: Iterable[str], values: dict[int, dict[str, Any]]) -> dict:
    result = {}
    for name in names:
        field = model._meta.get_field(name)
        groups: dict[Any, list[int]] = {}
        for pk, row in values.items():
            if name in row:
                groups.setdefault(row[name], []).append(pk)
        if len(groups) == 1 and sum(map(len, groups.values())) == len(values):
            result[field.attname] = Value(next(iter(groups)), output_field=field)
            continue
        whens = [When(pk__in=pks, then=Value(v, output_field=field)) for v, pks in groups.items()]
        result[field.attname] = Case(*whens, default=F(field.attname), output_field=field)
    return result
