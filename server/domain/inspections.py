"""Who may sign an inspection record: two or more inspectors with valid certificates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from server.domain.errors import ValidationFailed

MIN_TEAM = 2

# An inspection's kind as printed on pages, lists and exports (联合检查: with other departments).
KIND_LABELS = {
    "key": "重点检查",
    "random": "双随机抽查",
    "complaint": "投诉举报核查",
    "joint": "联合检查",
    "other": "其他检查",
}


@dataclass(frozen=True)
class Officer:
    id: uuid.UUID
    role: str
    cert_no: str | None
    cert_valid_until: date | None
    active: bool = True


class TeamInvalid(ValidationFailed):
    code = "invalid_team"


class UnknownInspector(ValidationFailed):
    code = "unknown_inspector"


def _is_colleague(officer: Officer | None) -> bool:
    return officer is not None and officer.active


def _not_a_colleague(officer_id: uuid.UUID) -> str:
    return f"{officer_id} is not an active user of this agency"


def check_arrivals(
    inspector_ids: Sequence[uuid.UUID], officers: Mapping[uuid.UUID, Officer]
) -> None:
    """Raise ``UnknownInspector`` unless everyone named at a gate scan is an active user of
    the agency (a scan only says who arrived; certificates are checked on the record)."""
    problems = [_not_a_colleague(i) for i in inspector_ids if not _is_colleague(officers.get(i))]
    if problems:
        raise UnknownInspector("; ".join(problems), fields={"inspector_ids": problems})


def check_times(started_at: datetime, ended_at: datetime | None) -> None:
    """An inspection cannot end before it started."""
    if ended_at is not None and ended_at < started_at:
        raise ValidationFailed(
            "ended before it started", fields={"ended_at": ["before started_at"]}
        )


def check_team(
    inspector_ids: Sequence[uuid.UUID],
    officers: Mapping[uuid.UUID, Officer],
    on: date,
) -> None:
    """Raise ``TeamInvalid`` unless the team is at least two distinct people of the agency,
    each holding an enforcement certificate valid on ``on``."""
    problems: list[str] = []
    if len(set(inspector_ids)) != len(inspector_ids):
        problems.append("an inspector is listed twice")
    if len(set(inspector_ids)) < MIN_TEAM:
        problems.append(f"at least {MIN_TEAM} inspectors must take part")
    for officer_id in inspector_ids:
        officer = officers.get(officer_id)
        if officer is None or not _is_colleague(officer):
            problems.append(_not_a_colleague(officer_id))
        elif not officer.cert_no:
            problems.append(f"{officer_id} holds no enforcement certificate (执法证)")
        elif officer.cert_valid_until is not None and officer.cert_valid_until < on:
            problems.append(f"{officer_id}'s certificate expired on {officer.cert_valid_until}")
    if problems:
        raise TeamInvalid("; ".join(problems), fields={"inspector_ids": problems})
