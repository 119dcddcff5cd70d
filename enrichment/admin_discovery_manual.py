"""Adding a discovered contact by hand, from the approval queue: first name, last name, job
title and the company's domain. The same quotas and de-duplication as the other sources; the
address is then found and verified like theirs (in a worker), and waits for approval."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .discovery import checking, contacts
from .discovery.permutations import foreign_characters
from .models import DiscoveredContact


def validate_person_name(value: str) -> None:
    """A person's name: letters (any script, with their accents), spaces, hyphens, apostrophes
    and dots. Digits, symbols, emoji or a formula ("=HYPERLINK(…)") would only be probed as
    junk addresses."""
    if not any(char.isalpha() for char in value):
        raise ValidationError(_("A name needs letters."), code="no_letters")
    if others := foreign_characters(value):
        raise ValidationError(
            _(
                "A name holds only letters, spaces, hyphens and apostrophes: remove "
                "%(characters)s."
            ),
            code="not_a_name",
            params={"characters": " ".join(f"« {_shown(char)} »" for char in others[:10])},
        )


def _shown(char: str) -> str:
    """A character as the message shows it: an invisible one (a NUL, a tab) by its code."""
    return char if char.isprintable() else f"U+{ord(char):04X}"


class ManualContactForm(forms.Form):
    first_name = forms.CharField(
        label=_("first name"), max_length=150, validators=[validate_person_name]
    )
    last_name = forms.CharField(
        label=_("last name"), max_length=150, validators=[validate_person_name]
    )
    job_title = forms.CharField(label=_("job title"), max_length=255, required=False)
    domain = forms.CharField(
        label=_("company domain"),
        max_length=255,
        help_text=_("The domain of the company's email addresses, e.g. exemple.fr."),
    )


def manual_entry_view(modeladmin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    workspace = getattr(request, "workspace", None)
    posted = request.method == "POST"
    form = ManualContactForm(request.POST if posted else None)
    refusal = ""
    if workspace is None:
        refusal = gettext("Choose a workspace in the header first.")
    elif posted and form.is_valid():
        try:
            contact, created = checking.add_manual_contact(
                workspace, user=request.user, **form.cleaned_data
            )
        except contacts.DiscoveryRefused as error:
            refusal = str(error)
        else:
            _tell(modeladmin, request, contact, created)
            return HttpResponseRedirect(reverse("admin:enrichment_discoveredcontact_changelist"))
    return form_page(
        modeladmin, request, "discoveredcontact/manual.html",
        title=gettext("Add a contact by hand"), form=form, refusal=refusal,
    )  # fmt: skip


def form_page(
    modeladmin: admin.ModelAdmin, request: HttpRequest, template: str, **context
) -> HttpResponse:
    """One of the discovery screens' form pages (templates/admin/enrichment/form_page.html)."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        **context,
    }
    return TemplateResponse(request, f"admin/enrichment/{template}", context)


def _tell(modeladmin, request, contact, created: bool) -> None:
    if not created:
        modeladmin.message_user(request, _already_there(contact), messages.WARNING)
        return
    from .tasks import check_discovered_contact_task

    workspace_id, contact_id = contact.workspace_id, contact.pk
    transaction.on_commit(lambda: check_discovered_contact_task.delay(workspace_id, contact_id))
    modeladmin.message_user(
        request,
        gettext("%(contact)s added to the queue: their address is being looked for and checked.")
        % {"contact": contact},
        messages.SUCCESS,
    )


def _already_there(contact: DiscoveredContact) -> str:
    """The person is a contact already: what was decided about them, if anything."""
    if contact.status == DiscoveredContact.Status.APPROVED:
        text = gettext("%(contact)s was already approved: their prospect exists.")
    elif contact.status == DiscoveredContact.Status.REJECTED:
        text = gettext("%(contact)s was already rejected: they are not put back in the queue.")
    else:
        text = gettext("%(contact)s is already in the queue.")
    return text % {"contact": contact}
