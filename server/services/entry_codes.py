"""扫码入企 gate codes: issue, rotate, and read them for the public page and posters."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from server.domain import entry_codes, permissions
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Agency, Enterprise
from server.render.posters import PosterData
from server.services.enterprises import get_enterprise


@dataclass(frozen=True)
class GateCode:
    enterprise: Enterprise
    token: str
    url: str


def gate_code(enterprise: Enterprise, key: bytes, base_url: str) -> GateCode:
    token = entry_codes.issue_token(key, enterprise.id, enterprise.entry_code_version)
    return GateCode(enterprise, token, entry_codes.entry_url(base_url, token))


def code_for(enterprise_id: uuid.UUID, key: bytes, base_url: str) -> GateCode:
    """The current gate code of one enterprise of the caller's agency."""
    return gate_code(get_enterprise(enterprise_id), key, base_url)


def poster_data(code: GateCode, today: date | None = None) -> PosterData:
    """What one gate poster prints."""
    enterprise = code.enterprise
    agency = db.session.get(Agency, enterprise.agency_id)
    return PosterData(
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        url=code.url,
        agency_name=agency.name if agency else "",
        code_version=enterprise.entry_code_version,
        issued_on=today or date.today(),
    )


def codes_for(enterprises: list[Enterprise], key: bytes, base_url: str) -> Iterator[GateCode]:
    for enterprise in enterprises:
        yield gate_code(enterprise, key, base_url)


def rotate(principal: Principal, enterprise_id: uuid.UUID) -> Enterprise:
    """Issue a new code version; scans of older versions are refused from now on."""
    permissions.require_role(principal, permissions.ROTATE_ENTRY_CODES, "rotating a gate code")
    enterprise = get_enterprise(enterprise_id)
    enterprise.entry_code_version += 1
    enterprise.version += 1
    db.session.commit()
    return enterprise


@dataclass(frozen=True)
class PublicEntry:
    enterprise_name: str
    agency_name: str
    current: bool


def public_entry(token: str, key: bytes) -> PublicEntry:
    """What the public page may say about a scanned code (no login: name and agency only)."""
    code = entry_codes.parse_token(key, token)
    row = db.session.execute(
        sa.select(Enterprise.name, Enterprise.entry_code_version, Agency.name)
        .join(Agency, Agency.id == Enterprise.agency_id)
        .where(Enterprise.id == code.enterprise_id)
    ).first()
    if row is None:
        raise entry_codes.EntryCodeUnknownEnterprise("no enterprise carries this code")
    return PublicEntry(row[0], row[2], current=code.version == row[1])
