"""A page of a list: counting, slicing and the ``items, page, per_page, total`` it comes back as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.extensions import AnySelect, db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` rows fill; an empty list still shows one."""
    return max((total + per_page - 1) // per_page, 1)


def count(stmt: AnySelect) -> int:
    """How many rows ``stmt`` selects."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def sliced(stmt: AnySelect, page: int, per_page: int) -> AnySelect:
    """``stmt`` limited to page ``page`` (from 1) of ``per_page`` rows."""
    return stmt.limit(per_page).offset((page - 1) * per_page)


def page_of(items: list[Any], page: int, per_page: int) -> list[Any]:
    """Page ``page`` (from 1) of a list already in memory."""
    return items[(page - 1) * per_page : page * per_page]


def paginate(stmt: AnySelect, *order: Any, page: int, per_page: int) -> Page:
    """Page ``page`` of the first column of ``stmt`` in ``order``, with the total count."""
    total = count(stmt)
    items = list(db.session.scalars(sliced(stmt.order_by(*order), page, per_page)))
    return Page(items, page, per_page, total)
