"""One row or the domain's ``NotFound``: the session's ``get`` and ``scalar``, checked."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from server.domain.errors import NotFound
from server.extensions import db

T = TypeVar("T")


def get_or_not_found(model: type[T], ident: Any, message: str) -> T:
    """The row of ``model`` with primary key ``ident``, else ``NotFound(message)``."""
    found = db.session.get(model, ident)
    if found is None:
        raise NotFound(message)
    return found


def scalar_or_not_found(stmt: sa.Select[T], message: str) -> T:
    """The first row ``stmt`` selects, else ``NotFound(message)``."""
    found = db.session.scalar(stmt)
    if found is None:
        raise NotFound(message)
    return found
