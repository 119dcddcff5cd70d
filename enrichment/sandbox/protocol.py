"""The request and response values passed between the HTTP server and the vendor handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
HTML = "text/html; charset=utf-8"

# Control flow markers on a Response: the server hangs or resets instead of answering.
HANG = "hang"
RESET = "reset"


class BadJson(ValueError):
    """The request body is not the JSON object the vendor expects."""


class MissingInput(ValueError):
    """The request lacks the inputs the vendor's API needs to look anyone up."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes = b""
    _json: Any = field(default=None, repr=False)

    def header(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def bearer(self) -> str:
        scheme, _, token = self.header("Authorization").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def json(self) -> Any:
        """The body parsed as JSON (an empty body reads as an empty object)."""
        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise BadJson(str(exc)) from exc
        return self._json

    def json_object(self) -> dict[str, Any]:
        payload = self.json()
        if not isinstance(payload, dict):
            raise BadJson("expected a JSON object")
        return payload


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = ""
    records: int | None = None
    action: str = ""
    hang_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.outcome:
            self.outcome = default_outcome(self.status)


def default_outcome(status: int) -> str:
    if status < 300:
        return "ok"
    return {401: "auth", 402: "quota", 404: "not_found", 429: "rate_limited"}.get(status, "error")


def json_response(
    status: int,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    outcome: str = "",
    content_type: str = JSON,
    records: int | None = None,
) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(
        status=status,
        body=body,
        content_type=content_type,
        headers=dict(headers or {}),
        outcome=outcome,
        records=records,
    )


def html_response(status: int, title: str, *, outcome: str = "") -> Response:
    page = (
        f"<!DOCTYPE html><html><head><title>{status} {title}</title></head>"
        f"<body><center><h1>{status} {title}</h1></center><hr><center>nginx</center>"
        "</body></html>"
    )
    return Response(status=status, body=page.encode("utf-8"), content_type=HTML, outcome=outcome)
