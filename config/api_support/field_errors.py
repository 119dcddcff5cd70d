"""A validation failure's field errors in the request's language: pydantic writes its own
messages in English, so each known error type gets ours, with the same limits in it. The
type itself is given too (`type`), a stable code a client can test."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_WHOLE_NUMBER = gettext_lazy("A whole number is expected.")
_NUMBER = gettext_lazy("A number is expected.")
_BOOLEAN = gettext_lazy("true or false is expected.")
_TEXT = gettext_lazy("A text is expected.")
_OBJECT = gettext_lazy("An object is expected.")
_DATE = gettext_lazy("A date is expected (ISO 8601, 2026-12-04).")
_DATETIME = gettext_lazy("A date and time is expected (ISO 8601, 2026-12-04T09:30:00+01:00).")

# pydantic's error type -> our message; %(name)s are taken from the error's context.
MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("This field is not accepted."),
    "less_than_equal": gettext_lazy("Must be at most %(le)s."),
    "less_than": gettext_lazy("Must be less than %(lt)s."),
    "greater_than_equal": gettext_lazy("Must be at least %(ge)s."),
    "greater_than": gettext_lazy("Must be greater than %(gt)s."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "too_long": gettext_lazy("At most %(max_length)s items."),
    "too_short": gettext_lazy("At least %(min_length)s items."),
    "literal_error": gettext_lazy("Must be one of: %(expected)s."),
    "enum": gettext_lazy("Must be one of: %(expected)s."),
    "int_parsing": _WHOLE_NUMBER,
    "int_type": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "bool_parsing": _BOOLEAN,
    "bool_type": _BOOLEAN,
    "string_type": _TEXT,
    "list_type": gettext_lazy("A list is expected."),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_type": _DATE,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "uuid_parsing": gettext_lazy("A UUID is expected."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
    "string_unicode": gettext_lazy("The text cannot be read (invalid Unicode)."),
    # The only pattern our fields have: no NUL character (FilterText).
    "string_pattern_mismatch": gettext_lazy("The text holds a character it cannot hold (NUL)."),
}


def field_error(error: dict[str, Any]) -> dict[str, Any]:
    """One error of pydantic's list as the envelope gives it: loc, type and msg."""
    kind = str(error.get("type", ""))
    message = MESSAGES.get(kind)
    context = {name: str(value) for name, value in (error.get("ctx") or {}).items()}
    if kind in ("literal_error", "enum") and "expected" in context:
        # pydantic joins the choices with an English "or": "'a', 'b' or 'c'".
        context["expected"] = context["expected"].replace("' or '", f"' {_('or')} '")
    if kind == "value_error" and "error" in context:
        # Our own validators' words (pydantic would put "Value error, " before them).
        message, context = "%(error)s", {"error": context["error"]}
    try:
        text = str(message) % context if message is not None else None
    except (KeyError, ValueError, TypeError):
        text = None
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "type": kind,
        "msg": text if text is not None else str(error.get("msg", "")),
    }
