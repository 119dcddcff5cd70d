"""One error envelope, `{"error": {"code": …, "message": …}}`: stable codes, messages in the
request's language (French or English by Accept-Language)."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Schema

# The codes of the API's own errors; the engine's outcome codes (no_provider, key_missing,
# objected…) are used as they are where they apply.
DEFAULT_MESSAGES = {
    "unauthenticated": gettext_lazy(
        "Authentication required: send “Authorization: Bearer <API key>”."
    ),
    "forbidden": gettext_lazy("This key's role does not allow this request."),
    "csrf_failed": gettext_lazy("CSRF check failed: reload the page and try again."),
    "workspace_required": gettext_lazy("Choose a workspace before using the API."),
    "bad_request": gettext_lazy("The request cannot be read (too large, or malformed)."),
    "request_too_large": gettext_lazy("The request body is too large."),
    "not_found": gettext_lazy("Not found."),
    "method_not_allowed": gettext_lazy("This method is not allowed here."),
    "validation_error": gettext_lazy("The request is not valid."),
    "invalid_json": gettext_lazy("The body is not valid JSON."),
    "unsupported_media_type": gettext_lazy(
        "The body must be JSON, sent with “Content-Type: application/json”."
    ),
    "idempotency_key_reused": gettext_lazy(
        "This Idempotency-Key was already used with another request."
    ),
    "idempotency_key_in_use": gettext_lazy(
        "A request with this Idempotency-Key is still being processed: retry later."
    ),
    "idempotency_key_invalid": gettext_lazy(
        "The Idempotency-Key must be 1 to 255 printable characters."
    ),
    "rate_limited": gettext_lazy("Too many requests: retry after the time in Retry-After."),
    "server_error": gettext_lazy("Internal error: nothing was saved twice, try again later."),
}


class ErrorDetail(Schema):
    code: str
    message: str
    # Field errors of a validation failure: [{"loc": [...], "type": "...", "msg": "..."}].
    fields: list[dict] | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class ApiError(Exception):
    """Raised by a route: answered as the envelope with this status and code."""

    def __init__(
        self, status: int, code: str, message: str = "", *, fields: list | None = None
    ) -> None:
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


def error_body(code: str, message: str = "", *, fields: list | None = None) -> dict:
    text = message or str(DEFAULT_MESSAGES.get(code, code))
    detail: dict = {"code": code, "message": text}
    if fields:
        detail["fields"] = fields
    return {"error": detail}


def error_response(
    status: int, code: str, message: str = "", *, fields: list | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields=fields), status=status)


def not_found() -> ApiError:
    """The one answer for a missing object and for another workspace's: nothing tells them apart."""
    return ApiError(404, "not_found", _("Not found."))


def errors(*statuses: int) -> dict:
    """The error part of an operation's `response=`: 401, 403, 413, 415, 422 and 429 always."""
    return {status: ErrorOut for status in sorted({401, 403, 413, 415, 422, 429, *statuses})}
