"""Normalised forms and match keys: what makes two rows "the same person" or "the same company"."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlsplit

import phonenumbers
import tldextract
from anyascii import anyascii
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

# Offline: never fetch the public suffix list at run time, use the copy the package ships.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

_LINKEDIN_RE = re.compile(r"linkedin\.com/(in|pub|company|school)/([^/?#]+)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9]+")


class InvalidValue(ValueError):
    """A value that cannot be stored; the message is shown to the user."""


def clean_text(value: str | None) -> str:
    return _SPACES.sub(" ", (value or "").replace("\u00a0", " ")).strip()


def fold(value: str | None) -> str:
    """Accent- and case-folded words: 'Éloïse  Lefèvre' -> 'eloise lefevre'."""
    ascii_text = anyascii(clean_text(value)).lower()
    return _NON_WORD.sub(" ", ascii_text).strip()


def normalize_email(value: str | None) -> str:
    """Syntax-checked, lower-cased address ('' when empty). No DNS lookup here."""
    value = clean_text(value).strip("<>").strip()
    if not value:
        return ""
    if value.lower().startswith("mailto:"):
        value = value[7:]
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(_("Invalid email address: %(value)s") % {"value": value}) from exc
    return result.normalized.lower()


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
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(_("Invalid phone number: %(value)s") % {"value": value}) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue(_("Invalid phone number: %(value)s") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(value: str | None) -> str:
    """The registrable domain of a URL or host: 'https://www.Acme.fr/x' -> 'acme.fr'."""
    value = clean_text(value).lower()
    if not value:
        return ""
    if "@" in value and "/" not in value:
        value = value.rsplit("@", 1)[1]
    host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    parts = _extract(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    labels = [label for label in host.split(".") if label]
    # Reserved names (RFC 2606: .example, .test) are not public suffixes but are valid here:
    # the sandbox world and the demo live under them.
    if len(labels) >= 2 and labels[-1] in {"example", "test", "localhost", "invalid"}:
        return ".".join(labels[-2:])
    if not parts.domain or not parts.suffix:
        raise InvalidValue(_("Invalid domain: %(value)s") % {"value": value})
    return f"{parts.domain}.{parts.suffix}"


def name_key(first_name: str, last_name: str, company_key: str) -> str:
    """Folded full name + company (domain, else folded name): '' when any part is missing."""
    first, last = fold(first_name), fold(last_name)
    if not (first and last and company_key):
        return ""
    return f"{first} {last}|{company_key}"


def company_key(domain: str, company_name: str) -> str:
    return domain or fold(company_name)


def keyed_hash(kind: str, normalised: str) -> str:
    """HMAC of a normalised email or phone: what the suppression list stores instead of it."""
    key = settings.SOURCIER_SUPPRESSION_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
