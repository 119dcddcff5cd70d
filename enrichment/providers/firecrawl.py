"""Firecrawl extract (async): start a job on company URLs, then poll it until it completes.

Docs: https://docs.firecrawl.dev/api-reference/endpoint/extract and .../extract-get (v2;
the v1 GET lacks `tokensUsed`), errors https://docs.firecrawl.dev/api-reference/errors
(`{"success": false, "error", "details"?}`), `Authorization: Bearer`. `status` is read as
text (processing, completed, failed, cancelled): a failed job is a result for the caller to
judge, not an exception.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field, StrictBool

from .base import (
    Answer,
    CallOutcome,
    ErrorKind,
    ProviderError,
    ProviderRequest,
    VendorModel,
    classify_status,
    parse_answer,
)

SLUG = "firecrawl"
EXTRACT_PATH = "/v2/extract"


class ExtractStarted(Answer):
    success: StrictBool
    id: str = Field(min_length=1)
    invalidURLs: list[str] = Field(default_factory=list)

    @property
    def found(self) -> bool:
        return True  # a job to poll


class ExtractStatus(Answer):
    success: StrictBool
    status: str
    data: dict[str, Any] | None = None
    expiresAt: str | None = None
    tokensUsed: int | None = None

    @property
    def ready(self) -> bool:
        return self.status == "completed"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "cancelled")

    @property
    def found(self) -> bool:
        return self.ready and bool(self.data)

    @property
    def outcome(self) -> CallOutcome:
        if self.failed:
            # The job is over without data; only a new (billed) job could try again.
            return CallOutcome.PERMANENT
        if not (self.ready or self.failed):
            return CallOutcome.TEMPORARY  # still processing: poll again
        return super().outcome


class ErrorBody(VendorModel):
    success: StrictBool
    error: str
    details: Any = None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def build_extract_request(
    urls: list[str], *, prompt: str = "", schema: dict[str, Any] | None = None
) -> ProviderRequest:
    """POST /v2/extract (https://docs.firecrawl.dev/api-reference/endpoint/extract)."""
    if not urls:
        raise ValueError("Firecrawl extract needs at least one URL")
    body: dict[str, Any] = {"urls": list(urls)}
    if prompt:
        body["prompt"] = prompt
    if schema:
        body["schema"] = schema
    return ProviderRequest(method="POST", path=EXTRACT_PATH, json=body)


def build_extract_status_request(job_id: str) -> ProviderRequest:
    """GET /v2/extract/{id} (https://docs.firecrawl.dev/api-reference/endpoint/extract-get)."""
    return ProviderRequest(method="GET", path=f"{EXTRACT_PATH}/{job_id}")


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = f"HTTP {status}"
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        message = payload["error"]
    kind = classify_status(status) if status >= 400 else ErrorKind.TEMPORARY
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


_parse = partial(parse_answer, error_from=_error_from, what=f"{SLUG} answer", success_flag=True)


def parse_extract_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> ExtractStarted:
    """Read the answer to starting a job: its id, and the URLs it refused."""
    return _parse(ExtractStarted, status, body, retry_after=retry_after)


def parse_extract_status_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> ExtractStatus:
    """Read a poll: `ready` with `data`, still processing, or failed."""
    return _parse(ExtractStatus, status, body, retry_after=retry_after)
