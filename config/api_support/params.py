"""Parameter types shared by the routes."""

from typing import Annotated

from ninja import Field, Path

# The largest id a database column holds: a bigger number is refused as invalid (422), never
# sent to the database, where it would overflow.
MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def id_path(description: str = "") -> Path:
    return Path(..., ge=1, le=MAX_ID, description=description)
