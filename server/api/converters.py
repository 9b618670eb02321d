"""URL converters whose failures are client errors, not 404s or 500s."""

from __future__ import annotations

import uuid
from datetime import date

import marshmallow as ma
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, UUIDConverter


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


SHA256_PATTERN = "^[0-9a-f]{64}$"


class Sha256Converter(BaseConverter):
    """Any path segment; the view answers 400 ``bad_sha256`` when it is not 64 hex digits.

    Registered so the OpenAPI document can give the parameter its pattern.
    """

    regex = r"[^/]+"


class BadDay(BadRequest):
    description = "the date in the path is not a YYYY-MM-DD date within the service's years"
    data = {"message": description}


class DayConverter(BaseConverter):
    """Any path segment; 400 unless it is a date the service accepts (2000–2099)."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> date:
        from server.schemas.fields import Day

        try:
            return Day().deserialize(value)
        except ma.ValidationError:
            raise BadDay() from None

    def to_url(self, value: date) -> str:
        return value.isoformat()
