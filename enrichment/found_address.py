"""'Use this address': a verified address Dropcontact found beside the one a person gave."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from prospects import services as prospect_services
from prospects.models import FieldProvenance, Prospect, Source

from .providers.dropcontact import parse_qualification
from .webhooks import events


class AddressNotUsable(ValueError):
    """The found address cannot be stored; the message says why, in French."""


def found_verified_email(prospect: Prospect) -> FieldProvenance | None:
    """The verified professional address of Dropcontact's latest answer, when it is not the
    stored one (the prospect is then "not verified: another address was found")."""
    if prospect.verification_reason != Prospect.Reason.OTHER_VERIFIED:
        return None
    rows = FieldProvenance.objects.for_workspace(prospect.workspace_id).filter(
        prospect=prospect, field="email", source=Source.DROPCONTACT
    )
    latest = rows.order_by("-observed_at", "-id").first()
    if latest is None:
        return None
    for row in rows.filter(observed_at=latest.observed_at).order_by("-confidence", "id"):
        if row.value != prospect.email and parse_qualification(row.detail).is_verified_pro:
            return row
    return None


def use_found_email(prospect: Prospect, *, user: Any = None) -> Prospect:
    """Store the verified address Dropcontact found as the prospect's email, by a person's
    choice: the prospect is verified, since that address is the one Dropcontact verified."""
    with transaction.atomic():
        locked = (
            Prospect.objects.for_workspace(prospect.workspace_id)
            .select_for_update()
            .get(pk=prospect.pk)
        )
        found = found_verified_email(locked)
        if found is None:
            raise AddressNotUsable(_("Dropcontact found no other verified address to use."))
        locked.email = found.value
        locked.status = Prospect.Status.VERIFIED
        locked.verified_at = found.observed_at
        locked.email_qualification = found.detail
        locked.verification_reason = ""
        locked.last_error = ""
        fields = ["email", "status", "verified_at", "email_qualification"]
        try:
            with transaction.atomic():
                locked.save(update_fields=[*fields, "verification_reason", "last_error"])
        except IntegrityError as exc:
            raise AddressNotUsable(
                _("This address is already used by another prospect of the workspace.")
            ) from exc
        except prospect_services.SuppressedPerson as exc:
            raise AddressNotUsable(str(exc)) from exc
        prospect_services.record_initial_provenance(locked, source=Source.MANUAL, fields=("email",))
        events.emit_prospect_verdicts(locked.workspace_id, [(f"found:{found.pk}", locked.pk)])
    return locked
