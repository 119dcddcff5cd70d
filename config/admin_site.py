"""The admin site: the workspace's home page as its index, and the technical internals (work
rows, provider calls) gathered under one "Technique" section shown to administrators only.

It lives in config because the home reads every app (prospects never imports enrichment)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from .admin_titles import list_title, with_french_titles

TECHNIQUE = "technique"


class SourcierAdminSite(admin.AdminSite):
    index_template = "admin/home/index.html"

    def register(self, model_or_iterable, admin_class=None, **options: Any) -> None:
        # Every model's screens get French titles (config/admin_titles.py), Django's own too.
        admin_class = with_french_titles(admin_class or admin.ModelAdmin)
        super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        # Imported here, not at the top: this module is loaded while `admin.site` is being
        # created, and those modules register their admins on `admin.site`.
        from enrichment.dashboard.breakers import breakers_view
        from enrichment.dashboard.views import home_live

        return [
            path("home/live/", self.admin_view(home_live), name="home-live"),
            path(f"{TECHNIQUE}/breakers/", self.admin_view(breakers_view), name="breakers"),
            path(f"{TECHNIQUE}/", self.admin_view(self.technique_index), name="technique"),
            *super().get_urls(),
        ]

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        from enrichment.dashboard.views import home_context

        return super().index(request, {**home_context(request), **(extra_context or {})})

    def _is_technical(self, model_dict: dict[str, Any]) -> bool:
        model_admin = self._registry.get(model_dict["model"])
        return bool(getattr(model_admin, "technical", False))

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """Each app's models, but the technical ones in their own section (administrators)."""
        apps = super().get_app_list(request, app_label)
        technical = []
        for app in apps:
            for model in app["models"]:
                model["name"] = list_title(model["model"]._meta)
            technical += [m for m in app["models"] if self._is_technical(m)]
            app["models"] = [m for m in app["models"] if not self._is_technical(m)]
        apps = [app for app in apps if app["models"]]
        if technical and app_label is None and self._may_see_technique(request):
            apps.append(self._technique_app(technical))
        return apps

    def _may_see_technique(self, request: HttpRequest) -> bool:
        from prospects.admin_base import is_workspace_admin

        return is_workspace_admin(request)

    def _technique_app(self, models: list[dict]) -> dict[str, Any]:
        return {
            "name": gettext("Technique"),
            "app_label": TECHNIQUE,
            "app_url": reverse(f"{self.name}:{TECHNIQUE}", current_app=self.name),
            "has_module_perms": True,
            "models": sorted([*models, self._breakers_entry()], key=lambda m: m["name"]),
        }

    def _breakers_entry(self) -> dict[str, Any]:
        """The breakers have no rows of their own (they live in Redis or the database): a
        page, listed like a model."""
        return {
            "name": gettext("Providers' circuit breakers"),
            "object_name": "Breakers",
            "admin_url": reverse(f"{self.name}:breakers", current_app=self.name),
            "add_url": None,
            "view_only": True,
            "perms": {"add": False, "change": False, "delete": False, "view": True},
        }

    def technique_index(self, request: HttpRequest) -> HttpResponse:
        """The Technique section's own page (the app list's link), for administrators."""
        from enrichment.discovery import guards

        technique = [app for app in self.get_app_list(request) if app["app_label"] == TECHNIQUE]
        if not technique:
            raise PermissionDenied
        for warning in guards.warnings():
            messages.warning(request, warning)
        context = {
            **self.each_context(request),
            "title": gettext("Technique"),
            "subtitle": None,
            "app_list": technique,
            "app_label": TECHNIQUE,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)
