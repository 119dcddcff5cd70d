"""Helpers shared by the sandbox and adapter tests: the documented samples, and a live call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from enrichment.providers.base import ProviderRequest
from enrichment.sandbox.server import SandboxServer
from tests.samples import SAMPLES_DIR, sample_json, sample_text  # noqa: F401 (re-exported)

KEY = "sandbox-key"
# How long the test sandbox keeps a Dropcontact batch or a Firecrawl job pending.
READY_AFTER = 0.3


@dataclass
class Answer:
    status: int
    body: bytes
    headers: requests.structures.CaseInsensitiveDict

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    sandbox: SandboxServer,
    vendor: str,
    request: ProviderRequest,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = 10.0,
) -> Answer:
    """Send an adapter's request to the sandbox the way the HTTP layer would."""
    response = requests.request(
        request.method,
        sandbox.base_url(vendor) + request.path,
        params={**request.params, **(params or {})} or None,
        json=request.json,
        headers={**request.headers, **(headers or {})},
        timeout=timeout,
    )
    return Answer(response.status_code, response.content, response.headers)


def same_shape(live: Any, documented: Any, path: str = "$") -> list[str]:
    """Where `live` lacks or adds keys compared with `documented` (values are not compared)."""
    problems: list[str] = []
    if isinstance(documented, dict):
        if not isinstance(live, dict):
            return [f"{path}: expected an object"]
        missing = documented.keys() - live.keys()
        extra = live.keys() - documented.keys()
        problems += [f"{path}.{key}: missing" for key in sorted(missing)]
        problems += [f"{path}.{key}: not documented" for key in sorted(extra)]
        for key in documented.keys() & live.keys():
            if documented[key] is not None and live[key] is not None:
                problems += same_shape(live[key], documented[key], f"{path}.{key}")
    elif _objects(documented) and isinstance(live, list) and live:
        problems += same_shape(live[0], documented[0], f"{path}[0]")
    return problems


def _objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def pick(world: Any, verdict: str, *, where: Any = None) -> Any:
    """The first person of the world with this expected verdict (and matching `where`)."""
    return next(
        p for p in world.people if p.expected_verdict == verdict and (where is None or where(p))
    )
