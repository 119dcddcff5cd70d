"""Shared shapes for provider adapters: a request to send, and how a failure is classified.

Adapters are pure: plain values in, a `ProviderRequest` or a typed result out. They never send
HTTP, touch the ORM or read settings; `enrichment.providers.http` sends and records the call.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

AnswerT = TypeVar("AnswerT", bound=BaseModel)


# What no database Sourcier runs on can store: a NUL byte (PostgreSQL refuses it in text) and a
# lone surrogate (a JSON body may carry one as an escape; UTF-8 cannot encode it).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """`value` with every text in it made storable: what cannot be is shown as U+FFFD."""
    if isinstance(value, str):
        if value.isascii() and "\x00" not in value:
            return value
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    return value


class VendorModel(BaseModel):
    """A vendor's answer: keys the vendor adds later are ignored, never an error, and a text
    that no database could store never reaches one."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def storable_texts(cls, value: Any) -> Any:
        return _storable(value)


class ErrorKind(enum.StrEnum):
    # Will fail again the same way: bad input, not found, unprocessable.
    PERMANENT = "permanent"
    # Worth retrying later: 5xx, timeouts, connection errors, malformed bodies.
    TEMPORARY = "temporary"
    # The vendor asked us to slow down (429 and vendor-specific equivalents).
    RATE_LIMITED = "rate_limited"
    # Out of credits or plan quota: retrying before the account is topped up is pointless.
    QUOTA = "quota"
    # Missing or rejected API key.
    AUTH = "auth"


class CallOutcome(enum.StrEnum):
    """What one call came to: the stable code stored on a call and shown translated.

    The error codes are ErrorKind's values; an answer is found or not found.
    """

    # The vendor gave what was asked for (what "pay on success" vendors bill).
    FOUND = "found"
    # A well-formed answer without it: a miss, asking again will not help.
    NOT_FOUND = "not_found"
    PERMANENT = ErrorKind.PERMANENT.value
    TEMPORARY = ErrorKind.TEMPORARY.value
    RATE_LIMITED = ErrorKind.RATE_LIMITED.value
    QUOTA = ErrorKind.QUOTA.value
    AUTH = ErrorKind.AUTH.value


class Answer(VendorModel):
    """A parsed vendor answer that knows whether it holds what was asked for."""

    @property
    def found(self) -> bool:
        raise NotImplementedError

    @property
    def outcome(self) -> CallOutcome:
        return CallOutcome.FOUND if self.found else CallOutcome.NOT_FOUND


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider call that did not give a usable answer."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED)

    @property
    def outcome(self) -> CallOutcome:
        return CallOutcome(self.kind.value)


def classify(result: Answer | ProviderError) -> CallOutcome:
    """The outcome code of a parsed answer or of the error its parsing raised."""
    return result.outcome


# An adapter's reading of a failed answer: (status, decoded body or None, Retry-After) -> error.
ErrorReader = Callable[[int, Any, float | None], ProviderError]


def classify_status(status: int) -> ErrorKind:
    """The default reading of an HTTP error status, for vendors that document nothing finer."""
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 402:
        return ErrorKind.QUOTA
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (408, 425) or status >= 500:
        return ErrorKind.TEMPORARY
    return ErrorKind.PERMANENT


def decode_json(body: bytes | str, *, status: int) -> Any:
    """Parse a body that should be JSON; an HTML error page or garbage is a temporary error."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: arrays or objects nested deeper than Python's stack, garbage too.
        raise ProviderError(
            f"malformed JSON body (HTTP {status})", kind=ErrorKind.TEMPORARY, status=status
        ) from exc


def validate_answer(model: type[AnswerT], payload: Any, *, status: int, what: str) -> AnswerT:
    """Read a decoded body as `model`; a shape the docs do not describe is a temporary error."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ProviderError(
            f"unexpected {what} shape", kind=ErrorKind.TEMPORARY, status=status
        ) from exc


def parse_answer(
    model: type[AnswerT],
    status: int,
    body: bytes | str,
    *,
    retry_after: float | None,
    error_from: ErrorReader,
    what: str,
    success_flag: bool = False,
) -> AnswerT:
    """Read a 200 answer as `model`; anything else raises the vendor's classified error.

    With `success_flag`, a body saying `"success": false` is a failure whatever its status.
    """
    payload = decode_json(body, status=status) if body else None
    refused = success_flag and isinstance(payload, dict) and payload.get("success") is False
    if status != 200 or refused:
        raise error_from(status, payload, retry_after)
    return validate_answer(model, payload, status=status, what=what)
