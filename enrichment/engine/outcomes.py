"""Outcome codes: what happened to an item or a batch, stored as a stable code and translated
only when shown. The admin, the API and webhooks all read the same codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..providers.base import ErrorKind, ProviderError


class Outcome(models.TextChoices):
    NONE = "", _("None")
    KEY_MISSING = "key_missing", _("API key missing")
    KEY_REFUSED = "key_refused", _("API key refused")
    QUOTA = "quota", _("Credits exhausted")
    RATE_LIMITED = "rate_limited", _("Rate limit reached")
    REFUSED_REQUEST = "refused_request", _("Request refused")
    VENDOR_ERROR = "vendor_error", _("Provider error")
    NO_ANSWER = "no_answer", _("No answer")
    POLL_DEADLINE = "poll_deadline", _("Results late")
    MISSING_FROM_ANSWER = "missing_from_answer", _("Missing from the answer")
    OBJECTED = "objected", _("Objection")
    DAILY_CAP = "daily_cap", _("Daily spending cap reached")
    NO_CREDITS = "insufficient_credits", _("Credit balance too low")
    NO_PROVIDER = "no_provider", _("No provider to ask")
    # Rows written before outcomes were codes keep their text as the detail.
    LEGACY = "legacy", _("Earlier error")


# The sentence a person reads; %(provider)s is the provider's name, %(detail)s the HTTP status.
SENTENCES = {
    Outcome.KEY_MISSING: _("API key missing"),
    Outcome.KEY_REFUSED: _("API key refused by %(provider)s"),
    Outcome.QUOTA: _("%(provider)s credits exhausted"),
    Outcome.RATE_LIMITED: _("%(provider)s rate limit reached"),
    Outcome.REFUSED_REQUEST: _("%(provider)s refused the request (HTTP %(detail)s)"),
    Outcome.VENDOR_ERROR: _("%(provider)s answered with an error (HTTP %(detail)s)"),
    Outcome.NO_ANSWER: _("%(provider)s did not answer (timeout or network error)"),
    Outcome.POLL_DEADLINE: _("%(provider)s results did not arrive in time"),
    Outcome.MISSING_FROM_ANSWER: _("Missing from %(provider)s's answer"),
    Outcome.OBJECTED: _("This person is on the objection list."),
    Outcome.DAILY_CAP: _("Daily spending cap reached: resumes by itself at %(detail)s"),
    Outcome.NO_CREDITS: _("Credit balance too low: waiting for a top-up"),
    Outcome.NO_PROVIDER: _("No provider of this enrichment has a usable API key"),
}


def describe(code: str, *, provider: str = "", detail: str = "") -> str:
    """The French sentence for an outcome code (empty for none)."""
    if not code:
        return ""
    if code == Outcome.LEGACY:
        return detail
    sentence = SENTENCES.get(code)
    if sentence is None:
        return code
    from ..providers.registry import PROVIDERS

    spec = PROVIDERS.get(provider)
    name = spec.label if spec else provider or gettext("the provider")
    return str(sentence) % {"provider": name, "detail": detail or "?"}


def of_error(error: ProviderError) -> tuple[str, str]:
    """The outcome code and detail of a failed call."""
    # A pipeline's own failure (a poll deadline) names its outcome itself.
    if getattr(error, "item_outcome", None):
        return error.item_outcome, ""
    if error.kind == ErrorKind.AUTH:
        return Outcome.KEY_REFUSED, ""
    if error.kind == ErrorKind.QUOTA:
        return Outcome.QUOTA, ""
    if error.kind == ErrorKind.RATE_LIMITED:
        return Outcome.RATE_LIMITED, ""
    if error.kind == ErrorKind.PERMANENT:
        return Outcome.REFUSED_REQUEST, str(error.status or "")
    if error.status:
        return Outcome.VENDOR_ERROR, str(error.status)
    return Outcome.NO_ANSWER, ""
