"""One module per vendor the sandbox stands in for, each served under `/<slug>/`."""

from __future__ import annotations

from ..world import World
from .aiark import AIArk
from .apollo import Apollo
from .base import Vendor
from .clearbit import Clearbit
from .dropcontact import Dropcontact
from .findymail import FindyMail
from .firecrawl import Firecrawl
from .hunter import Hunter
from .leadmagic import LeadMagic
from .prospeo import Prospeo

VENDOR_CLASSES: tuple[type[Vendor], ...] = (
    Dropcontact, Prospeo, LeadMagic, FindyMail, AIArk, Firecrawl, Hunter, Apollo, Clearbit,
)
SLUGS = tuple(cls.slug for cls in VENDOR_CLASSES)


def build_vendors(world: World, *, keys: tuple[str, ...], ready_after: float) -> dict[str, Vendor]:
    """A fresh instance of every vendor, keyed by slug."""
    return {cls.slug: cls(world, keys=keys, ready_after=ready_after) for cls in VENDOR_CLASSES}
