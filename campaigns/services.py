"""Campaign services: the verified-only gate, and adding prospects to a campaign through it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prospects import services as prospect_services
from prospects.models import Prospect

from .models import Campaign, CampaignGateError, CampaignMember

Status = Prospect.Status

# Why a prospect with this status may not enter a campaign (a verified one may).
STATUS_REASONS = {
    Status.NEW: gettext_lazy("Not enriched yet"),
    Status.ENRICHING: gettext_lazy("Enrichment in progress"),
    Status.NOT_VERIFIED: gettext_lazy("Email address not verified"),
    Status.NEEDS_REVIEW: gettext_lazy("Awaiting review"),
}
SUPPRESSED_REASON = gettext_lazy("On the suppression list")
NO_EMAIL_REASON = gettext_lazy("No email address")


def exclusion_reason(prospect: Prospect, *, suppressed: bool | None = None) -> str | None:
    """Why this prospect may not enter a campaign (in the active language), or None if it may.

    `suppressed` lets a caller that checked the objection list in bulk skip the lookup.
    """
    if suppressed is None:
        suppressed = prospect_services.is_prospect_suppressed(prospect)
    if suppressed:
        return str(SUPPRESSED_REASON)
    # Not enriched, being enriched or awaiting review: the status says what to do next, even
    # when there is no address yet (enrichment may find one).
    if prospect.status not in (Status.VERIFIED, Status.NOT_VERIFIED):
        return str(STATUS_REASONS.get(prospect.status, STATUS_REASONS[Status.NOT_VERIFIED]))
    if not prospect.email:
        return str(NO_EMAIL_REASON)
    if prospect.status != Status.VERIFIED:
        # What happened (another address was found, catch-all, …), else the generic words.
        return prospect.not_verified_reason or str(STATUS_REASONS[Status.NOT_VERIFIED])
    return None


def exclusion_code(prospect: Prospect, *, suppressed: bool) -> str | None:
    """The stable code of `exclusion_reason` (for what a receiver reads), or None."""
    if suppressed:
        return "objected"
    if prospect.status not in (Status.VERIFIED, Status.NOT_VERIFIED):
        return str(prospect.status)
    if not prospect.email:
        return "no_email"
    return None if prospect.status == Status.VERIFIED else str(Status.NOT_VERIFIED)


def check_members(members: list[CampaignMember]) -> None:
    """Raise CampaignGateError unless every member's prospect may enter its campaign.

    Reads the prospects and campaigns afresh from the database: the instances a caller holds may
    be stale (a re-enrichment may have changed the status meanwhile).
    """
    by_workspace: dict[int, list[CampaignMember]] = {}
    for member in members:
        by_workspace.setdefault(member.workspace_id, []).append(member)
    for workspace_id, group in by_workspace.items():
        prospects = {
            p.pk: p
            for p in Prospect.objects.for_workspace(workspace_id).filter(
                pk__in={m.prospect_id for m in group}
            )
        }
        campaigns = set(
            Campaign.objects.for_workspace(workspace_id)
            .filter(pk__in={m.campaign_id for m in group})
            .values_list("pk", flat=True)
        )
        suppressed = prospect_services.objecting_prospect_ids(workspace_id, prospects.values())
        for member in group:
            prospect = prospects.get(member.prospect_id)
            if prospect is None or member.campaign_id not in campaigns:
                # Another workspace's prospect or campaign: as if it did not exist.
                raise CampaignGateError(
                    prospect or member.prospect, _("Prospect not found in this workspace.")
                )
            reason = exclusion_reason(prospect, suppressed=prospect.pk in suppressed)
            if reason:
                raise CampaignGateError(prospect, reason)


@dataclass
class AddResult:
    added: list[Prospect] = field(default_factory=list)
    already: list[Prospect] = field(default_factory=list)
    excluded: list[tuple[Prospect, str]] = field(default_factory=list)


def add_prospects_to_campaign(
    campaign: Campaign, prospects_or_ids: Iterable[Prospect | int], *, user: Any = None
) -> AddResult:
    """Add the verified prospects; report the others, each with the reason it was left out.

    Prospects of another workspace are ignored as if they did not exist.
    """
    ids: list[int] = []
    for item in prospects_or_ids:
        pk = item.pk if isinstance(item, Prospect) else int(item)
        if pk not in ids:
            ids.append(pk)
    result = AddResult()
    workspace_id = campaign.workspace_id
    with transaction.atomic():
        # Locked so that a concurrent re-enrichment cannot change a status between the check
        # and the insert (PostgreSQL; SQLite serialises writers anyway).
        found = {
            p.pk: p
            for p in Prospect.objects.for_workspace(workspace_id)
            .filter(pk__in=ids)
            .select_for_update()
        }
        prospects = [found[pk] for pk in ids if pk in found]
        members_already = set(
            CampaignMember.objects.for_workspace(workspace_id)
            .filter(campaign=campaign, prospect_id__in=list(found))
            .values_list("prospect_id", flat=True)
        )
        suppressed = prospect_services.objecting_prospect_ids(workspace_id, prospects)
        to_add = []
        for prospect in prospects:
            if prospect.pk in members_already:
                result.already.append(prospect)
                continue
            reason = exclusion_reason(prospect, suppressed=prospect.pk in suppressed)
            if reason:
                result.excluded.append((prospect, reason))
            else:
                to_add.append(prospect)
        if to_add:
            added_by = user if getattr(user, "pk", None) else None
            try:
                with transaction.atomic():
                    CampaignMember.objects.bulk_create(
                        [
                            CampaignMember(
                                workspace_id=workspace_id,
                                campaign=campaign,
                                prospect=prospect,
                                added_by=added_by,
                            )
                            for prospect in to_add
                        ]
                    )
            except IntegrityError:
                # Someone added some of them meanwhile: add one by one, counting theirs.
                for prospect in to_add:
                    try:
                        with transaction.atomic():
                            CampaignMember(
                                workspace_id=workspace_id,
                                campaign=campaign,
                                prospect=prospect,
                                added_by=added_by,
                            ).save()
                    except IntegrityError:
                        result.already.append(prospect)
                        continue
                    result.added.append(prospect)
            else:
                result.added.extend(to_add)
    return result


def get_or_create_campaign(workspace_id: int, name: str, *, user: Any = None) -> Campaign:
    """The workspace's campaign with this name, created if it does not exist yet."""
    name = " ".join(name.split())
    campaigns = Campaign.objects.for_workspace(workspace_id)
    found = campaigns.filter(name__iexact=name).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return Campaign.objects.create(
                workspace_id=workspace_id,
                name=name,
                created_by=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError:
        return campaigns.get(name=name)


@dataclass
class SendList:
    """A campaign's members as they stand now: who may be sent to, who is left out and why."""

    included: list[Prospect] = field(default_factory=list)
    excluded: list[tuple[Prospect, str]] = field(default_factory=list)


def build_send_list(campaign: Campaign) -> SendList:
    """The gate, checked again: a member who became unverified or objected since joining is
    left out, with the reason. Three queries whatever the size of the campaign."""
    workspace_id = campaign.workspace_id
    prospects = [
        member.prospect
        for member in CampaignMember.objects.for_workspace(workspace_id)
        .filter(campaign=campaign)
        .select_related("prospect__company")
        .order_by("prospect__last_name", "prospect__first_name", "prospect_id")
    ]
    return gate(workspace_id, prospects)


def gate(workspace_id: int, prospects: list[Prospect]) -> SendList:
    """These prospects through the gate as they stand now (one objection-list query); each
    one left out is tagged with `exclusion_code` as `prospect.exclusion_code`."""
    suppressed = prospect_services.objecting_prospect_ids(workspace_id, prospects)
    send_list = SendList()
    for prospect in prospects:
        reason = exclusion_reason(prospect, suppressed=prospect.pk in suppressed)
        if reason:
            prospect.exclusion_code = exclusion_code(prospect, suppressed=prospect.pk in suppressed)
            send_list.excluded.append((prospect, reason))
        else:
            send_list.included.append(prospect)
    return send_list


def send_list_csv(campaign: Campaign, *, bom: bool = True) -> Iterator[str]:
    """The members who may be sent to, as CSV (formula-escaped, `;`, optional BOM)."""
    send_list = build_send_list(campaign)
    return prospect_services.prospects_csv(
        ((prospect, [campaign.name]) for prospect in send_list.included),
        extra_header=[_("Campaign")],
        bom=bom,
    )


def excluded_csv(campaign: Campaign, *, bom: bool = True) -> Iterator[str]:
    """The members left out of the send list, each with the reason."""
    send_list = build_send_list(campaign)
    return prospect_services.prospects_csv(
        ((prospect, [reason]) for prospect, reason in send_list.excluded),
        extra_header=[_("Reason left out")],
        bom=bom,
    )
