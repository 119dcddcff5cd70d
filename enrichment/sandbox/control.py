"""`/_sandbox/...`: health, stats, the call record, faults and reset, for tests and operators.

Control requests are not recorded and never suffer faults.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .faults import KINDS
from .protocol import BadJson, Request, Response, json_response

if TYPE_CHECKING:
    from .server import SandboxServer


def handle(sandbox: SandboxServer, request: Request) -> Response:
    """Route one control request."""
    route = (request.method, request.path)
    if route == ("GET", "/health"):
        return json_response(200, {
            "status": "ok",
            "vendors": sorted(sandbox.vendors),
            "seed": sandbox.world.seed,
            "size": sandbox.world.size,
            "companies": len(sandbox.world.companies),
            "people": len(sandbox.world.people),
            "uptime_seconds": round(time.time() - sandbox.started_at, 3),
        })
    if route == ("GET", "/stats"):
        return json_response(200, sandbox.stats())
    if route == ("GET", "/calls"):
        return json_response(200, {"calls": _calls(sandbox, request)})
    if route == ("GET", "/faults"):
        return json_response(200, {"faults": sandbox.faults.snapshot(), "kinds": list(KINDS)})
    if route == ("POST", "/faults"):
        return _set_faults(sandbox, request)
    if route == ("POST", "/reset"):
        sandbox.reset()
        return json_response(200, {"reset": True})
    if route == ("POST", "/reset-stats"):
        sandbox.reset_stats()
        return json_response(200, {"reset": True})
    return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})


def _calls(sandbox: SandboxServer, request: Request) -> list[dict[str, object]]:
    calls = [call.as_dict() for call in sandbox.calls]
    vendor = request.query.get("vendor")
    if vendor:
        calls = [call for call in calls if call["vendor"] == vendor]
    limit = request.query.get("limit")
    if limit and limit.isdigit():
        calls = calls[-int(limit):]
    return calls


def _set_faults(sandbox: SandboxServer, request: Request) -> Response:
    try:
        payload = request.json_object()
    except BadJson as exc:
        return json_response(400, {"error": f"invalid JSON: {exc}"})
    vendor = payload.get("vendor")
    if not isinstance(vendor, str):
        return json_response(400, {"error": "'vendor' is required (a slug, or '*' for all)"})
    try:
        if payload.get("clear"):
            sandbox.clear_faults(vendor)
        else:
            changes = {name: value for name, value in payload.items() if name != "vendor"}
            sandbox.set_faults(vendor, **changes)
    except (KeyError, TypeError, ValueError) as exc:
        return json_response(400, {"error": str(exc).strip("'\"")})
    return json_response(200, {"faults": sandbox.faults.snapshot()})
