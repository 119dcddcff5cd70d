"""A short, personal-data-free view of a vendor's answer, kept on its `ProviderCall` row."""

from __future__ import annotations

import json
import re
from typing import Any

EXCERPT_LIMIT = 2000
_REDACT_KEYS = re.compile(
    r"mail|phone|mobile|token|key|secret|password|name|linkedin|civility", re.IGNORECASE
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                "***" if _REDACT_KEYS.search(str(k)) and v not in (None, "", [], {}) else _redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value[:5]] + (["…"] if len(value) > 5 else [])
    if isinstance(value, str):
        return _EMAIL_RE.sub("***@***", value)
    return value


NESTED_TOO_DEEP = "(unreadable answer: JSON nested too deep to read, not kept)"


def redacted_excerpt(body: bytes) -> str:
    """The answer with personal fields and addresses masked, cut to EXCERPT_LIMIT characters."""
    try:
        text = json.dumps(_redact(json.loads(body)), ensure_ascii=False)
    except RecursionError:
        # JSON nested past the stack: its personal fields cannot be found to mask them.
        text = NESTED_TOO_DEEP
    except (ValueError, UnicodeDecodeError):
        text = _EMAIL_RE.sub("***@***", body[:EXCERPT_LIMIT].decode("utf-8", "replace"))
    return text[:EXCERPT_LIMIT]
