"""Who may do what: the roles and the acting principal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.domain.errors import Forbidden

INSPECTOR = "inspector"
LEAD = "lead"
MANAGER = "manager"
ADMIN = "admin"
ROLES = (INSPECTOR, LEAD, MANAGER, ADMIN)

ROLE_LABELS = {
    INSPECTOR: "执法人员",
    LEAD: "执法大队负责人",
    MANAGER: "局领导/法规科",
    ADMIN: "系统管理员",
}

# The agency's accounts: create, disable, enable, set a new password.
MANAGE_USERS = frozenset({ADMIN})
# Who signs in to the office pages (inspectors use the field app).
OFFICE_ROLES = frozenset({LEAD, MANAGER, ADMIN})
# List, revoke (a lost phone) and reinstate (found again) the agency's devices.
MANAGE_DEVICES = frozenset({LEAD, MANAGER, ADMIN})
# What ``device_events`` records of a device.
DEVICE_REVOKED, DEVICE_REINSTATED = "revoke", "reinstate"
DEVICE_ACTIONS = (DEVICE_REVOKED, DEVICE_REINSTATED)
EDIT_ENTERPRISES = frozenset({LEAD, MANAGER, ADMIN})
IMPORT_ENTERPRISES = frozenset({LEAD, MANAGER, ADMIN})
ROTATE_ENTRY_CODES = frozenset({MANAGER, ADMIN})
READ_AUDIT = frozenset({LEAD, MANAGER, ADMIN})
# Double-random draws: leads and managers plan and run them, and keep the recusal registry.
MANAGE_DRAWS = frozenset({LEAD, MANAGER})
MANAGE_RECUSALS = frozenset({LEAD, MANAGER})
# Penalty cases: inspectors open and follow cases; decisions, exemptions, transfers to the
# judiciary and legal review (法规科) are the bureau's (managers); leads publish and watch.
READ_CASES = frozenset({INSPECTOR, LEAD, MANAGER})
OPEN_CASES = frozenset({INSPECTOR, LEAD, MANAGER})
DECIDE_CASES = frozenset({MANAGER})
LEGAL_REVIEW = frozenset({MANAGER})
PUBLISH_DECISIONS = frozenset({LEAD, MANAGER})
RECORD_COMPLAINTS = frozenset({INSPECTOR, LEAD, MANAGER})
# The annual plan and report: leads plan and read; managers too.
MANAGE_ANNUAL_PLANS = frozenset({LEAD, MANAGER})
READ_REPORTS = frozenset({LEAD, MANAGER})


@dataclass(frozen=True)
class Principal:
    """The authenticated user behind a request, and the device it came from."""

    user_id: uuid.UUID
    agency_id: uuid.UUID
    role: str
    username: str
    device_id: uuid.UUID | None = None
    device_key: str | None = None


def require_role(principal: Principal, allowed: frozenset[str], action: str) -> None:
    """Raise ``Forbidden`` unless ``principal`` has one of ``allowed`` roles."""
    if principal.role not in allowed:
        needed = ", ".join(sorted(allowed))
        raise Forbidden(
            f"{action} needs one of the roles {needed}; you are {principal.role}",
            code="role_not_allowed",
        )
