"""Parameter types shared by the routes."""

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Path
from pydantic import BeforeValidator

# The largest id a database column holds: a bigger number is refused as invalid (422), never
# sent to the database, where it would overflow.
MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def id_path(description: str = "") -> Path:
    return Path(..., ge=1, le=MAX_ID, description=description)


def _iso_text(value: Any) -> Any:
    # pydantic reads a bare number as a Unix time; the schema promises an ISO 8601 text.
    if isinstance(value, (int, float)) or (
        isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(\.\d*)?\s*", value)
    ):
        raise ValueError("an ISO 8601 date and time, e.g. 2026-12-03T09:30:00+01:00")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_text)]
