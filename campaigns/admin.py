from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import Count
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from enrichment.admin_discovery import CONTACT_ACTIONS, decide_selected, tell_decision
from enrichment.discovery import contacts as discovery
from prospects import admin as prospects_admin
from prospects.admin_base import (
    WorkspaceScopedAdmin,
    WorkspaceScopedInline,
    say_none_selected,
    scope_for,
)
from prospects.models import Prospect
from prospects.services import objecting_prospect_ids

from . import services
from .admin_exports import CampaignExportMixin
from .admin_outreach import CampaignOutreachMixin, send_to_tool
from .models import Campaign, CampaignMember, SequenceStep


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ("workspace", "name", "description")

    def __init__(self, *args: Any, workspace: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        workspace = self.workspace or data.get("workspace") or self.instance.workspace_id
        name = data.get("name")
        # The workspace is not a form field for members, so Django cannot check this itself.
        if workspace and name:
            clash = (
                Campaign.objects.for_workspace(workspace)
                .filter(name__iexact=name)
                .exclude(pk=self.instance.pk)
            )
            if clash.exists():
                self.add_error("name", _("A campaign with this name already exists."))
        return data


class CampaignMemberInline(WorkspaceScopedInline, admin.TabularInline):
    """Who is in the campaign. Read-only: members are added only through the gate (the action)."""

    model = CampaignMember
    extra = 0
    fields = ("prospect_link", "email", "status", "added_at", "added_by")
    readonly_fields = fields
    verbose_name = _("member")
    verbose_name_plural = _("members")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("prospect", "campaign", "added_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # Deleting stays allowed (the mixin's default): taking someone out can never break the gate.

    @admin.display(description=_("prospect"))
    def prospect_link(self, member: CampaignMember) -> str:
        url = reverse("admin:prospects_prospect_change", args=[member.prospect_id])
        return format_html('<a href="{}">{}</a>', url, member.prospect)

    @admin.display(description=_("email"))
    def email(self, member: CampaignMember) -> str:
        return member.prospect.email

    @admin.display(description=_("Status"))
    def status(self, member: CampaignMember) -> str:
        return admin.site.get_model_admin(Prospect).status_badge(member.prospect)


class SequenceStepInline(WorkspaceScopedInline, admin.TabularInline):
    """The messages of the campaign, in order, each with its delay after the previous one."""

    model = SequenceStep
    extra = 0
    fields = ("position", "kind", "delay_days", "subject", "body")
    verbose_name = _("sequence step")
    verbose_name_plural = _("sequence")


@admin.register(Campaign)
class CampaignAdmin(CampaignOutreachMixin, CampaignExportMixin, WorkspaceScopedAdmin):
    form = CampaignForm
    form_takes_workspace = True
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ("name", "member_count", "created_by", "created_at")
    search_fields = ("name", "description")
    fields = ("workspace", "name", "description", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")
    inlines = [SequenceStepInline, CampaignMemberInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # A new step belongs to the campaign's workspace (not a field of the inline).
        for step_form in formset.forms:
            if step_form.instance is not None and not step_form.instance.workspace_id:
                step_form.instance.workspace_id = form.instance.workspace_id
        super().save_formset(request, form, formset, change)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, campaign: Campaign) -> int:
        return campaign._member_count

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- The prospect list action --------------------------------------------------------------


class AddToCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=_("Existing campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("— choose a campaign —"),
    )
    new_name = forms.CharField(label=_("or a new campaign named"), max_length=200, required=False)

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["new_name"] = " ".join((data.get("new_name") or "").split())
        if not data.get("campaign") and not data["new_name"]:
            raise forms.ValidationError(_("Choose a campaign or type the name of a new one."))
        if data.get("campaign") and data["new_name"]:
            raise forms.ValidationError(_("Choose an existing campaign or a new name, not both."))
        return data


def result_summary(result: services.AddResult, campaign: Campaign) -> list[str]:
    """The sentences shown after adding: how many were added, and who was left out and why."""
    lines = [
        ngettext(
            "%(count)s prospect added to “%(campaign)s”.",
            "%(count)s prospects added to “%(campaign)s”.",
            len(result.added),
        )
        % {"count": len(result.added), "campaign": campaign.name}
    ]
    if result.already:
        lines.append(gettext("%(count)s already in the campaign.") % {"count": len(result.already)})
    if result.excluded:
        head = ngettext(
            "%(count)s prospect excluded:", "%(count)s prospects excluded:", len(result.excluded)
        ) % {"count": len(result.excluded)}
        reasons = "; ".join(f"{prospect} — {reason}" for prospect, reason in result.excluded)
        lines.append(f"{head} {reasons}")
    return lines


def _preview(modeladmin: admin.ModelAdmin, workspace: Any, prospects: list[Prospect]) -> list:
    """(prospect, status badge) as the prospect list shows them: an objector is "Opposé(e)"."""
    objected = objecting_prospect_ids(workspace.pk, prospects)
    for prospect in prospects:
        prospect.objected = prospect.pk in objected
    return [(prospect, modeladmin.status_badge(prospect)) for prospect in prospects]


@admin.action(description=_("Add to a campaign"))
def add_to_campaign(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):
    """Choose (or name) a campaign, then add the verified prospects and explain the others."""
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        modeladmin.message_user(
            request,
            gettext("Choose a workspace in the header before adding prospects to a campaign."),
            level="error",
        )
        return None
    if not queryset.exists():
        # Ids of another workspace's prospects (or deleted ones): nothing to add, nothing created.
        say_none_selected(modeladmin, request)
        return None
    campaigns = Campaign.objects.for_workspace(workspace).order_by("name")
    form = AddToCampaignForm(request.POST if "apply" in request.POST else None, campaigns=campaigns)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "media": modeladmin.media,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "add_to_campaign",
    }
    if form.is_valid():
        campaign = form.cleaned_data["campaign"] or services.get_or_create_campaign(
            workspace.pk, form.cleaned_data["new_name"], user=request.user
        )
        result = services.add_prospects_to_campaign(
            campaign, list(queryset.values_list("pk", flat=True)), user=request.user
        )
        context.update(
            title=gettext("Prospects added to a campaign"),
            campaign=campaign,
            result=result,
            summary=result_summary(result, campaign),
            campaign_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            changelist_url=request.get_full_path(),
        )
        return TemplateResponse(request, "admin/campaigns/add_result.html", context)
    context.update(
        title=gettext("Add to a campaign"),
        form=form,
        count=queryset.count(),
        preview=_preview(modeladmin, workspace, list(queryset[:10])),
        selected=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        select_across=request.POST.get("select_across", "0"),
    )
    return TemplateResponse(request, "admin/campaigns/add_to_campaign.html", context)


for _action in (add_to_campaign, send_to_tool):
    if all(action.__name__ != _action.__name__ for action in prospects_admin.PROSPECT_ACTIONS):
        prospects_admin.PROSPECT_ACTIONS.append(_action)


@admin.action(description=_("Approve and add to a campaign"))
def approve_into_campaign(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):
    """Approve the selected discovered contacts, then choose the campaign for their prospects
    (the same page as the prospect list's action: only the verified ones go in, the others
    are named with their reason)."""
    decision = decide_selected(modeladmin, request, queryset, discovery.approve_contacts)
    if decision is None:
        return None
    tell_decision(modeladmin, request, decision)
    prospect_ids = [c.prospect_id for c in decision.done if c.prospect_id]
    if not prospect_ids:
        return None
    workspace = request.workspace
    prospects = list(Prospect.objects.for_workspace(workspace).filter(pk__in=prospect_ids))
    prospect_admin = modeladmin.admin_site._registry[Prospect]
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": Prospect._meta,
        "media": prospect_admin.media,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "add_to_campaign",
        "title": gettext("Add to a campaign"),
        "form": AddToCampaignForm(
            campaigns=Campaign.objects.for_workspace(workspace).order_by("name")
        ),
        "count": len(prospects),
        "preview": _preview(prospect_admin, workspace, prospects[:10]),
        "selected": prospect_ids,
        "select_across": "0",
        # The campaign is chosen on the prospect list's own action.
        "form_action": reverse("admin:prospects_prospect_changelist"),
    }
    return TemplateResponse(request, "admin/campaigns/add_to_campaign.html", context)


if approve_into_campaign not in CONTACT_ACTIONS:
    CONTACT_ACTIONS.append(approve_into_campaign)


class CampaignFilter(admin.SimpleListFilter):
    """The prospect list's "campaign" filter: the members of one campaign of the workspace."""

    title = _("campaign")
    parameter_name = "campaign"

    def lookups(self, request: HttpRequest, model_admin: Any):
        campaigns = scope_for(request, Campaign.objects.all()).order_by("name")
        return [(str(campaign.pk), campaign.name) for campaign in campaigns[:100]]

    def queryset(self, request: HttpRequest, queryset: Any):
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit()):
            return queryset.none()
        # The members' prospect index serves it; another workspace's campaign finds nobody.
        return queryset.filter(campaign_memberships__campaign_id=int(value))

    def count_alone(self, request: HttpRequest) -> Any:
        """The list's count when this filter alone narrows it: the campaign's members, read
        from their own index (each member is a prospect of the campaign's workspace), instead
        of a join that PostgreSQL runs by scanning every prospect."""
        value = self.value()
        if not (value and value.isascii() and value.isdigit()):
            return None
        return scope_for(request, CampaignMember.objects.filter(campaign_id=int(value)))


if CampaignFilter not in prospects_admin.PROSPECT_FILTERS:
    prospects_admin.PROSPECT_FILTERS.append(CampaignFilter)
