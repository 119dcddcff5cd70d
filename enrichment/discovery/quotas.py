"""Discovery's quotas (`SOURCIER_DISCOVERY_QUOTAS`): per requester — an API key, or a person
for the admin's session and commands — parallel jobs, contacts added and addresses checked in
24 hours; per company, contacts.

They are checked when a job is asked for, and the contacts quota again for each contact added.
A job's contacts are counted on it as they are added: its requester's jobs of the last 24 hours
are locked and summed in the transaction that adds the contact and counts it, so parallel jobs
of one key never go past the quota together, and a running job counts from its first contact.
The addresses checked are taken the same way, a group of contacts at a time, before they are
checked."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from prospects.models import ApiKey, Workspace

from ..discovery_jobs import DiscoveryJob
from ..models import DiscoveredContact

QUOTA_DEFAULTS = {
    "contacts_per_user_per_day": 100,
    "emails_per_user_per_day": 500,
    "jobs_per_user": 10,
    "contacts_per_company": 50,
}
DAY = dt.timedelta(hours=24)


class DiscoveryRefused(ValueError):
    """A discovery request that may not go on: a message in the active language, for the
    user, and a stable code (the API's error code)."""

    def __init__(self, message: str, *, code: str = "discovery_refused") -> None:
        super().__init__(message)
        self.code = code


def quota(name: str) -> int:
    return {**QUOTA_DEFAULTS, **getattr(settings, "SOURCIER_DISCOVERY_QUOTAS", {})}[name]


def contacts_quota_reached() -> DiscoveryRefused:
    return DiscoveryRefused(
        _(
            "You have reached your quota of %(max)s discovered contacts in 24 hours: "
            "try again later, or ask an administrator to raise it."
        )
        % {"max": quota("contacts_per_user_per_day")},
        code="discovery_quota_contacts",
    )


def emails_quota_reached() -> DiscoveryRefused:
    return DiscoveryRefused(
        _("You have reached your quota of %(max)s addresses checked in 24 hours.")
        % {"max": quota("emails_per_user_per_day")},
        code="discovery_quota_emails",
    )


def kept_on(contacts, domain: str) -> int:
    """The company's contacts its quota counts: those someone rejected (a heading taken for a
    name) leave room for real people."""
    return contacts.filter(domain=domain).exclude(status=DiscoveredContact.Status.REJECTED).count()


def company_quota_reached(domain: str) -> DiscoveryRefused:
    return DiscoveryRefused(
        _("%(domain)s already has %(max)s discovered contacts, the most per company.")
        % {"domain": domain, "max": quota("contacts_per_company")},
        code="discovery_quota_company",
    )


def check_contact_quotas(workspace: Workspace, domain: str, user: Any) -> None:
    """Before one more contact: the person's contacts of the last 24 hours (whoever added
    them: a job, a command, the admin), and the company's."""
    contacts = DiscoveredContact.objects.for_workspace(workspace)
    if getattr(user, "pk", None):
        since = timezone.now() - DAY
        today = contacts.filter(created_by=user, created_at__gte=since).count()
        if today >= quota("contacts_per_user_per_day"):
            raise contacts_quota_reached()
    _hold_company(workspace.pk, domain)
    if kept_on(contacts, domain) >= quota("contacts_per_company"):
        raise company_quota_reached(domain)


def _hold_company(workspace_id: int, domain: str) -> None:
    """Within the caller's transaction, one contact at a time for this company: two jobs on
    one domain never both count the same contacts and pass its quota together. PostgreSQL
    takes a transaction lock of its own for the company; SQLite's write transaction holds
    the whole database already."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    name = f"discovery-company:{workspace_id}:{domain}".encode()
    key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def requested_by(user: Any, api_key: ApiKey | None) -> Q:
    if api_key is not None:
        return Q(api_key=api_key)
    if getattr(user, "pk", None):
        return Q(requested_by=user, api_key__isnull=True)
    return Q(pk__in=[])


def _today() -> Q:
    """Jobs of the last 24 hours: asked for, or run again (a retried job's contacts count)."""
    since = timezone.now() - DAY
    return Q(created_at__gte=since) | Q(started_at__gte=since)


def check_quotas(workspace: Workspace, domain: str, *, user: Any, api_key: ApiKey | None) -> None:
    """Before a job: the requester's quotas (parallel jobs, contacts and addresses checked in
    24 hours, running jobs included) and the company's; DiscoveryRefused with its code."""
    mine = DiscoveryJob.objects.for_workspace(workspace).filter(requested_by(user, api_key))
    running = mine.filter(status__in=DiscoveryJob.LIVE_STATUSES).count()
    if running >= quota("jobs_per_user"):
        most = quota("jobs_per_user")
        raise DiscoveryRefused(
            ngettext(
                "%(max)s discovery is already running for you: wait for it to finish.",
                "%(max)s discoveries are already running for you: wait for one to finish.",
                most,
            )
            % {"max": most},
            code="discovery_quota_jobs",
        )
    today = mine.filter(_today()).aggregate(added=Sum("added"), checked=Sum("checked"))
    if (today["added"] or 0) >= quota("contacts_per_user_per_day"):
        raise contacts_quota_reached()
    if (today["checked"] or 0) >= quota("emails_per_user_per_day"):
        raise emails_quota_reached()
    known = kept_on(DiscoveredContact.objects.for_workspace(workspace), domain)
    if known >= quota("contacts_per_company"):
        raise company_quota_reached(domain)


class JobContacts:
    """The contacts quota of a running job's requester, held for each contact the job adds
    (`contacts.add_contact(allowance=…)`): `reserve` then `count`, in the transaction that
    adds the contact."""

    def __init__(self, job: DiscoveryJob) -> None:
        self.job = job

    def _jobs(self):
        return DiscoveryJob.objects.for_workspace(self.job.workspace_id)

    def _used_today(self, column: str) -> int:
        """The requester's total of `column` over its jobs of the last 24 hours (this one
        among them), their rows locked always in the same order so that two jobs never wait
        for each other. Inside the caller's transaction."""
        mine = requested_by(self.job.requested_by, self.job.api_key)
        jobs = (
            self._jobs()
            .filter((mine & _today()) | Q(pk=self.job.pk))
            .select_for_update()
            .order_by("pk")
        )
        return sum(jobs.values_list(column, flat=True))

    def reserve(self) -> None:
        """Refuse a contact past the requester's quota (`discovery_quota_contacts`), their
        jobs locked until the caller's transaction ends."""
        if self._used_today("added") >= quota("contacts_per_user_per_day"):
            raise contacts_quota_reached()

    def count(self) -> None:
        """One more contact added by the job, seen at once by its requester's other jobs."""
        self._jobs().filter(pk=self.job.pk).update(added=F("added") + 1)

    def take_checks(self, wanted: int) -> int:
        """How many of `wanted` more contacts the job may have checked (their addresses
        found and verified) before its requester's quota of addresses checked in 24 hours
        is reached: counted on the job at once, under the same lock as `reserve`, so
        parallel jobs never pass the quota together."""
        with transaction.atomic():
            left = quota("emails_per_user_per_day") - self._used_today("checked")
            granted = max(0, min(wanted, left))
            if granted:
                self._jobs().filter(pk=self.job.pk).update(checked=F("checked") + granted)
        return granted
