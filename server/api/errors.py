"""The one place that turns errors into the JSON error body of the API contract."""

from __future__ import annotations

import logging
from typing import Any

from apispec import BasePlugin
from flask import Flask, Response, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from server.database import is_unique_violation
from server.domain import errors as domain
from server.schemas.common import ErrorSchema

log = logging.getLogger(__name__)

STATUS_FOR: list[tuple[type[domain.DomainError], int]] = [
    (domain.Unauthorized, 401),
    (domain.Forbidden, 403),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.ValidationFailed, 422),
    (domain.BadRequest, 400),
    (domain.TooLarge, 413),
    (domain.TooManyRequests, 429),
]

# Werkzeug's exception names, as stable snake_case codes.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    414: "uri_too_long",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    422: "validation_failed",
    429: "too_many_requests",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The contract's error body; ``extra`` adds top-level members beside ``error``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    response = jsonify({**(extra or {}), "error": body})
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def status_for(exc: domain.DomainError) -> int:
    for cls, status in STATUS_FOR:
        if isinstance(exc, cls):
            return status
    return 422


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); the contract wants fields only."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    out: dict[str, Any] = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            out.update(value)
        else:
            out[location] = value
    return out


def http_error_response(error: HTTPException) -> Response:
    """Framework errors (404, 405, 413, malformed JSON, webargs validation) in our body."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    code = HTTP_CODES.get(status, "error")
    message = data.get("message") or error.description or error.name
    fields = None
    if "messages" in data or "errors" in data:
        fields = _flatten_webargs(data.get("errors") or data.get("messages"))
        if status == 422:
            message = "the request does not pass validation"
    if status == 400 and fields and fields.get("json") == ["Invalid JSON body."]:
        code, message, fields = "malformed_json", "the request body is not valid JSON", None
    if status == 413:
        message = "the request body is larger than this endpoint accepts"
    if status >= 500:
        original = getattr(error, "original_exception", None) or error
        log.error("unhandled error", exc_info=(type(original), original, original.__traceback__))
        message = "the server failed; the request can be retried"
    return error_response(status, code, message, fields, headers=data.get("headers"))


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# What any operation may answer, by what it takes; each view documents its own others (409).
_BAD_REQUEST = "malformed JSON, a NUL character, or an id in the path that is not one"
_UNAUTHORIZED = "no, invalid, expired or revoked bearer token"
_FORBIDDEN = "authenticated, but this role may not do this"
_NOT_FOUND = "no such record in your agency (another agency's looks the same)"
_TOO_LARGE = "the body is larger than this endpoint accepts"


class ErrorResponses(BasePlugin):
    """Documents the error responses every operation can give, each with the error body.

    Instead of an undifferentiated ``default``: a client (and the schemathesis test) can
    then tell a documented 4xx from one the service should never have sent.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            responses.pop("default", None)
            common = [(400, _BAD_REQUEST)]
            if operation.get("security") != []:
                common += [(401, _UNAUTHORIZED), (403, _FORBIDDEN)]
            if path and "{" in path:
                common.append((404, _NOT_FOUND))
            if "requestBody" in operation:
                common.append((413, _TOO_LARGE))
            present = {str(code) for code in responses}
            for status, description in common:
                if str(status) not in present:
                    responses[status] = {"description": description}
            for code, response in responses.items():
                if str(code).startswith("4") and isinstance(response, dict):
                    response.setdefault("content", _ERROR_CONTENT)


class ApiWithErrors(Api):
    """flask-smorest's Api, documenting and emitting our error body instead of its own."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("spec_kwargs", {}).setdefault("extra_plugins", [ErrorResponses()])
        super().__init__(*args, **kwargs)

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_error_response(error)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(domain.DomainError)
    def _domain(exc: domain.DomainError) -> Response:
        headers = None
        if "retry_after" in exc.details:
            headers = {"Retry-After": str(exc.details["retry_after"])}
        return error_response(
            status_for(exc), exc.code, exc.message, exc.fields, exc.details, headers=headers
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return http_error_response(exc)
        if is_unique_violation(exc):
            # A concurrent request stored the same key first, where no service foresaw the
            # race; the request itself is sound and, sent again, meets the stored row.
            log.warning("a concurrent request stored the same key first", exc_info=exc)
            return error_response(
                409,
                "concurrent_change",
                "a concurrent request stored the same record first; send the request again",
            )
        log.exception("unhandled error")
        return error_response(
            500, "internal_error", "the server failed; the request can be retried"
        )
