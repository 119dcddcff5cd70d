"""What probing held back and a discovery's troubles with the company's site are called, in
French: for the commands that probe mail hosts, and a discovery job's page and API."""

from django.utils.translation import gettext as _

from .company import WARNING_PAGE_TOO_SLOW, WARNING_SITE_TIME_SPENT, WARNING_SITE_UNREADABLE
from .prober import (
    WARNING_BLOCKED,
    WARNING_BUDGET,
    WARNING_PORT_BLOCKED,
    WARNING_PRIVATE_HOST,
)

# A warning that is a sentence already is a people search's.
PEOPLE_SEARCH = "people_search"


def warning_detail(warning: str) -> dict[str, str]:
    """{"code", "message"} for the API: a people search's sentence gets the code
    "people_search"."""
    warning = str(warning)
    message = warning_text(warning)
    return {"code": warning if message != warning else PEOPLE_SEARCH, "message": message}


def warning_text(code: str) -> str:
    """The French sentence for a prober's or a discovery's warning code (the warning itself
    when it is a sentence already, as a people search's are)."""
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
        WARNING_SITE_UNREADABLE: _(
            "No page of the company's site could be read (no answer, an error, not a web "
            "page, or an address that is not public): nobody was looked for on it."
        ),
    }
    return texts.get(str(code), str(code))
