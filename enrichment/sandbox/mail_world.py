"""The sandbox world's mail: which host serves each domain, how it behaves, who has a mailbox.

Pure and deterministic, like the world it reads. Every mail host lives on its own loopback
address (127.0.0.x), all on one port, so the SMTP port stays a single setting as in
production. The first companies with MX pin one domain per behaviour (greylisting, a dead
primary with a backup MX, a blocklist reply, an Outlook-style host that accepts everyone, a
slow host); later ones draw theirs. Companies without MX alternate between a null MX
(RFC 7505) and no mail record at all; one extra domain has no MX but an A record (RFC 5321
§5.1), and any name outside the zone is NXDOMAIN.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .world import Person, World

NORMAL = "normal"
GREYLIST = "greylist"
SLOW = "slow"
BACKUP = "backup"  # primary MX dead, backup MX answers
BLOCKLIST = "blocklist"
ACCEPT_ALL = "accept_all"  # Microsoft 365 style: every RCPT gets a 250
NULL_MX = "null_mx"
NO_MAIL = "no_mail"
A_ONLY = "a_only"
PINNED_KINDS = (GREYLIST, BACKUP, BLOCKLIST, ACCEPT_ALL, SLOW)

# name -> (loopback address, behaviour); the dead host's address has no listener.
HOSTS: dict[str, tuple[str, str]] = {
    "mx.sandbox-mail.example": ("127.0.0.10", NORMAL),
    "grey.sandbox-mail.example": ("127.0.0.11", GREYLIST),
    "slow.sandbox-mail.example": ("127.0.0.12", SLOW),
    "dead.sandbox-mail.example": ("127.0.0.13", "dead"),
    "backup.sandbox-mail.example": ("127.0.0.14", NORMAL),
    "block.sandbox-mail.example": ("127.0.0.15", BLOCKLIST),
}
OUTLOOK_SUFFIX = ".mail.protection.outlook.com"
OUTLOOK_ADDRESS = "127.0.0.16"
A_ONLY_DOMAIN = "courrier-direct.example"
A_ONLY_MAILBOXES = ("contact", "jean.dupont")
TTL = 300

_MX_BY_KIND = {
    NORMAL: ((10, "mx.sandbox-mail.example"),),
    GREYLIST: ((10, "grey.sandbox-mail.example"),),
    SLOW: ((10, "slow.sandbox-mail.example"),),
    BACKUP: ((10, "dead.sandbox-mail.example"), (20, "backup.sandbox-mail.example")),
    BLOCKLIST: ((10, "block.sandbox-mail.example"),),
}


def listening_addresses() -> dict[str, str]:
    """Loopback address -> behaviour of every host that listens (the dead one does not)."""
    hosts = {ip: kind for ip, kind in HOSTS.values() if kind != "dead"}
    hosts[OUTLOOK_ADDRESS] = ACCEPT_ALL
    return hosts


@dataclass
class MailPlan:
    """Each domain's mail behaviour and every mailbox that exists."""

    kinds: dict[str, str]
    catch_all: set[str]
    mailboxes: set[str]
    slow_dns: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, world: World, *, slow_dns_share: float = 0.05) -> MailPlan:
        rng = random.Random(f"sourcier-mail:{world.seed}:{world.size}")
        kinds: dict[str, str] = {A_ONLY_DOMAIN: A_ONLY}
        pinned = list(PINNED_KINDS)
        without_mx = 0
        for index, company in enumerate(world.companies):
            if not company.has_mx:
                kinds[company.domain] = NULL_MX if without_mx % 2 == 0 else NO_MAIL
                without_mx += 1
            elif index < 3:
                kinds[company.domain] = NORMAL
            elif pinned:
                kinds[company.domain] = pinned.pop(0)
            else:
                roll = rng.random()
                kinds[company.domain] = (
                    GREYLIST if roll < 0.05 else SLOW if roll < 0.09 else BACKUP if roll < 0.13
                    else BLOCKLIST if roll < 0.15 else ACCEPT_ALL if roll < 0.19 else NORMAL
                )
        slow_dns = {
            company.domain
            for index, company in enumerate(world.companies)
            if index >= 3 and rng.random() < slow_dns_share
        }
        mailboxes = {p.true_email.lower() for p in world.people if p.true_email}
        mailboxes |= {f"{local}@{A_ONLY_DOMAIN}" for local in A_ONLY_MAILBOXES}
        catch_all = {c.domain for c in world.companies if c.catch_all and c.has_mx}
        return cls(kinds=kinds, catch_all=catch_all, mailboxes=mailboxes, slow_dns=slow_dns)

    def domain_of_kind(self, kind: str) -> str:
        """The first domain with this behaviour (tests and demos cite them)."""
        return next(domain for domain, k in self.kinds.items() if k == kind)

    def mx(self, domain: str) -> tuple[tuple[int, str], ...] | None:
        """MX records (preference, host); () for a null MX; None when there is no MX."""
        kind = self.kinds.get(domain)
        if kind == NULL_MX:
            return ()
        if kind == ACCEPT_ALL:
            return ((0, domain.replace(".", "-") + OUTLOOK_SUFFIX),)
        return _MX_BY_KIND.get(kind)

    def address_of(self, name: str) -> str | None:
        """The A record of a host name (or of the A-only domain), None when there is none."""
        if name in HOSTS:
            return HOSTS[name][0]
        if name.endswith(OUTLOOK_SUFFIX):
            return OUTLOOK_ADDRESS
        if self.kinds.get(name) == A_ONLY:
            return HOSTS["mx.sandbox-mail.example"][0]
        return None

    def in_zone(self, name: str) -> bool:
        """Names the sandbox answers for: the reserved .example TLD and the Outlook-style hosts."""
        return name == "example" or name.endswith((".example", OUTLOOK_SUFFIX))

    def exists(self, name: str) -> bool:
        return name in self.kinds or self.address_of(name) is not None

    def accepts(self, address: str) -> bool:
        """The truth an honest host tells about one recipient."""
        address = address.lower()
        domain = address.rpartition("@")[2]
        return domain in self.catch_all or address in self.mailboxes

    def expected_status(self, person: Person) -> str:
        """What a perfect verifier concludes about the person's address on this plan."""
        kind = self.kinds.get(person.company.domain)
        if kind in (NULL_MX, NO_MAIL):
            return "invalid"
        if kind == BLOCKLIST:
            return "unknown"  # the host never tells, whoever is there
        if kind == ACCEPT_ALL or person.company.domain in self.catch_all:
            return "risky"
        return "verified" if person.mailbox_exists else "invalid"
