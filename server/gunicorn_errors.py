"""gunicorn's own error answers in the API's JSON error body.

gunicorn refuses some requests before the app sees them (a request line past
``limit_request_line``: 414; headers past their limits: 431; a request it cannot parse: 400)
and answers them with an HTML page. A device reads every answer as the JSON error body of
the API contract, so these get it too."""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util

from server.api.errors import HTTP_CODES

SERVER_FAILED = "the server failed; the request can be retried"


def json_error(status: int, reason: str, message: str) -> bytes:
    """The whole HTTP answer gunicorn writes for a request it refused or failed."""
    body = json.dumps(
        {
            "error": {
                "code": HTTP_CODES.get(status, "bad_request" if status < 500 else "server_error"),
                "message": (message or reason) if status < 500 else SERVER_FAILED,
            }
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    util.write_nonblock(sock, json_error(status_int, reason, mesg))


def install() -> None:
    """Answer with ``json_error`` wherever gunicorn writes an error page (its workers call
    ``gunicorn.util.write_error``). Called from ``gunicorn.conf.py``, before workers fork."""
    util.write_error = _write_error
