"""What a new prospect's raw values must be: normalised, storable and recognisable; a prospect
that may not be created raises ProspectRejected with a French message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import normalize
from ..models import Company, Prospect

PROSPECT_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "linkedin_url")


# The raw values `clean_prospect_data` reads, with the label a person knows them by.
FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "job_title": gettext_lazy("Job title"),
    "linkedin_url": gettext_lazy("LinkedIn URL"),
    "company_name": gettext_lazy("Company"),
    "company_website": gettext_lazy("Website"),
    "company_domain": gettext_lazy("Domain"),
}


class ProspectRejected(ValueError):
    """A prospect that may not be created; `reason` is a RejectedRow.Reason value."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SuppressedPerson(ProspectRejected):
    def __init__(self) -> None:
        super().__init__(
            _("This person is on the objection list and cannot be added."), reason="suppressed"
        )


@dataclass
class CleanProspect:
    """Normalised values of a prospect to create, with its company's and its match keys."""

    prospect: dict[str, str]
    company: dict[str, str]
    company_key: str = ""  # the company's domain, else its folded name
    name_key: str = ""  # folded first and last name at that company


# Storage limits, checked with the other rules so that one long value rejects its prospect
# with a message instead of failing the write (for an import, the write of a whole chunk).
_MAX_LENGTHS = (
    ("", tuple((name, Prospect._meta.get_field(name).max_length) for name in PROSPECT_FIELDS)),
    (
        "company_",
        tuple(
            (name, Company._meta.get_field(name).max_length)
            for name in ("name", "domain", "website")
        ),
    ),
)


def _too_long(prospect: dict[str, str], company: dict[str, str]) -> str:
    """The message for the first value longer than its field allows, else ''."""
    for values, (prefix, limits) in zip((prospect, company), _MAX_LENGTHS, strict=True):
        for name, limit in limits:
            if len(values[name]) > limit:
                return _("%(field)s is too long (%(length)s characters, at most %(max)s).") % {
                    "field": FIELD_LABELS[prefix + name],
                    "length": len(values[name]),
                    "max": limit,
                }
    return ""


def _unstorable(data: dict[str, Any]) -> str:
    """The message for the first value no database can store (a NUL character), else ''."""
    values = [data.get(name) or "" for name in FIELD_LABELS]
    # One check of the whole row first: an import checks every row, and nearly all are fine.
    if normalize.is_storable("".join(values)):
        return ""
    for label, value in zip(FIELD_LABELS.values(), values, strict=True):
        if not normalize.is_storable(value):
            return _(
                "%(field)s contains a character that cannot be stored "
                "(a null character or an invalid code)."
            ) % {"field": label}
    return ""


def clean_prospect_data(data: dict[str, Any], *, storable: bool = False) -> CleanProspect:
    """Normalise raw values; raise ProspectRejected('invalid') with a French message if unusable.

    `storable`: the caller has already made sure no value holds what a database cannot store
    (an import checks a whole chunk of cells at once)."""
    # First: the other messages quote the value, and the message is stored too.
    if not storable and (message := _unstorable(data)):
        raise ProspectRejected(message, reason="invalid")
    try:
        prospect = {
            "first_name": normalize.clean_text(data.get("first_name")),
            "last_name": normalize.clean_text(data.get("last_name")),
            "email": normalize.normalize_email(data.get("email")),
            "phone": normalize.normalize_phone(data.get("phone")),
            "job_title": normalize.clean_text(data.get("job_title")),
            "linkedin_url": normalize.canonical_linkedin(data.get("linkedin_url")),
        }
        website = normalize.clean_text(data.get("company_website"))
        domain_source = data.get("company_domain") or website
        company = {
            "name": normalize.clean_text(data.get("company_name")),
            "domain": normalize.normalize_domain(domain_source) if domain_source else "",
            "website": website if website.startswith("http") else "",
        }
    except normalize.InvalidValue as exc:
        raise ProspectRejected(str(exc), reason="invalid") from exc
    if not company["name"] and company["domain"]:
        company["name"] = company["domain"]
    has_name = prospect["first_name"] and prospect["last_name"]
    if not (prospect["email"] or prospect["linkedin_url"] or has_name):
        raise ProspectRejected(
            _("A prospect needs an email, a LinkedIn URL or a first and last name."),
            reason="invalid",
        )
    if message := _too_long(prospect, company):
        raise ProspectRejected(message, reason="invalid")
    company_key = normalize.company_key(company["domain"], company["name"])
    name_key = normalize.name_key(prospect["first_name"], prospect["last_name"], company_key)
    if not (prospect["email"] or prospect["linkedin_url"] or name_key):
        # Without a match key nothing could tell that this person is already here: a second
        # import of the same file, or the same person typed twice, would create a duplicate.
        raise ProspectRejected(
            _(
                "This person cannot be recognised: give an email, a LinkedIn URL, "
                "or a first name, last name and company."
            ),
            reason="invalid",
        )
    return CleanProspect(
        prospect=prospect, company=company, company_key=company_key, name_key=name_key
    )
