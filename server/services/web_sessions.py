"""Manager pages sign in with the same device-bound tokens as the API, kept in a cookie."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from server.domain import permissions
from server.domain.errors import Forbidden
from server.domain.permissions import Principal
from server.extensions import db
from server.models import ApiToken
from server.models.types import utcnow
from server.services import accounts

WEB_ROLES = permissions.OFFICE_ROLES
# Every browser of a user shares one device row: revoking it ends all their web sessions.
WEB_DEVICE_PREFIX = "web:"
_ONLY_OFFICE = "办公端供执法大队负责人和局领导、系统管理员使用；执法人员请使用执法端"


def sign_in(
    username: str,
    password: str,
    *,
    hours: int,
    now: datetime | None = None,
    address: str | None = None,
) -> str:
    """Check the password; a token for the manager pages, or Unauthorized/Forbidden (or
    TooManyRequests after too many failures from this user name or ``address``)."""
    result = accounts.login(
        username=username,
        password=password,
        device_key=WEB_DEVICE_PREFIX + username,
        device_name="管理端网页",
        ttl=timedelta(hours=hours),
        now=now,
        address=address,
    )
    if result.user.role not in WEB_ROLES:
        sign_out(result.access_token)
        raise Forbidden(_ONLY_OFFICE, code="role_not_allowed")
    return result.access_token


def principal_for(token: str) -> Principal:
    """The signed-in user, fencing the session to their agency (as the API does)."""
    principal = accounts.authenticate(token)
    if principal.role not in WEB_ROLES:
        raise Forbidden(_ONLY_OFFICE, code="role_not_allowed")
    return principal


def sign_out(token: str, now: datetime | None = None) -> None:
    """Revoke the token: a copied cookie stops working at once."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    db.session.commit()
