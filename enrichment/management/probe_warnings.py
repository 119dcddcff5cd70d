"""What the commands that probe mail hosts say, in French, about probing held back (and a
discovery, about the company's site)."""

from django.utils.translation import gettext as _

from enrichment.discovery.company import WARNING_PAGE_TOO_SLOW, WARNING_SITE_TIME_SPENT
from enrichment.discovery.prober import (
    WARNING_BLOCKED,
    WARNING_BUDGET,
    WARNING_PORT_BLOCKED,
    WARNING_PRIVATE_HOST,
)


def warning_text(code: str) -> str:
    """The French sentence for a prober's or a discovery's warning code (the code itself if
    it is new)."""
    texts = {
        WARNING_PORT_BLOCKED: _(
            "No mail host could be reached on the SMTP port (outbound port 25 is often "
            "blocked): probing stopped and the remaining addresses are “unknown”, not "
            "“invalid”."
        ),
        WARNING_BLOCKED: _(
            "A mail host answered with a blocklist reply: probing of that host is paused "
            "(SOURCIER_SMTP_BLOCK_PAUSE_SECONDS) and its addresses are “unknown”."
        ),
        WARNING_PRIVATE_HOST: _(
            "Some mail hosts are on loopback or private addresses and were not probed (set "
            "SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS only for a local sandbox)."
        ),
        WARNING_BUDGET: _(
            "Today's SMTP probe budget is spent: the remaining addresses are “unknown” until "
            "probing resumes tomorrow."
        ),
        WARNING_PAGE_TOO_SLOW: _(
            "A page of the company's site did not arrive within "
            "SOURCIER_DISCOVERY_PAGE_SECONDS: it was skipped."
        ),
        WARNING_SITE_TIME_SPENT: _(
            "Reading the company's site took longer than SOURCIER_DISCOVERY_SITE_SECONDS: its "
            "remaining pages were not read."
        ),
    }
    return texts.get(code, code)
