"""The objection list: the one place that turns an email or a phone into the keyed hash the
list stores, and that looks the list up; imports, enrichment and campaigns all ask through
these functions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from .. import normalize
from ..lookups import in_workspace
from ..models import Prospect, SuppressionEntry, Workspace
from ..signals import notify_persons_objected
from .cleaning import SuppressedPerson


def objection_hashes(*, email: str = "", phone: str = "") -> list[tuple[str, str]]:
    """(kind, keyed hash) pairs for the normalised email and phone that are present."""
    pairs = []
    if email:
        pairs.append((SuppressionEntry.Kind.EMAIL, normalize.keyed_hash("email", email.lower())))
    if phone:
        pairs.append((SuppressionEntry.Kind.PHONE, normalize.keyed_hash("phone", phone)))
    return pairs


def objection_entries(
    workspace_id: int, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The entry id of every (kind, keyed hash) pair on the workspace's list (one query)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    # An import asks for thousands of hashes a chunk: one JSON parameter, not an `__in`. The
    # hashes are keyed by kind, so an email's can never be a phone's: the kind is checked
    # here, and the query still probes the (workspace, kind, hash) index once per kind.
    rows = in_workspace(
        SuppressionEntry,
        workspace_id,
        "key_hash",
        sorted({key_hash for _kind, key_hash in wanted}),
        where=" AND t.kind IN (%s, %s)",
        where_params=[SuppressionEntry.Kind.EMAIL, SuppressionEntry.Kind.PHONE],
        also=("kind",),
    )
    return {(kind, key_hash): pk for key_hash, pk, kind in rows if (kind, key_hash) in wanted}


def objecting_prospect_ids(workspace_id: int, prospects: Iterable[Prospect]) -> set[int]:
    """The prospects whose email or phone is on the objection list."""
    wanted = {
        prospect.pk: objection_hashes(email=prospect.email, phone=prospect.phone)
        for prospect in prospects
    }
    found = objection_entries(workspace_id, (pair for pairs in wanted.values() for pair in pairs))
    return {pk for pk, pairs in wanted.items() if any(pair in found for pair in pairs)}


def objecting_emails(workspace_id: int, emails: Iterable[str]) -> set[str]:
    """The normalised addresses among `emails` that are on the objection list."""
    by_pair = {objection_hashes(email=email)[0]: email for email in emails if email}
    return {by_pair[pair] for pair in objection_entries(workspace_id, by_pair)}


def find_suppression(
    workspace: Workspace, *, email: str = "", phone: str = ""
) -> SuppressionEntry | None:
    """The list entry matching this email or phone, if any."""
    found = objection_entries(workspace.pk, objection_hashes(email=email, phone=phone))
    if not found:
        return None
    return SuppressionEntry.objects.for_workspace(workspace).get(pk=min(found.values()))


def is_objecting(workspace: Workspace, *, email: str = "", phone: str = "") -> bool:
    return bool(objection_entries(workspace.pk, objection_hashes(email=email, phone=phone)))


def record_blocked_attempt(entry: SuppressionEntry) -> None:
    """Count a refused creation, so the list shows it is working (nothing else is stored)."""
    record_blocked_attempts(entry.workspace_id, [entry.pk])


def record_blocked_attempts(workspace_id: int, entry_ids: list[int]) -> None:
    """Count refused creations, an entry once per time it appears: one UPDATE per count."""
    by_count: dict[int, list[int]] = {}
    for pk, count in Counter(entry_ids).items():
        by_count.setdefault(count, []).append(pk)
    now = timezone.now()
    entries = SuppressionEntry.objects.for_workspace(workspace_id)
    for count, ids in by_count.items():
        entries.filter(pk__in=ids).update(
            blocked_attempts=F("blocked_attempts") + count, last_blocked_at=now
        )


def ensure_not_suppressed(workspace: Workspace, *, email: str = "", phone: str = "") -> None:
    """Raise SuppressedPerson (and count the attempt) when the email or phone objected."""
    entry = find_suppression(workspace, email=email, phone=phone)
    if entry:
        record_blocked_attempt(entry)
        raise SuppressedPerson()


def suppress_person(
    workspace: Workspace,
    *,
    email: str = "",
    phone: str = "",
    reason: str = SuppressionEntry.Reason.OBJECTION,
    user: Any = None,
) -> list[SuppressionEntry]:
    """Add an email and/or phone to the objection list (idempotent); returns the entries."""
    email = normalize.normalize_email(email) if email else ""
    phone = normalize.normalize_phone(phone) if phone else ""
    entries = []
    for kind, key_hash in objection_hashes(email=email, phone=phone):
        entry, _created = SuppressionEntry.objects.for_workspace(workspace).get_or_create(
            workspace=workspace,
            kind=kind,
            key_hash=key_hash,
            defaults={"reason": reason, "created_by": user},
        )
        entries.append(entry)
    # The workspace's prospects who are this person: what is under way for them must stop.
    match = (Q(email_key=normalize.email_key(email)) if email else Q()) | (
        Q(phone=phone) if phone else Q()
    )
    if match:
        _stop_objectors(workspace.pk, match)
    return entries


def suppress_emails(workspace_id: int, emails: Iterable[str], *, reason: str) -> None:
    """Add normalised addresses to the objection list at once (idempotent): what
    `suppress_person` does for one email, in three queries for any number."""
    emails = sorted(set(filter(None, emails)))
    if not emails:
        return
    SuppressionEntry.objects.bulk_create(
        [
            SuppressionEntry(workspace_id=workspace_id, kind=kind, key_hash=key_hash, reason=reason)
            for email in emails
            for kind, key_hash in objection_hashes(email=email)
        ],
        ignore_conflicts=True,
    )
    _stop_objectors(workspace_id, Q(email_key__in=[normalize.email_key(e) for e in emails]))


def _stop_objectors(workspace_id: int, match: Q) -> None:
    """The prospects matching `match` just objected: no verdict stands, nothing goes on."""
    matching = Prospect.objects.for_workspace(workspace_id).filter(match)
    # A verdict given before the objection no longer stands: the person is not verified
    # (so no campaign, no "Vérifié" filter) and the page says why.
    matching.filter(status=Prospect.Status.VERIFIED).update(
        status=Prospect.Status.NOT_VERIFIED,
        verified_at=None,
        verification_reason=Prospect.Reason.OBJECTED,
        last_error=str(Prospect.Reason.OBJECTED.label),
        updated_at=timezone.now(),
    )
    notify_persons_objected(workspace_id, list(matching.values_list("pk", flat=True)))


def is_prospect_suppressed(prospect: Prospect) -> bool:
    return is_objecting(prospect.workspace, email=prospect.email, phone=prospect.phone)
