"""Parameter types shared by the routes."""

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Path
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

# The largest id a database column holds: a bigger number is refused as invalid (422), never
# sent to the database, where it would overflow.
MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _json_number(value: Any) -> Any:
    # A JSON body's id is a number: "40" or true are not (a lax reading takes them for one);
    # 40.0 is, as JSON Schema's "integer" says.
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An id in a JSON body (`ObjectId` reads a query's or a path's text).
BodyId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_number)]


def id_path(description: str = "") -> Path:
    return Path(..., ge=1, le=MAX_ID, description=description)


def _iso_text(value: Any) -> Any:
    # pydantic reads a bare number as a Unix time; the schema promises an ISO 8601 text.
    if isinstance(value, (int, float)) or (
        isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(\.\d*)?\s*", value)
    ):
        raise ValueError("an ISO 8601 date and time, e.g. 2026-12-03T09:30:00+01:00")
    return value


def _in_utc(value: dt.datetime) -> dt.datetime:
    # In UTC, as every database stores it: PostgreSQL refuses offsets past ±15:59. A time
    # that falls outside years 1-9999 once in UTC is the nearest end of that range.
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        end = dt.datetime.min if value.year == 1 else dt.datetime.max
        return end.replace(tzinfo=dt.UTC)


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]


def _storable(value: str) -> str:
    # No database stores a NUL character, and PostgreSQL refuses one even in a query.
    if "\x00" in value:
        raise ValueError("no NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("valid UTF-8 text") from exc
    return value


# Text a filter compares with stored values; the pattern tells clients (and the schema's
# checks) what the validator refuses.
FilterText = Annotated[str, Field(pattern=r"^[^\x00]*$"), AfterValidator(_storable)]
