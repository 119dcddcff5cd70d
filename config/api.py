"""The JSON API at /api/v1/: one router per app, assembled here so that the apps' one-way
dependencies hold (prospects <- enrichment), with one error envelope for every failure."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from enrichment.api import router as enrichment_router
from prospects.api import router as prospects_router

from .api_support.errors import ApiError, error_response
from .api_support.field_errors import field_error
from .api_support.principal import ApiKeyAuth, SessionAuth

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="Sourcier API",
    version="1",
    description=(
        "Prospects, enrichment jobs and figures of one workspace. Authenticate with "
        "`Authorization: Bearer <API key>` (`manage.py create_api_key`). Every POST accepts an "
        '`Idempotency-Key` header (kept 24 h). Errors are `{"error": {"code", "message"}}`, '
        "messages in French or English by Accept-Language."
    ),
    auth=[ApiKeyAuth(), SessionAuth()],
    urls_namespace="api-v1",
)
api.add_router("", prospects_router)
api.add_router("", enrichment_router)


def _envelope(status: int, code: str, message: str = "", **kw) -> HttpResponse:
    response = error_response(status, code, message, **kw)
    # Read by the idempotency layer: a request refused before it ran is not stored.
    response.api_error_code = code
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _envelope(exc.status, exc.code, exc.message, fields=exc.fields)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = [field_error(error) for error in exc.errors]
    code = (
        "invalid_json"
        if any(e.get("type") == "json_invalid" for e in exc.errors)
        else "validation_error"
    )
    return _envelope(422, code, fields=fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _envelope(401, "unauthenticated")
    response["WWW-Authenticate"] = 'Bearer realm="sourcier"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # django-ninja's "Cannot parse request body": a body that is not JSON.
        return _envelope(422, "invalid_json")
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return _envelope(exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _envelope(404, "not_found")


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _envelope(413, "request_too_large")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API %s %s failed", request.method, request.path)
    return _envelope(500, "server_error")
