"""Custom fields: times reported in the agency's zone, money in integer fen."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, g, has_app_context


def reporting_zone() -> ZoneInfo:
    """The caller's agency zone, else the deployment's default."""
    name = None
    if has_app_context():
        name = g.get("timezone") or current_app.config.get("TIMEZONE")
    return ZoneInfo(name or "Asia/Shanghai")


class LocalDateTime(ma.fields.AwareDateTime):
    """Accepts RFC 3339 with an offset; reports in the agency's zone."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return value.astimezone(reporting_zone()).isoformat()


class Fen(ma.fields.Integer):
    """Money as integer fen (分); floats are refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", ma.validate.Range(min=0))
        kwargs.setdefault("metadata", {"description": "integer fen (分)"})
        super().__init__(**kwargs)
