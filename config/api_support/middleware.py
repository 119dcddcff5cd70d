"""Around every `/api/` request: its language, its rate limits, its body's media type, its
Idempotency-Key, and the error envelope for what never reached a route (an unknown path, a
wrong method)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header
from django_ratelimit.core import _SIMPLE_KEYS
from ninja.utils import check_csrf

from . import idempotency, rate_limits
from .errors import ApiError, error_response
from .principal import resolve_principal

API_LANGUAGES = ("fr", "en")
PREFIX = "/api/"


def api_language(request: HttpRequest) -> str:
    """French or English, whichever Accept-Language prefers first; French otherwise."""
    header = request.headers.get("Accept-Language", "")
    for code, _quality in parse_accept_lang_header(header[:500]):
        base = code.split("-")[0].lower()
        if base in API_LANGUAGES:
            return base
    return settings.LANGUAGE_CODE


def _limited(request: HttpRequest, group: str, value: str, rate: str) -> HttpResponse | None:
    usage = rate_limits.usage(request, group, value, rate)
    if not usage or not usage["should_limit"]:
        return None
    response = error_response(429, "rate_limited")
    response.api_error_code = "rate_limited"
    response["Retry-After"] = str(max(1, int(usage["time_left"])))
    return response


def json_body(request: HttpRequest) -> bool:
    """Whether the body may be read as JSON: none, or one sent as `application/json` (or a
    `+json` type), or without a Content-Type at all (curl's `--data-binary`, most scripts).
    A form, a multipart upload or text is refused before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    media = request.content_type or ""
    if length <= 0 or not media:
        return True
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _unsupported_media_type() -> HttpResponse:
    response = error_response(415, "unsupported_media_type")
    response.api_error_code = "unsupported_media_type"
    response["Accept-Post"] = "application/json"
    return response


def json_error(response: HttpResponse) -> HttpResponse:
    """A 400, 404 or 405 Django or django-ninja answered on its own, as the envelope."""
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    if response.status_code == 400:  # e.g. a body past DATA_UPLOAD_MAX_MEMORY_SIZE
        replaced = error_response(400, "bad_request")
    elif response.status_code == 404:
        replaced = error_response(404, "not_found")
    elif response.status_code == 405:
        replaced = error_response(405, "method_not_allowed")
        replaced["Allow"] = response.get("Allow", "")
    else:
        return response
    return replaced


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        language = api_language(request)
        with translation.override(language):
            response = self._answer(request)
            response = json_error(response)
        response["Content-Language"] = language
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Accept-Language"]))
        return response

    def _answer(self, request: HttpRequest) -> HttpResponse:
        address = _SIMPLE_KEYS["ip"](request)
        limited = _limited(request, "api-ip", address, settings.SOURCIER_API_IP_RATE)
        if limited:
            return limited
        try:
            principal = resolve_principal(request)
        except ApiError:
            principal = None  # the route's auth answers it
        if principal is not None:
            limited = _limited(request, "api-key", principal.rate_key, settings.SOURCIER_API_RATE)
            if limited:
                return limited
            if not json_body(request):
                return _unsupported_media_type()
        idempotency_key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or idempotency_key is None or principal is None:
            return self.get_response(request)
        if not idempotency.valid_key(idempotency_key):
            return error_response(422, "idempotency_key_invalid")
        if principal.api_key is None and check_csrf(request) is not None:
            return self.get_response(request)  # refused by the route's session auth
        return self._idempotent(request, principal.workspace, idempotency_key)

    def _idempotent(self, request: HttpRequest, workspace, key: str) -> HttpResponse:
        claimed = idempotency.claim(workspace, key, idempotency.fingerprint(request))
        if claimed.outcome == "replay":
            return idempotency.replay(claimed.record)
        if claimed.outcome == "mismatch":
            return error_response(422, "idempotency_key_reused")
        if claimed.outcome == "busy":
            response = error_response(409, "idempotency_key_in_use")
            response["Retry-After"] = "1"
            return response
        response = self.get_response(request)
        # A route that answers with a secret says so (see idempotency.SECRET_FIELDS).
        response.holds_secret = getattr(request, "api_holds_secret", False)
        idempotency.settle(claimed, response)
        return response
