"""What every sandbox vendor shares: routing, API keys, credits, and its own error bodies."""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from ..coverage import stable_fraction  # noqa: F401 (the vendors' quirks draw from it)
from ..protocol import Request, Response, json_response
from ..world import Person, World

DEFAULT_CREDITS = 100_000

Handler = Callable[[Request, str, dict[str, str]], Response]


class Credits:
    """Credits spent per API key, against a balance that tests may lower to provoke quota errors."""

    def __init__(self, balance: int = DEFAULT_CREDITS) -> None:
        self.default_balance = balance
        self.balance: int | None = None
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def left(self, key: str) -> float:
        balance = self.default_balance if self.balance is None else self.balance
        with self._lock:
            return balance - self._used.get(key, 0)

    def spend(self, key: str, amount: float) -> bool:
        """Take `amount` credits if the key has them all; False (nothing taken) otherwise."""
        balance = self.default_balance if self.balance is None else self.balance
        with self._lock:
            used = self._used.get(key, 0)
            if used + amount > balance:
                return False
            self._used[key] = used + amount
            return True

    def used(self) -> dict[str, float]:
        with self._lock:
            return dict(self._used)

    def reset(self) -> None:
        with self._lock:
            self._used.clear()
        self.balance = None


class Vendor:
    """One vendor's API. Subclasses list routes as (METHOD, path pattern, method name)."""

    slug: ClassVar[str] = ""
    routes: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    # Documented requests per second per key (0: none enforced unless a test sets one).
    rate_per_second: ClassVar[float] = 0.0

    def __init__(self, world: World, *, keys: tuple[str, ...], ready_after: float) -> None:
        self.world = world
        self.keys = frozenset(keys)
        self.ready_after = ready_after
        self.credits = Credits()
        self._lock = threading.Lock()
        self._compiled = [
            (method, re.compile("^" + _to_regex(pattern) + "$"), pattern, getattr(self, name))
            for method, pattern, name in self.routes
        ]

    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        """The endpoint label (the route pattern), its handler and the path parameters."""
        allowed = False
        for route_method, regex, pattern, handler in self._compiled:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return f"{method} {pattern}", handler, found.groupdict()
                allowed = True
        label = f"{method} (method not allowed)" if allowed else f"{method} (unknown path)"
        return label, None, {}

    def reset(self) -> None:
        self.credits.reset()

    # Per-vendor answers, overridden where the vendor documents its own.
    def api_key(self, request: Request) -> str:
        raise NotImplementedError

    def unauthorized(self, request: Request) -> Response:
        return json_response(401, {"error": "Unauthorized"})

    def too_many_requests(self, retry_after: float) -> Response:
        return json_response(
            429, {"error": "Too Many Requests"}, headers=retry_after_header(retry_after)
        )

    def server_error(self, status: int) -> Response:
        return json_response(status, {"error": "Internal Server Error"})

    def bad_json(self, message: str) -> Response:
        return json_response(400, {"error": f"Invalid JSON body: {message}"}, outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return json_response(404, {"error": "Not Found"}, outcome="no_route")

    def schema_drift(self) -> dict[str, Any]:
        # Plausible JSON with the wrong types everywhere a vendor puts its payload.
        return {
            "success": "maybe",
            "data": 42,
            "request_id": None,
            "email": {"x": 1},
            "person": "n/a",
            "contact": [1],
            "status": ["?"],
            "id": None,
            "content": "none",
            "verified": "perhaps",
        }


@dataclass
class Job:
    """Work a vendor does asynchronously (a batch, an extract), for the key that started it."""

    key: str
    created_at: float

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.created_at


JobT = TypeVar("JobT", bound=Job)


class JobVendor(Vendor, Generic[JobT]):
    """A vendor whose answers come later: jobs are kept by id until the sandbox resets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs: dict[str, JobT] = {}

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._jobs.clear()

    def keep_job(self, job_id: str, job: JobT) -> None:
        with self._lock:
            self._jobs[job_id] = job

    def job_for(self, job_id: str, key: str) -> JobT | None:
        """The job, or None when the id is unknown or another key's: both answer alike."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.key == key else None


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(math.ceil(seconds), 1))}


def split_full_name(full_name: str) -> tuple[str, str]:
    first, _, last = (full_name or "").strip().partition(" ")
    return first, last


def person_id(person: Person) -> str:
    return hashlib.sha1(person.linkedin_url.encode("utf-8")).hexdigest()[:24]  # noqa: S324


def company_id(domain: str) -> str:
    return hashlib.sha1(domain.encode("utf-8")).hexdigest()[:24]  # noqa: S324


def iso_now(offset_seconds: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_seconds))


def _to_regex(pattern: str) -> str:
    return re.sub(
        r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
    )
