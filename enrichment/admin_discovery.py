"""The approval queue: discovered contacts with their best address, a score badge (green,
amber, red), where they were found and the evidence for the address; approve or reject one or
many. Approving creates or links the prospect; nothing reaches the prospects before."""

from __future__ import annotations

import operator
from functools import partial, reduce
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects.admin_base import WorkspaceScopedAdmin, is_workspace_admin
from prospects.admin_lists import SEARCH_WORD_LIMIT, search_words

from .admin_discovery_manual import manual_entry_view
from .discovery import contacts, guards
from .models import DiscoveredContact

MAX_REFUSAL_MESSAGES = 10

# The verification's reason codes (discovery/scoring.py, discovery/services.py) as the queue
# says them; the API and verify_emails keep the codes.
REASONS = {
    "invalid_syntax": _("not a valid address"),
    "invalid_domain": _("not a valid domain"),
    "no_name": _("no first or last name to build an address from"),
    "invalid_name": _("the name holds digits or symbols no name has: nothing was asked"),
    "null_mx": _("the domain accepts no email (null MX)"),
    "domain_not_found": _("the domain does not exist"),
    "no_mail_server": _("the domain has no mail server"),
    "dns_error": _("the domain's DNS did not answer"),
    "mailbox_not_found": _("the mail server says this mailbox does not exist"),
    "no_mailbox_found": _("the mail server refused every address tried"),
    "mailbox_accepted": _("the mail server accepts this mailbox"),
    "catch_all": _("the domain accepts every address (catch-all)"),
    "catch_all_unknown": _(
        "accepted, but whether the domain accepts every address is not known yet"
    ),
    "accept_all_provider": _("the mail provider accepts every address, then bounces"),
    "greylisted": _("the mail server asked to try again later (greylisting)"),
    "blocked_by_mail_host": _("the mail server refused to answer us"),
    "smtp_unreachable": _("no mail server could be reached"),
    "probing_paused": _("probing of this mail server is paused"),
    "daily_budget_spent": _("today's probe budget is spent"),
    "not_probed": _("the mail server was not asked"),
    "objected": _("on the objection list: not probed"),
}


def decide_selected(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any, verb):
    """Run `verb` (approve or reject) on the selected contacts of the current workspace."""
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        modeladmin.message_user(
            request, gettext("Choose a workspace in the header first."), messages.ERROR
        )
        return None
    ids = list(queryset.filter(workspace=workspace).values_list("pk", flat=True))
    if not ids:
        # Another workspace's ids, or contacts deleted meanwhile: nothing to decide.
        modeladmin.message_user(
            request,
            gettext("None of the selected contacts is in this workspace: nothing was done."),
            messages.WARNING,
        )
        return None
    return verb(workspace, ids, user=request.user)


def tell_decision(modeladmin: admin.ModelAdmin, request: HttpRequest, decision) -> None:
    """The approval's messages: how many were approved, who was refused and why."""
    if decision.done:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)s contact approved: its prospect is created or linked.",
                "%(count)s contacts approved: their prospects are created or linked.",
                len(decision.done),
            )
            % {"count": len(decision.done)},
            messages.SUCCESS,
        )
    tell_refused(modeladmin, request, decision.refused)


def tell_refused(modeladmin: admin.ModelAdmin, request: HttpRequest, refused: list) -> None:
    """One warning per contact left as it was, with why (the first ten, then a count)."""
    for contact, reason in refused[:MAX_REFUSAL_MESSAGES]:
        modeladmin.message_user(request, f"{contact} — {reason}", messages.WARNING)
    if len(refused) > MAX_REFUSAL_MESSAGES:
        more = len(refused) - MAX_REFUSAL_MESSAGES
        modeladmin.message_user(
            request,
            ngettext(
                "… and %(count)s other contact refused.",
                "… and %(count)s other contacts refused.",
                more,
            )
            % {"count": more},
            messages.WARNING,
        )


@admin.action(description=_("Approve: create the prospects"))
def approve(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    decision = decide_selected(modeladmin, request, queryset, contacts.approve_contacts)
    if decision is not None:
        tell_decision(modeladmin, request, decision)


@admin.action(description=_("Reject"))
def reject(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    decision = decide_selected(modeladmin, request, queryset, contacts.reject_contacts)
    if decision is None:
        return None
    # Only contacts still to review are rejected: say why the others were left as they are.
    refused = decision.refused
    if decision.done or not refused:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)s contact rejected.", "%(count)s contacts rejected.", len(decision.done)
            )
            % {"count": len(decision.done)},
            messages.SUCCESS,
        )
    tell_refused(modeladmin, request, refused)


CONTACT_ACTIONS: list[Any] = [approve, reject]


def search_contacts(queryset: Any, term: str) -> Any:
    """Contacts that hold every word of `term`, accents and case aside, as the prospect list
    searches: in the folded name and domain (`person_key`, folded as the prospects' search
    key is), else as typed in the address, the domain or the job title."""
    for word in term.split()[:SEARCH_WORD_LIMIT]:
        match = Q(email__icontains=word) | Q(domain__icontains=word)
        match |= Q(job_title__icontains=word)
        folded = search_words(word)
        if folded:
            match |= reduce(operator.and_, (Q(person_key__contains=part) for part in folded))
        queryset = queryset.filter(match)
    return queryset


@admin.register(DiscoveredContact)
class DiscoveredContactAdmin(WorkspaceScopedAdmin):
    list_display = (
        "name",
        "job_title",
        "domain",
        "email",
        "score_badge",
        "email_status",
        "method",
        "evidence",
        "status",
        "prospect_link",
    )
    list_filter = ("status", "email_status", "method")
    # Searched in the folded person key as the prospect list is (search_contacts), not with
    # these lookups: "menard" and "MÉNARD" find Juliette Ménard.
    search_fields = ("person_key",)
    list_select_related = ("prospect",)
    # Other apps add theirs (campaigns: approve and add to a campaign), as on the prospect list.
    actions = CONTACT_ACTIONS
    readonly_fields = (
        "domain",
        "company_name",
        "first_name",
        "last_name",
        "job_title",
        "method",
        "source",
        "confidence",
        "email",
        "email_status",
        "email_score",
        "reason_text",
        "catch_all_text",
        "evidence",
        "patterns_tried",
        "checked_at",
        "status",
        "decision_note",
        "decided_by",
        "decided_at",
        "prospect",
        "lawful_basis",
        "created_by",
        "created_at",
    )
    exclude = ("company", "person_key", "catch_all", "email_reason")

    class Media:
        css = {"all": ("css/enrichment.css",)}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str):
        if not search_term.strip():
            return queryset, False
        return search_contacts(queryset, search_term), False

    def get_urls(self):
        view = self.admin_site.admin_view(partial(manual_entry_view, self))
        name = f"{self.opts.app_label}_{self.opts.model_name}_manual"
        return [path("manual/", view, name=name), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        if request.method == "GET":
            # Probing held back (a blocklisted host, port 25 blocked, the day's budget spent):
            # the addresses shown here stay "unknown" until it resumes.
            for warning in guards.warnings():
                self.message_user(request, warning, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only: decisions go through the actions, which act in the current workspace.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting is a workspace administrator's decision, as through the API (an admin
        # key): members approve or reject, and never see the delete action or page.
        return super().has_delete_permission(request, obj) and is_workspace_admin(request)

    @admin.display(description=_("name"), ordering="last_name")
    def name(self, contact: DiscoveredContact) -> str:
        return f"{contact.first_name} {contact.last_name}"

    @admin.display(description=_("score"), ordering="email_score")
    def score_badge(self, contact: DiscoveredContact) -> str:
        if contact.email_score is None:
            return "—"
        return format_html(
            '<span class="badge badge-score-{}">{}</span>', contact.score_class, contact.email_score
        )

    @admin.display(description=_("reason"))
    def reason_text(self, contact: DiscoveredContact) -> str:
        code = contact.email_reason
        return REASONS.get(code.split(":", 1)[0], code) if code else "—"

    @admin.display(description=_("catch-all domain"))
    def catch_all_text(self, contact: DiscoveredContact) -> str:
        # Not the admin's boolean icon: its "unknown" picture says "None" to a screen reader.
        if contact.catch_all is None:
            return "—"
        return gettext("Yes") if contact.catch_all else gettext("No")

    @admin.display(description=_("prospect"))
    def prospect_link(self, contact: DiscoveredContact) -> str:
        if contact.prospect_id is None:
            return "—"
        url = reverse("admin:prospects_prospect_change", args=[contact.prospect_id])
        return format_html('<a href="{}">{}</a>', url, contact.prospect)
