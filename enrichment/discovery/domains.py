"""The domain of a company to discover, by one rule on every path: a job, the command, a
person typed in, a person's look-up."""

from __future__ import annotations

from django.utils.translation import gettext as _
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from prospects import normalize

from .quotas import DiscoveryRefused
from .scoring import check_syntax


def domain_filter(value: str) -> str:
    """The stored spelling of a domain a list is filtered on ('https://www.Acme.fr/' ->
    'acme.fr'); what is no domain is compared as given (it matches nothing)."""
    try:
        return normalize.normalize_domain(value) or value.strip().lower()
    except normalize.InvalidValue:
        return value.strip().lower()


def clean_domain(value: str, *, required: bool = False) -> str:
    """The domain as stored ('https://www.Acme.fr/' -> 'acme.fr'), by one rule on every
    path (a job, the command, a person typed in): DiscoveryRefused (`invalid_domain`) when
    it is not one, or is a reserved name no mail goes to (.localhost, .invalid, .test: RFC
    6761), as `verify_emails` says of an address there. Empty stays "" unless `required`."""
    try:
        domain = normalize.normalize_domain(value)
    except normalize.InvalidValue as error:
        raise DiscoveryRefused(str(error), code="invalid_domain") from error
    if not domain or "." not in domain:
        if not required and not domain:
            return ""
        raise DiscoveryRefused(
            _("Give the domain of a company, e.g. exemple.fr."), code="invalid_domain"
        )
    if check_syntax(f"postmaster@{domain}")[1]:
        if domain.rpartition(".")[2] in SPECIAL_USE_DOMAIN_NAMES:
            message = _(
                "%(domain)s is a reserved name that no mail goes to: give the domain of a "
                "company, e.g. exemple.fr."
            )
        else:  # a name DNS could hold but mail could not ("xn--a.fr": not IDNA)
            message = _("Invalid domain: %(value)s")
        raise DiscoveryRefused(
            message % {"domain": domain, "value": domain}, code="invalid_domain"
        )
    return domain
