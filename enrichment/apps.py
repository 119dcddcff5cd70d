from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrichmentConfig(AppConfig):
    name = "enrichment"
    verbose_name = _("Enrichment")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to prospects' creation hook)
