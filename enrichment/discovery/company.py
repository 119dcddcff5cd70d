"""Discovering a company's people for free: read its own pages for the people it names and
the addresses it publishes, then find and verify each person's address (permutations, DNS,
SMTP). Everything found waits in the approval queue; nothing touches the prospects.

Nobody on the objection list is ever probed: when any candidate address of a person is on
it, that person is left out before the first DNS or SMTP question."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Prospect, Workspace

from ..models import DiscoveredContact
from . import checking, contacts, domains, people_search, quotas, site_fetch
from .patterns import KnownAddress
from .permutations import pattern_of
from .services import Discovery
from .site_fetch import fetch_page, site_url
from .website import PageFindings, PersonOnPage, merge_into, pages_to_visit, read_page

log = logging.getLogger(__name__)

# What the run says when the site held it back (`DiscoveryRun.warnings`, beside the prober's).
WARNING_PAGE_TOO_SLOW = "site_page_too_slow"
WARNING_SITE_TIME_SPENT = "site_time_spent"
# Not one page of the site could be read (refused address, no answer, an error, not HTML):
# an empty run then says it did not see the site, not that the site names nobody.
WARNING_SITE_UNREADABLE = "site_unreadable"
Fetch = Callable[[str, float], str | None]


@dataclass
class DiscoveryRun:
    """What one discovery of a domain did, for the command, the API and the admin."""

    domain: str
    pages: int = 0
    people: int = 0
    added: int = 0
    objected: int = 0
    statuses: Counter = field(default_factory=Counter)
    refused: str = ""
    refused_code: str = ""
    warnings: set[str] = field(default_factory=set)
    contact_ids: list[int] = field(default_factory=list)
    # Named by the vendor's people search (not on the site), and what that search cost.
    provider_people: int = 0
    cost: Decimal = Decimal("0")


@dataclass
class Site:
    """What a company's own pages gave."""

    people: dict[tuple[str, str], PersonOnPage] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    pages: int = 0
    warnings: set[str] = field(default_factory=set)
    # The company's name as its pages give it (the first page that does), "" if none does.
    company_name: str = ""


def read_site(domain: str, fetch: Fetch = fetch_page, *, company_name: str = "") -> Site:
    """The people, published addresses and pages read of the home page and the pages it links,
    within the site's deadline (SOURCIER_DISCOVERY_SITE_SECONDS): a page too slow is skipped,
    and the pages left when the time is spent are not asked, each with a warning.

    The company's name and the home page's headings are never taken for a person's on the
    other pages; a person named on several pages is merged (`website.merged`)."""
    site = Site()
    until = time.monotonic() + site_fetch.site_seconds()
    not_people = {normalize.fold(company_name)} - {""}
    home = _read(site, domain, "/", fetch, until, not_people)
    if home is not None:
        not_people |= home.headings | {normalize.fold(home.company_name)} - {""}
    for path in pages_to_visit(home.links if home is not None else []):
        if time.monotonic() >= until:
            log.warning("discovery of %s: the site's time is spent, %s on skipped", domain, path)
            site.warnings.add(WARNING_SITE_TIME_SPENT)
            break
        _read(site, domain, path, fetch, until, not_people)
    if not site.pages and not site.warnings:  # (a slow site's warnings say why already)
        log.warning("discovery of %s: no page of the site could be read", domain)
        site.warnings.add(WARNING_SITE_UNREADABLE)
    return site


def _read(
    site: Site, domain: str, path: str, fetch: Fetch, until: float, not_people: set[str]
) -> PageFindings | None:
    url = site_url(domain, path)
    try:
        html = fetch(url, min(time.monotonic() + site_fetch.page_seconds(), until))
    except site_fetch.PageTooSlow:
        log.warning("discovery of %s: %s did not arrive in time and was skipped", domain, url)
        site.warnings.add(WARNING_PAGE_TOO_SLOW)
        return None
    if html is None:
        return None
    site.pages += 1
    found = read_page(html, base_url=site_url(domain, "/"), domain=domain, not_people=not_people)
    site.company_name = site.company_name or found.company_name
    site.emails += [e for e in found.emails if e not in site.emails]
    merge_into(site.people, found.people)
    return found


def known_addresses(
    workspace: Workspace, domain: str, published: list[str], people: list[PersonOnPage]
) -> list[KnownAddress]:
    """Addresses that teach the domain's pattern: verified prospects of the workspace on the
    domain, and published addresses whose local part matches a person on the pages."""
    known = [
        KnownAddress(email, first, last)
        for email, first, last in Prospect.objects.for_workspace(workspace)
        .filter(status=Prospect.Status.VERIFIED, email_key__endswith="@" + domain)
        .values_list("email", "first_name", "last_name")[:200]
        if first and last
    ]
    for email in published:
        local = email.partition("@")[0]
        for person in people:
            if pattern_of(local, person.first_name, person.last_name):
                known.append(KnownAddress(email, person.first_name, person.last_name))
                break
    return known


def discover_company(
    workspace: Workspace,
    domain: str,
    *,
    user: Any = None,
    smtp: bool = True,
    fetch: Fetch = fetch_page,
    progress: Callable[[int, int], Any] | None = None,
    search_people: bool = False,
    allowance: Any = None,
) -> DiscoveryRun:
    """Read the site of `domain`, add the people it names as contacts to review, and find
    and verify each one's best address. With `search_people`, the people the workspace's
    people-search vendors (AI Ark, Apollo) know there are added too (paid, once per domain
    within the cache period). A job's `allowance` holds its requester's contacts quota for
    each contact added (see quotas.JobContacts): once spent, the run stops there."""
    domain = domains.clean_domain(domain, required=True)
    run = DiscoveryRun(domain=domain)
    company = prospect_services.find_company(workspace.pk, domain=domain)
    site = read_site(domain, fetch, company_name=company.name if company else "")
    run.pages, run.warnings = site.pages, set(site.warnings)
    people = list(site.people.values())
    if search_people:
        people = _with_provider_people(workspace, domain, people, run)
    # The most trusted first (schema.org, the legal notice): when the company's quota stops
    # the run, it stops on the least sure.
    people.sort(key=lambda person: -person.confidence)
    run.people = len(people)
    known = known_addresses(workspace, domain, site.emails, people)
    with Discovery(workspace_id=workspace.pk, smtp=smtp) as discovery:
        to_check = _add_people(workspace, site, people, company, run, user, allowance)
        _check_together(discovery, to_check, known, run, progress, len(people), allowance)
        run.warnings |= set(discovery.warnings)
    return run


def _add_people(
    workspace: Workspace,
    site: Site,
    people: list[PersonOnPage],
    company: Any,
    run: DiscoveryRun,
    user: Any,
    allowance: Any,
) -> list[tuple[int, DiscoveredContact]]:
    """Add each person as a contact to review (nobody who objected; until a quota stops the
    run): the contacts still to check, with their place among the people (for the
    progress). A contact already checked keeps its answer: running a discovery again (a
    retried task, a second click) sends no probe."""
    domain = run.domain
    to_check: list[tuple[int, DiscoveredContact]] = []
    for done, person in enumerate(people, start=1):
        if checking.objecting(workspace.pk, person.first_name, person.last_name, domain):
            run.objected += 1
            continue
        from_search = person.how == people_search.HOW
        try:
            contact, created = contacts.add_contact(
                workspace,
                first_name=person.first_name,
                last_name=person.last_name,
                domain=domain,
                job_title=person.job_title,
                method=(
                    DiscoveredContact.Method.PROVIDER
                    if from_search
                    else DiscoveredContact.Method.WEBSITE
                ),
                source=person.source if from_search else site_url(domain, "/"),
                confidence=person.confidence,
                company=company,
                company_name=site.company_name,
                user=user,
                allowance=allowance,
            )
        except contacts.DiscoveryRefused as refusal:
            run.refused = str(refusal)
            run.refused_code = refusal.code
            break
        run.added += int(created)
        run.contact_ids.append(contact.pk)
        if contact.status == DiscoveredContact.Status.PENDING and contact.checked_at is None:
            to_check.append((done, contact))
    return to_check


# Contacts whose addresses are found together (one write of probe rows per round); the
# progress (a job's lease) is told after each such group.
CHECK_AT_ONCE = 25


def _check_together(
    discovery: Discovery,
    to_check: list[tuple[int, DiscoveredContact]],
    known: list[KnownAddress],
    run: DiscoveryRun,
    progress: Callable[[int, int], Any] | None,
    people: int,
    allowance: Any = None,
) -> None:
    """Find and record the contacts' addresses, CHECK_AT_ONCE at a time (their candidates
    asked in rounds together, `checking.check_contacts`), the progress told after each wave
    of rounds and each group. A job's `allowance` takes each group's checks from its
    requester's quota first: once spent, the run stops there (the rest stay to check)."""
    done_before = 0
    quota_reached = False
    for start in range(0, len(to_check), CHECK_AT_ONCE):
        group = to_check[start : start + CHECK_AT_ONCE]
        if allowance is not None:
            granted = allowance.take_checks(len(group))
            if quota_reached := granted < len(group):
                if not run.refused_code:  # the first quota reached is the one told
                    refusal = quotas.emails_quota_reached()
                    run.refused, run.refused_code = str(refusal), refusal.code
                group = group[:granted]
                if not group:
                    break
        # The heartbeat goes on between the group's waves (a job's lease, a slow host).
        heartbeat = (lambda done=done_before: progress(done, people)) if progress else None
        verdicts = checking.check_contacts(
            discovery, [c for _done, c in group], known=known, on_wave=heartbeat
        )
        done_before = group[-1][0]
        for verdict in verdicts:
            run.statuses[verdict.status] += 1
        if progress:
            progress(group[-1][0], people)
        if quota_reached:
            break
    if progress:
        progress(people, people)


def _with_provider_people(
    workspace: Workspace, domain: str, people: list[PersonOnPage], run: DiscoveryRun
) -> list[PersonOnPage]:
    """The site's people, then those only the vendors' people searches name."""
    search = people_search.search_people(workspace.pk, domain, named=people)
    run.warnings.update(search.warnings)
    run.cost = search.cost
    seen = {(normalize.fold(p.first_name), normalize.fold(p.last_name)) for p in people}
    added = []
    for person in search.people:
        name = (normalize.fold(person.first_name), normalize.fold(person.last_name))
        if name not in seen:
            seen.add(name)
            added.append(person)
    run.provider_people = len(added)
    return [*people, *added]
