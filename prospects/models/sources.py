"""Where prospects and stored values come from, and which sources are people's."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a prospect, or one stored value, came from."""

    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Manual entry")
    API = "api", _("API")
    DISCOVERY = "discovery", _("Discovery")
    DROPCONTACT = "dropcontact", _("Dropcontact")
    PROVIDER = "provider", _("Provider")
    # The vendors of the waterfalls: a value, and a verified badge, name their real source.
    PROSPEO = "prospeo", "Prospeo"
    LEADMAGIC = "leadmagic", "LeadMagic"
    FINDYMAIL = "findymail", "FindyMail"
    HUNTER = "hunter", "Hunter"
    APOLLO = "apollo", "Apollo"
    CLEARBIT = "clearbit", "Clearbit"
    AIARK = "aiark", "AI Ark"
    FIRECRAWL = "firecrawl", "Firecrawl"


# Values typed or imported by a person are never overwritten by a provider.
HUMAN_SOURCES = frozenset({Source.IMPORT, Source.MANUAL, Source.API})
