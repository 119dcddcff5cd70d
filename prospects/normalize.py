"""Normalised forms and match keys: what makes two rows "the same person" or "the same company"."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

import email_validator
import idna  # email-validator's own IDNA library
import phonenumbers
import tldextract
from anyascii import anyascii
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH
from email_validator.syntax import validate_email_domain_name, validate_email_length
from email_validator.types import ValidatedEmail

# Offline: never fetch the public suffix list at run time, use the copy the package ships.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

_LINKEDIN_RE = re.compile(r"linkedin\.com/(in|pub|company|school)/([^/?#]+)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")
# The French shapes most files use: 0X XX XX XX XX, +33 X XX XX XX XX, +33 (0)X XX XX XX XX,
# with spaces, dots, dashes or nothing between the pairs. phonenumbers turns each of them into
# +33 followed by the nine digits after the trunk 0 (tests/prospects/test_normalize.py holds
# the fast path to that); anything else goes through phonenumbers.
_FRENCH_PHONE = re.compile(
    r"(?:0|\+33 ?(?:\(0\) ?)?)([1-9])[ .-]?(\d\d)[ .-]?(\d\d)[ .-]?(\d\d)[ .-]?(\d\d)\Z"
)


class InvalidValue(ValueError):
    """A value that cannot be stored; the message is shown to the user.

    The only exception the functions below raise for a bad value: every caller turns it into
    a form error or a rejected row.
    """


# PostgreSQL text (and jsonb) cannot hold a NUL character anywhere, and no database driver
# can encode a lone surrogate (a JSON body may carry one as an escape).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def is_storable(value: str) -> bool:
    """Whether a text can be written as it is to every database Sourcier runs on."""
    if value.isascii():  # the usual cell: two scans in C, a tenth of the regular expression
        return "\x00" not in value
    return _UNSTORABLE.search(value) is None


def storable_text(value: str) -> str:
    """`value` with what no database can store replaced by U+FFFD, the replacement character:
    for keeping what a person wrote (a rejected row, a column name) with the damage visible."""
    return _UNSTORABLE.sub("\ufffd", value)


def clean_text(value: str | None) -> str:
    # str.split() splits on the characters `\s` matches (no-break space included): the same
    # result as collapsing runs of whitespace with a regular expression, in a third of the time.
    return " ".join(value.split()) if value else ""


@lru_cache(maxsize=65536)
def fold(value: str | None) -> str:
    """Accent- and case-folded words: 'Éloïse  Lefèvre' -> 'eloise lefevre'."""
    # Cached: an import folds the same first names, last names and companies again and again.
    ascii_text = anyascii(clean_text(value)).lower()
    return _NON_WORD.sub(" ", ascii_text).strip()


@lru_cache(maxsize=16384)
def _email_domain(domain: str, test_environment: bool, globally_deliverable: bool) -> tuple:
    """email_validator's verdict on the part after the @-sign: (domain, ASCII domain).

    Cached because an import's addresses share a few thousand domains, and checking one (IDNA,
    UTS #46 per character) is most of what validating an address costs. Invalid domains raise,
    and exceptions are not cached.
    """
    result = validate_email_domain_name(
        domain, test_environment=test_environment, globally_deliverable=globally_deliverable
    )
    return result["domain"], result["ascii_domain"]


def _validated_email(value: str) -> str:
    """email_validator's normalized form of `value`, checking each domain once per process.

    For the usual address, one @-sign after a plain ASCII dot-atom (email_validator's own
    DOT_ATOM_TEXT), validate_email would split at that @-sign, keep the local part unchanged
    and check the domain, then the lengths: done here the same way with its own functions.
    Anything else (quotes, display names, non-ASCII local parts, IP literals) goes through
    validate_email itself.
    """
    local, at, domain = value.partition("@")
    if (
        at
        and DOT_ATOM_TEXT.match(local)
        and domain
        and not domain.startswith("[")
        # validate_email does not split at an @-sign that a following character combines with.
        and unicodedata.normalize("NFC", value[len(local) : len(local) + 32])[0] == "@"
    ):
        name, ascii_name = _email_domain(
            domain, email_validator.TEST_ENVIRONMENT, email_validator.GLOBALLY_DELIVERABLE
        )
        normalized = f"{local}@{name}"
        # The lengths are counted in UTF-8 (at most 4 bytes a character): only an address
        # that might be too long needs the byte count.
        longest = max(len(value), len(normalized), len(local) + 1 + len(ascii_name or ""))
        if longest * 4 > EMAIL_MAX_LENGTH:
            result = ValidatedEmail()
            result.original = value
            result.local_part = result.ascii_local_part = local
            result.domain, result.ascii_domain = name, ascii_name
            result.normalized = normalized
            result.ascii_email = f"{local}@{ascii_name}" if ascii_name else None
            result.smtputf8 = False
            validate_email_length(result)
        return normalized
    return validate_email(value, check_deliverability=False).normalized


def normalize_email(value: str | None) -> str:
    """Syntax-checked, lower-cased address ('' when empty). No DNS lookup here."""
    value = clean_text(value).strip("<>").strip()
    if not value:
        return ""
    if value.lower().startswith("mailto:"):
        value = value[7:]
    try:
        normalized = _validated_email(value)
    except EmailNotValidError as exc:
        raise InvalidValue(_("Invalid email address: %(value)s") % {"value": value}) from exc
    return normalized.lower()


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


def canonical_linkedin(value: str | None) -> str:
    """https://www.linkedin.com/in/<slug> for any of LinkedIn's URL spellings ('' when empty)."""
    value = clean_text(value)
    if not value:
        return ""
    match = _LINKEDIN_RE.search(value)
    if not match:
        raise InvalidValue(_("Not a LinkedIn URL: %(value)s") % {"value": value})
    kind, slug = match.group(1).lower(), match.group(2).strip().lower()
    if kind == "pub":
        kind = "in"
    return f"https://www.linkedin.com/{kind}/{slug}"


def normalize_phone(value: str | None, region: str = "FR") -> str:
    """E.164 ('+33612345678'); French numbers may be written the French way."""
    value = clean_text(value)
    if not value:
        return ""
    if region == "FR" and (match := _FRENCH_PHONE.match(value)):
        return "+33" + "".join(match.groups())
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(_("Invalid phone number: %(value)s") % {"value": value}) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue(_("Invalid phone number: %(value)s") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(value: str | None) -> str:
    """The registrable domain of a URL or host: 'https://www.Acme.fr/x' -> 'acme.fr'.

    Only a host name DNS can hold is a domain (`is_hostname`): 'exa mple.fr', 'x_y.fr' or
    '-x.fr' are InvalidValue, whatever urlsplit makes of them.
    """
    value = shown = clean_text(value).lower()
    if not value:
        return ""
    if not value.isascii():
        # IDNA wants composed accents: 'cafe' + U+0301 is café.fr too.
        value = unicodedata.normalize("NFC", value)
    if "@" in value and "/" not in value:
        value = value.rsplit("@", 1)[1]
    try:
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    except ValueError as exc:
        # Brackets that do not hold an IPv6 address ('[oops', 'a@[1.2.3.4]'), or characters
        # that NFKC turns into URL syntax (the small commercial at '﹫').
        raise _invalid_domain(shown) from exc
    host = host.removesuffix(".")
    if not is_hostname(host):
        raise _invalid_domain(shown)
    parts = _extract(host)
    labels = host.split(".")
    if parts.domain and parts.suffix:
        domain = f"{parts.domain}.{parts.suffix}"
    # Reserved names (RFC 2606: .example, .test) are not public suffixes but are valid here:
    # the sandbox world and the demo live under them.
    elif labels[-1] in {"example", "test", "localhost", "invalid"}:
        domain = ".".join(labels[-2:])
    else:
        raise _invalid_domain(shown)
    if not is_hostname(domain):
        raise _invalid_domain(shown)
    return domain


def _invalid_domain(shown: str) -> InvalidValue:
    # The message quotes the value and may be stored (a rejected row): no NUL, 80 characters.
    return InvalidValue(_("Invalid domain: %(value)s") % {"value": storable_text(shown[:80])})


# A label of a host name (RFC 1123): letters, digits and hyphens, neither first nor last.
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z", re.ASCII | re.IGNORECASE)


def ascii_host(name: str) -> str:
    """A host name as DNS and SMTP carry it: an accented label in its xn-- form by IDNA 2008,
    as email-validator, dnspython and `is_hostname` read it (Python's own "idna" codec is
    IDNA 2003, which spells straße.de as strasse.de: another domain). UnicodeError when
    IDNA refuses it."""
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=False).decode("ascii")
    except idna.IDNAError as exc:
        raise UnicodeError(str(exc)) from exc


@lru_cache(maxsize=16384)
def is_hostname(name: str) -> bool:
    """Whether `name` is a host name DNS can hold: at least two labels of 1 to 63 letters,
    digits and hyphens (no hyphen first or last), 253 characters in all (RFC 1035, 1123),
    counted as sent. An accented label counts in its xn-- form (IDNA 2008, as
    email-validator checks the domains of addresses); a character IDNA refuses (a space, a
    soft hyphen, a full-width letter, a symbol) makes no host name."""
    try:
        sent = ascii_host(name)
    except UnicodeError:
        return False
    labels = sent.split(".")
    return (
        len(labels) >= 2 and len(sent) <= 253 and all(_LDH_LABEL.match(label) for label in labels)
    )


# The lengths of the match-key columns: Prospect.name_key and Company.name_key.
NAME_KEY_LENGTH = 600
COMPANY_KEY_LENGTH = 255
_DIGEST_LENGTH = 64  # hex SHA-256


def bounded_key(key: str, limit: int) -> str:
    """`key` when it fits in `limit` characters, else its start, '#' and a digest of it all.

    anyascii spells a Chinese character as a syllable and an emoji as its name, so a name
    that fits its own column can fold into a key several times too long for the key's column
    (PostgreSQL then refuses the whole write). Cutting the key alone would make two long names
    that share their start one person, the second silently rejected as a duplicate; the
    digest of the whole key keeps them apart, and stays the same for the same name, so the
    person is still recognised on the next import. A key that fits is unchanged, so stored
    keys stay valid; a shortened one ends with the digest of all of it, so it equals another
    key only by a SHA-256 collision.
    """
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: limit - _DIGEST_LENGTH - 1]}#{digest}"


def name_key(first_name: str, last_name: str, company_key: str) -> str:
    """Folded full name + company (domain, else folded name): '' when any part is missing."""
    first, last = fold(first_name), fold(last_name)
    if not (first and last and company_key):
        return ""
    return bounded_key(f"{first} {last}|{company_key}", NAME_KEY_LENGTH)


# Prospect.search_key: the folded name and address the list's search looks in.
SEARCH_KEY_LENGTH = 600


def search_key(first_name: str, last_name: str, email: str) -> str:
    """The folded words a person may search a prospect by: 'Ménard' and 'menard' alike.

    The address is folded too ('jean.menard@acme.fr' -> 'jean menard acme fr'), so a search
    folded the same way finds it whole or in part.
    """
    # Names repeat and go through fold's cache; addresses are each one of a kind, and would
    # only fill it (65,536 of them held about 11 MB during a large import).
    words = " ".join(filter(None, (fold(first_name), fold(last_name), fold.__wrapped__(email))))
    return words[:SEARCH_KEY_LENGTH]


def company_name_key(company_name: str) -> str:
    """What Company.name_key stores: the folded name, bounded to its column."""
    return bounded_key(fold(company_name), COMPANY_KEY_LENGTH)


def company_key(domain: str, company_name: str) -> str:
    return domain or company_name_key(company_name)


# HMAC's inner and outer pads (RFC 2104), as the standard library's `hmac` builds them.
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=4)
def _keyed_sha256(key: str) -> tuple:
    """SHA-256 states that have hashed the inner and the outer pad of `key`, to be copied."""
    raw = key.encode()
    if len(raw) > 64:  # SHA-256's block size
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(64, b"\0")
    return hashlib.sha256(raw.translate(_INNER_PAD)), hashlib.sha256(raw.translate(_OUTER_PAD))


def keyed_hash(kind: str, normalised: str) -> str:
    """HMAC-SHA256 of a normalised email or phone: what the suppression list stores instead.

    The same digest as `hmac.digest(key, message, "sha256")`, from states that have hashed the
    key's pads already: an import hashes two values a row, and setting HMAC up from the key
    each time cost three times as much. The cache is by key, so a changed setting applies.
    """
    inner, outer = _keyed_sha256(settings.SOURCIER_SUPPRESSION_KEY)
    inner, outer = inner.copy(), outer.copy()
    inner.update(f"{kind}:{normalised}".encode())
    outer.update(inner.digest())
    return outer.hexdigest()
