"""How an op handler reports what happened, besides raising a DomainError (= rejected)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.domain.permissions import Principal


class Held(Exception):
    """The op refers to a record the server has not received yet."""

    def __init__(self, entity: str, record_id: uuid.UUID) -> None:
        super().__init__(f"waiting for {entity} {record_id}")
        self.entity = entity
        self.record_id = record_id


class ConflictFound(Exception):
    """The device edited fields the server changed since its base version."""

    def __init__(self, current: dict[str, Any], fields: tuple[str, ...]) -> None:
        super().__init__("conflict")
        self.current = current
        self.fields = fields


class NeedsWriter(Exception):
    """A batch applied on a read-only snapshot (see ``push.py``) came to a step that must
    write or read under the writer lock: it is applied again as the writer."""


@dataclass
class Applied:
    version: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpContext:
    principal: Principal
    agency_id: uuid.UUID
    agency_abbr: str
    agency_timezone: str
    agency_settings: dict[str, Any]
    device_id: uuid.UUID | None
    op_id: uuid.UUID
    now: datetime
    # HMAC key for gate codes (derived from SECRET_KEY).
    entry_key: bytes = b""
    # Reads of this batch (records, officers, attachments, counters); see cache.py.
    cache: Any = None

    @classmethod
    def for_agency(
        cls, principal: Principal, agency: Any, *, op_id: uuid.UUID | None, now: datetime, **kw: Any
    ) -> OpContext:
        """The context of a step taken by ``principal`` on ``agency``'s records."""
        return cls(
            principal=principal,
            agency_id=agency.id,
            agency_abbr=agency.abbr,
            agency_timezone=agency.timezone,
            agency_settings=agency.settings or {},
            device_id=principal.device_id,
            op_id=op_id,  # type: ignore[arg-type]  # None: not from a sync op
            now=now,
            **kw,
        )
