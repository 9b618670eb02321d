"""URL converters whose failures are client errors, not 404s or 500s."""

from __future__ import annotations

import uuid

from werkzeug.exceptions import BadRequest
from werkzeug.routing import UUIDConverter


class BadId(BadRequest):
    description = "the id in the path is not a UUID"
    data = {"message": "the id in the path is not a UUID"}


class StrictUUIDConverter(UUIDConverter):
    """Match any path segment, and answer 400 when it is not a UUID."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError:
            raise BadId() from None
