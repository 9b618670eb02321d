"""Domain exceptions: each carries a stable snake_case ``code`` that clients may rely on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule was broken. ``api/errors.py`` maps subclasses to HTTP statuses."""

    code: str = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.details = details or {}


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule (HTTP 422)."""

    code = "validation_failed"


class NotFound(DomainError):
    """The row does not exist, or belongs to another agency (HTTP 404)."""

    code = "not_found"


class Conflict(DomainError):
    """The request collides with the current state (HTTP 409)."""

    code = "conflict"


class Forbidden(DomainError):
    """Authenticated, but the role or agency may not do this (HTTP 403)."""

    code = "forbidden"


class Unauthorized(DomainError):
    """No, invalid, expired or revoked credentials (HTTP 401)."""

    code = "unauthorized"


class BadRequest(DomainError):
    """The request cannot be understood as sent (HTTP 400)."""

    code = "bad_request"


class TooLarge(DomainError):
    """The request is larger than allowed (HTTP 413)."""

    code = "payload_too_large"


class TooManyRequests(DomainError):
    """Too many tries; ``details["retry_after"]`` says in how many seconds (HTTP 429)."""

    code = "too_many_attempts"
