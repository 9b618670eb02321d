"""Agencies, users, login, token checks and device revocation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.database import is_unique_violation
from server.domain import permissions
from server.domain.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Agency, ApiToken, Device, DeviceEvent, User
from server.models.scoping import bind_agency
from server.models.types import utcnow
from server.services import throttle
from server.services.lookup import get_or_not_found, scalar_or_not_found
from server.services.passwords import burn_time, hash_password, needs_rehash, verify_password


@dataclass(frozen=True)
class LoginResult:
    access_token: str
    expires_at: datetime
    user: User


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_agency(code: str, name: str, abbr: str, timezone: str = "Asia/Shanghai") -> Agency:
    """Create an agency; its ``abbr`` prints in document numbers."""
    code = code.strip()
    if not code or not abbr.strip() or not name.strip():
        raise ValidationFailed("code, name and abbreviation are required")
    if db.session.scalar(sa.select(Agency).where(Agency.code == code)):
        raise Conflict(f"agency {code} exists already", code="duplicate_agency")
    agency = Agency(code=code, name=name.strip(), abbr=abbr.strip(), timezone=timezone)
    db.session.add(agency)
    db.session.commit()
    return agency


def get_agency_by_code(code: str) -> Agency:
    return scalar_or_not_found(
        sa.select(Agency).where(Agency.code == code), f"no agency with code {code}"
    )


def create_user(
    *,
    username: str,
    agency_code: str,
    role: str,
    password: str,
    full_name: str = "",
    cert_no: str | None = None,
    cert_valid_until: date | None = None,
    unit: str = "",
) -> User:
    """Create an account in an agency."""
    if role not in permissions.ROLES:
        raise ValidationFailed(
            f"unknown role {role}", fields={"role": [f"one of {', '.join(permissions.ROLES)}"]}
        )
    if len(password) < 8:
        raise ValidationFailed("password too short", fields={"password": ["at least 8 characters"]})
    agency = get_agency_by_code(agency_code)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict(f"user {username} exists already", code="duplicate_username")
    user = User(
        agency_id=agency.id,
        username=username,
        password_hash=hash_password(password),
        role=role,
        full_name=full_name,
        cert_no=cert_no or None,
        cert_valid_until=cert_valid_until,
        unit=unit.strip(),
    )
    db.session.add(user)
    db.session.commit()
    return user


def _register_device(
    agency_id: uuid.UUID, device_key: str, device_name: str, now: datetime
) -> Device:
    """A phone's first login: its row, or the one a concurrent first login (the same phone
    retrying) stored a moment before."""
    device = Device(
        agency_id=agency_id,
        device_key=device_key,
        name=device_name,
        first_seen_at=now,
        last_seen_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(device)
    except sa.exc.IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        device = db.session.scalars(
            sa.select(Device).where(Device.agency_id == agency_id, Device.device_key == device_key)
        ).one()
    return device


def login(
    *,
    username: str,
    password: str,
    device_key: str,
    device_name: str,
    ttl: timedelta,
    now: datetime | None = None,
    address: str | None = None,
) -> LoginResult:
    """Check the password and issue a bearer token bound to the device. Failed tries are
    counted per user name and per ``address`` (the client's), and limited."""
    now = now or utcnow()
    throttle.check(username, address, now)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        burn_time(password)
        throttle.record_failure(username, address, now)
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    if not verify_password(user.password_hash, password) or not user.active:
        throttle.record_failure(username, address, now)
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    throttle.forget(username)
    if needs_rehash(user.password_hash):
        # The password is known only now: the one moment its hash can follow new parameters.
        user.password_hash = hash_password(password)
    device = db.session.scalar(
        sa.select(Device).where(Device.agency_id == user.agency_id, Device.device_key == device_key)
    )
    if device is None:
        device = _register_device(user.agency_id, device_key, device_name, now)
    if device.revoked_at is not None:
        raise Forbidden(
            "this device was reported lost or revoked; a lead can reinstate it",
            code="device_revoked",
        )
    device.name = device_name or device.name
    device.last_seen_at = now
    device.last_user_id = user.id
    token = secrets.token_urlsafe(32)
    expires_at = now + ttl
    db.session.flush()
    db.session.add(
        ApiToken(
            agency_id=user.agency_id,
            token_hash=_token_hash(token),
            user_id=user.id,
            device_id=device.id,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    db.session.commit()
    return LoginResult(access_token=token, expires_at=expires_at, user=user)


def authenticate(token: str, now: datetime | None = None) -> Principal:
    """Resolve a bearer token to its principal and fence the session to its agency."""
    now = now or utcnow()
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None:
        raise Unauthorized("invalid token", code="invalid_token")
    if row.revoked_at is not None or row.device.revoked_at is not None:
        raise Unauthorized("this token was revoked", code="token_revoked")
    if row.expires_at <= now:
        raise Unauthorized("this token has expired; log in again", code="token_expired")
    if not row.user.active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    bind_agency(db.session, row.agency_id)
    return Principal(
        user_id=row.user_id,
        agency_id=row.agency_id,
        role=row.user.role,
        username=row.user.username,
        device_id=row.device_id,
        device_key=row.device.device_key,
    )


def list_devices(principal: Principal) -> list[Device]:
    """The agency's devices, the most recently seen first, each with its revocations."""
    permissions.require_role(principal, permissions.MANAGE_DEVICES, "listing devices")
    return list(
        db.session.scalars(
            sa.select(Device)
            .options(so.selectinload(Device.events))
            .order_by(Device.last_seen_at.desc(), Device.id)
        )
    )


def people_of(devices: list[Device]) -> dict[uuid.UUID, User]:
    """The users ``devices`` name: who logged in last, who revoked or reinstated them."""
    ids = {d.last_user_id for d in devices if d.last_user_id}
    ids |= {e.user_id for d in devices for e in d.events}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def _device(device_key: str) -> Device:
    return scalar_or_not_found(
        sa.select(Device).where(Device.device_key == device_key),
        f"no device {device_key} in your agency",
    )


def revoke_device(principal: Principal, device_key: str, now: datetime | None = None) -> Device:
    """Stop every token of a device at once (a lost phone). Revoking twice changes nothing."""
    permissions.require_role(principal, permissions.MANAGE_DEVICES, "revoking a device")
    now = now or utcnow()
    device = _device(device_key)
    if device.revoked_at is None:
        device.revoked_at = now
        device.revoked_by = principal.user_id
        _record(device, permissions.DEVICE_REVOKED, principal, now)
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.device_id == device.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.commit()
    return device


def reinstate_device(principal: Principal, device_key: str, now: datetime | None = None) -> Device:
    """Let a revoked device log in again (a lost phone found, with records still to sync:
    its ops name it, and a push is taken only from the device it was made on). Its old tokens
    stay revoked: whoever holds it logs in again with a password. Reinstating a device that
    is not revoked changes nothing."""
    permissions.require_role(principal, permissions.MANAGE_DEVICES, "reinstating a device")
    now = now or utcnow()
    device = _device(device_key)
    if device.revoked_at is not None:
        device.revoked_at = None
        device.revoked_by = None
        _record(device, permissions.DEVICE_REINSTATED, principal, now)
    db.session.commit()
    return device


def _record(device: Device, action: str, principal: Principal, now: datetime) -> None:
    db.session.add(
        DeviceEvent(
            agency_id=device.agency_id,
            device_id=device.id,
            action=action,
            at=now,
            user_id=principal.user_id,
        )
    )
    db.session.flush()
    db.session.expire(device, ["events"])


def list_colleagues() -> list[User]:
    """The active people of the caller's agency (the session is fenced to it), by name:
    whom an inspector may put on a team."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.active.is_(True)).order_by(User.full_name, User.username)
        )
    )


def list_users(principal: Principal) -> list[User]:
    """The agency's accounts, by role and name."""
    permissions.require_role(principal, permissions.MANAGE_USERS, "listing users")
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.agency_id == principal.agency_id)
            .order_by(User.role, User.unit, User.username)
        )
    )


def add_user(principal: Principal, **fields: Any) -> User:
    """An admin creates an account in their own agency."""
    permissions.require_role(principal, permissions.MANAGE_USERS, "creating users")
    agency = db.session.get_one(Agency, principal.agency_id)
    return create_user(agency_code=agency.code, **fields)


def _managed_user(principal: Principal, user_id: uuid.UUID, action: str) -> User:
    permissions.require_role(principal, permissions.MANAGE_USERS, action)
    return scalar_or_not_found(
        sa.select(User).where(User.id == user_id, User.agency_id == principal.agency_id),
        "no such user",
    )


def _revoke_tokens(user: User, now: datetime) -> None:
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def set_user_active(
    principal: Principal, user_id: uuid.UUID, active: bool, now: datetime | None = None
) -> User:
    """Disable an account (every token stops at once) or enable it again."""
    user = _managed_user(principal, user_id, "disabling users")
    if user.id == principal.user_id and not active:
        raise Conflict("you cannot disable your own account", code="own_account")
    user.active = active
    if not active:
        _revoke_tokens(user, now or utcnow())
    db.session.commit()
    return user


def set_password(
    principal: Principal, user_id: uuid.UUID, password: str, now: datetime | None = None
) -> User:
    """Give an account a new password; its tokens stop, its devices log in again with it."""
    user = _managed_user(principal, user_id, "setting passwords")
    if len(password) < 8:
        raise ValidationFailed("password too short", fields={"password": ["at least 8 characters"]})
    user.password_hash = hash_password(password)
    _revoke_tokens(user, now or utcnow())
    db.session.commit()
    return user


def get_user(user_id: uuid.UUID) -> User:
    return get_or_not_found(User, user_id, "no such user")


def purge_expired_tokens(now: datetime | None = None, keep: timedelta = timedelta(days=30)) -> int:
    """Delete tokens that expired more than ``keep`` ago. Safe to run any number of times."""
    now = now or utcnow()
    result = cast(
        "sa.CursorResult[Any]",
        db.session.execute(sa.delete(ApiToken).where(ApiToken.expires_at < now - keep)),
    )
    db.session.commit()
    return result.rowcount or 0
