"""Dropcontact batch enrichment API: submit up to 250 records, then poll the request id.

Docs: https://developer.dropcontact.com/en/quickstart/ and
https://developer.dropcontact.com/en/reference/enriched-record/ (samples and caveats in
tests/provider_samples/SOURCES.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from .base import (
    Answer,
    CallOutcome,
    ErrorKind,
    ProviderError,
    ProviderRequest,
    VendorModel,
    classify_status,
    decode_json,
)

SLUG = "dropcontact"
MAX_BATCH = 250
SUBMIT_PATH = "/v1/enrich/all"
NOT_READY_REASON = "Request not ready yet"

# Email qualifications changed across doc generations and are localised by `language`:
# legacy `nominative|catch_all|generic|random|invalid` (older: `non_confirm`) @ `pro|perso|invalid`;
# current `nominatif/nominative, catch-all, generique/generic, Ne_Pas_Contacter/Do_Not_Contact,
# non_validé/non_validated, invalide/invalid` @ `pro, perso, school, jetable/disposable,
# domaine invalide/invalid domain`.
_KIND_ALIASES = {
    "nominative": "nominative",
    "nominatif": "nominative",
    "catch_all": "catch_all",
    "catch-all": "catch_all",
    "non_confirm": "catch_all",
    "generic": "generic",
    "generique": "generic",
    "générique": "generic",
    "random": "random",
    "invalid": "invalid",
    "invalide": "invalid",
    "ne_pas_contacter": "do_not_contact",
    "do_not_contact": "do_not_contact",
    "non_validé": "not_validated",
    "non_valide": "not_validated",
    "non_validated": "not_validated",
}
_SCOPE_ALIASES = {
    "pro": "pro",
    "perso": "personal",
    "school": "school",
    "jetable": "disposable",
    "disposable": "disposable",
    "domaine invalide": "invalid_domain",
    "invalid domain": "invalid_domain",
    "invalid": "invalid_domain",
}


class Qualification(BaseModel):
    """A parsed `kind@scope` email qualification, whatever the language it came in."""

    raw: str
    kind: str
    scope: str

    @property
    def is_verified_pro(self) -> bool:
        return self.kind == "nominative" and self.scope == "pro"

    @property
    def is_do_not_contact(self) -> bool:
        return self.kind == "do_not_contact"


def parse_qualification(raw: str | None) -> Qualification:
    """Read a qualification such as 'nominatif@pro' or 'catch-all@domaine invalide'."""
    text = (raw or "").strip()
    kind_text, _, scope_text = text.partition("@")
    kind = _KIND_ALIASES.get(kind_text.strip().lower(), "unknown")
    scope = _SCOPE_ALIASES.get(scope_text.strip().lower(), "unknown")
    return Qualification(raw=text, kind=kind, scope=scope)


class EmailCandidate(VendorModel):
    email: str
    qualification: str = ""

    @property
    def parsed(self) -> Qualification:
        return parse_qualification(self.qualification)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class EnrichedRecord(Answer):
    """One record of a ready result (documented EnrichedRecord; unknown keys are ignored)."""

    civility: str = ""
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    email: list[EmailCandidate] = Field(default_factory=list)
    phone: str = ""
    mobile_phone: str = ""
    company: str = ""
    website: str = ""
    linkedin: str = ""
    siren: str = ""
    siret: str = ""
    siret_address: str = ""
    vat: str = ""
    nb_employees: str = ""
    naf5_code: str = ""
    naf5_des: str = ""
    company_linkedin: str = ""
    job: str = ""
    qualification: str = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator(
        "civility",
        "first_name",
        "last_name",
        "full_name",
        "phone",
        "mobile_phone",
        "company",
        "website",
        "linkedin",
        "siren",
        "siret",
        "siret_address",
        "vat",
        "nb_employees",
        "naf5_code",
        "naf5_des",
        "company_linkedin",
        "job",
        "qualification",
        mode="before",
    )
    @classmethod
    def _as_text(cls, value: Any) -> str:
        # Numbers come back as strings in the samples but as numbers in some answers.
        return _text(value)

    @field_validator("email", mode="before")
    @classmethod
    def _email_list(cls, value: Any) -> list[Any]:
        # Older answers give a bare string; current ones a list of {email, qualification}.
        if value in (None, ""):
            return []
        if isinstance(value, str):
            return [{"email": value}]
        return value

    @property
    def best_email(self) -> EmailCandidate | None:
        """The nominative professional address if any, else the first candidate."""
        for candidate in self.email:
            if candidate.parsed.is_verified_pro:
                return candidate
        return self.email[0] if self.email else None

    @property
    def is_do_not_contact(self) -> bool:
        if parse_qualification(self.qualification).is_do_not_contact:
            return True
        return any(candidate.parsed.is_do_not_contact for candidate in self.email)

    @property
    def headcount(self) -> int | None:
        digits = "".join(ch for ch in self.nb_employees if ch.isdigit())
        return int(digits) if digits else None

    @property
    def found(self) -> bool:
        # The credit is kept only when an email comes back (pay on success).
        return bool(self.email)


class SubmitResult(Answer):
    request_id: str
    credits_left: float | None = None
    success: bool = True
    error: bool = False

    @property
    def found(self) -> bool:
        return True  # a request id to poll


class PollResult(Answer):
    """A poll answer: `ready` with records ordered by input index, or not yet."""

    ready: bool
    records: list[EnrichedRecord] = Field(default_factory=list)
    reason: str = ""

    @property
    def found(self) -> bool:
        return any(record.found for record in self.records)

    @property
    def outcome(self) -> CallOutcome:
        # "Not ready" (or an unknown id, which looks the same): poll again later.
        return super().outcome if self.ready else CallOutcome.TEMPORARY


class InputRecord(BaseModel):
    """What we send for one prospect; empty values are left out of the payload."""

    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    website: str = ""
    num_siren: str = ""
    linkedin: str = ""
    job: str = ""
    custom_fields: dict[str, str] = Field(default_factory=dict)


def auth_headers(api_key: str) -> dict[str, str]:
    return {"X-Access-Token": api_key}


def build_submit_request(
    records: list[InputRecord], *, siren: bool = True, language: str = "fr"
) -> ProviderRequest:
    """POST /v1/enrich/all (https://developer.dropcontact.com/en/quickstart/)."""
    if not 1 <= len(records) <= MAX_BATCH:
        raise ValueError(f"Dropcontact takes 1 to {MAX_BATCH} records, not {len(records)}")
    data = [record.model_dump(exclude_defaults=True) for record in records]
    return ProviderRequest(
        method="POST",
        path=SUBMIT_PATH,
        json={"data": data, "siren": siren, "language": language},
    )


def build_poll_request(request_id: str) -> ProviderRequest:
    """GET /v1/enrich/all/{request_id}
    (https://developer.dropcontact.com/llms.mdx/en/reference/fetch-enrichment-results.md)."""
    return ProviderRequest(method="GET", path=f"{SUBMIT_PATH}/{request_id}")


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    # Documented error bodies: {"error": true, "reason": ...} and {"detail": ...}.
    message = ""
    if isinstance(payload, dict):
        detail = payload.get("reason") or payload.get("detail") or payload.get("message")
        message = detail if isinstance(detail, str) else str(detail or "")
    message = message or f"HTTP {status}"
    # A 2xx that is not the documented shape (empty, a list, …) is a vendor hiccup.
    kind = classify_status(status) if status >= 400 else ErrorKind.TEMPORARY
    if status >= 400 and "credit" in message.lower():
        # "Not enough credits" comes as 400, 402 or 403 depending on the doc generation.
        kind = ErrorKind.QUOTA
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def parse_submit_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> SubmitResult:
    """Read the answer to a submit: the request id to poll, or a classified error."""
    payload = decode_json(body, status=status) if body else None
    if status != 200 or not isinstance(payload, dict):
        raise _error_from(status, payload, retry_after)
    if payload.get("error") is True:
        # Documented: some refusals (too many records, no credits) come with HTTP 200.
        raise _error_from(400, payload, retry_after)
    try:
        return SubmitResult.model_validate(payload)
    except ValidationError as exc:
        raise ProviderError(
            "unexpected submit answer", kind=ErrorKind.TEMPORARY, status=status
        ) from exc


def parse_poll_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> PollResult:
    """Read a poll answer. 'Not ready' and 'unknown request id' are the same HTTP 200 answer,
    so the caller must bound how long it keeps polling."""
    payload = decode_json(body, status=status) if body else None
    if status != 200 or not isinstance(payload, dict):
        raise _error_from(status, payload, retry_after)
    if payload.get("error") is True:
        raise _error_from(400, payload, retry_after)
    if payload.get("status") == "in_progress" or payload.get("success") is False:
        return PollResult(ready=False, reason=_text(payload.get("reason")))
    data = payload.get("data")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ProviderError("poll answer without data", kind=ErrorKind.TEMPORARY, status=status)
    try:
        records = [EnrichedRecord.model_validate(item) for item in data]
    except ValidationError as exc:
        raise ProviderError(
            "unexpected record shape", kind=ErrorKind.TEMPORARY, status=status
        ) from exc
    return PollResult(ready=True, records=records)
