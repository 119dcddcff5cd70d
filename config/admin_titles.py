"""Admin titles that read as French: Django builds them from a model's name ("Ajout de
%s", "Supprimer les %s sélectionnés"), which gives "Ajout de entrée" and "les campagnes
sélectionnés". Each model gets its own words here instead: French needs the noun's gender and
elision, which only a whole phrase per model carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ModelWords:
    new: Promise  # the add button and the add page's title: "Nouvelle campagne"
    delete_selected: Promise  # the delete action: "Supprimer les campagnes sélectionnées"
    # The menu entry and the list's title when the plural of the model's name is not
    # what people call the list.
    list_title: Promise | None = None


WORDS: dict[str, ModelWords] = {
    "auth.group": ModelWords(_("New group"), _("Delete the selected groups")),
    "auth.user": ModelWords(_("New user"), _("Delete the selected users")),
    "prospects.importbatch": ModelWords(_("New import"), _("Delete the selected imports")),
    "prospects.workspace": ModelWords(_("New workspace"), _("Delete the selected workspaces")),
    "prospects.membership": ModelWords(_("New membership"), _("Delete the selected memberships")),
    "prospects.invitation": ModelWords(_("New invitation"), _("Delete the selected invitations")),
    "prospects.company": ModelWords(_("New company"), _("Delete the selected companies")),
    "prospects.prospect": ModelWords(_("New prospect"), _("Delete the selected prospects")),
    "prospects.apikey": ModelWords(
        _("New API access key"), _("Delete the selected API access keys")
    ),
    "prospects.suppressionentry": ModelWords(
        _("New objection"), _("Delete the selected entries"), _("Objection list")
    ),
    "enrichment.providercredential": ModelWords(
        _("New API key"), _("Delete the selected API keys")
    ),
    "enrichment.enrichmentitem": ModelWords(
        _("New enrichment item"), _("Delete the selected items")
    ),
    "enrichment.providerbatch": ModelWords(
        _("New provider batch"), _("Delete the selected batches")
    ),
    "enrichment.providercall": ModelWords(_("New provider call"), _("Delete the selected calls")),
    "enrichment.providerattempt": ModelWords(
        _("New provider attempt"), _("Delete the selected attempts")
    ),
    "enrichment.enrichmentjob": ModelWords(_("New enrichment job"), _("Delete the selected jobs")),
    "enrichment.costdashboard": ModelWords(_("Costs"), _("Delete the selected entries")),
    "enrichment.discoveredcontact": ModelWords(
        _("New discovered contact"), _("Delete the selected contacts")
    ),
    "enrichment.discoveryjob": ModelWords(
        _("New discovery"), _("Delete the selected discoveries")
    ),
    "enrichment.webhookendpoint": ModelWords(
        _("New webhook endpoint"), _("Delete the selected webhook endpoints")
    ),
    "enrichment.webhookdelivery": ModelWords(
        _("New webhook delivery"), _("Delete the selected deliveries")
    ),
    "campaigns.campaign": ModelWords(_("New campaign"), _("Delete the selected campaigns")),
}


def words_for(opts: Any) -> ModelWords | None:
    return WORDS.get(opts.label_lower)


def list_title(opts: Any) -> str:
    words = words_for(opts)
    if words is not None and words.list_title is not None:
        return str(words.list_title)
    return capfirst(opts.verbose_name_plural)


class FrenchTitles:
    """Mixed into every ModelAdmin the site registers (config/admin_site.py)."""

    def _words(self) -> ModelWords | None:
        return words_for(self.opts)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        words = self._words()
        context: dict[str, Any] = {"title": list_title(self.opts)}
        if words is not None:
            context["new_label"] = words.new
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        words = self._words()
        context = {"title": words.new} if words is not None else {}
        return super().add_view(request, form_url, {**context, **(extra_context or {})})

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        # The object's own name is the subtitle; the title says what kind of thing it is.
        context = {"title": capfirst(self.opts.verbose_name)}
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        words = self._words()
        if words is not None and "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (function, name, words.delete_selected)
        return actions


def with_french_titles(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    if issubclass(admin_class, FrenchTitles):
        return admin_class
    return type(
        admin_class.__name__,
        (FrenchTitles, admin_class),
        {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
    )
