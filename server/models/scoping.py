"""Agency isolation: a session bound to an agency neither reads nor writes another's rows."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import SessionLike
from server.models.types import AgencyScoped

_KEY = "agency_id"


def bind_agency(session: SessionLike, agency_id: uuid.UUID) -> None:
    """Fence ``session`` to ``agency_id`` for the rest of its life (one request)."""
    session.info[_KEY] = agency_id


def bound_agency(session: SessionLike) -> uuid.UUID | None:
    return session.info.get(_KEY)


def _add_agency_criteria(state: so.ORMExecuteState) -> None:
    agency_id = state.session.info.get(_KEY)
    if agency_id is None:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        so.with_loader_criteria(
            AgencyScoped,
            lambda cls: cls.agency_id == agency_id,
            include_aliases=True,
        )
    )


def check_writes(session: so.Session | so.scoped_session[Any], objects: Any) -> None:
    """Give ``objects`` about to be written the session's agency, or refuse another's: at
    every flush, and for records a batch writes as rows (see sync/cache.py)."""
    agency_id = session.info.get(_KEY)
    if agency_id is None:
        return
    for obj in objects:
        if not isinstance(obj, AgencyScoped):
            continue
        if obj.agency_id is None:
            obj.agency_id = agency_id
        elif obj.agency_id != agency_id:
            raise PermissionError(
                f"{type(obj).__name__} of another agency written through a session bound to "
                f"agency {agency_id}"
            )


def _check_writes(session: so.Session, flush_context: Any, instances: Any) -> None:
    check_writes(session, list(session.new) + list(session.dirty))


def install() -> None:
    """Attach the fences to every ORM session; they act only on bound sessions."""
    if not sa.event.contains(so.Session, "do_orm_execute", _add_agency_criteria):
        sa.event.listen(so.Session, "do_orm_execute", _add_agency_criteria)
        sa.event.listen(so.Session, "before_flush", _check_writes)


def unbind_agency(session: SessionLike) -> None:
    """Lift the fence: for work that spans agencies outside a request (the demo seed)."""
    session.info.pop(_KEY, None)
