"""Offline sync: push ops, pull changes."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

from flask import Response, current_app, jsonify, request
from flask.views import MethodView

from server import observability
from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.domain import entry_codes
from server.schemas.sync import (
    MAX_PUSH_BYTES,
    OpResultSchema,
    PullQuerySchema,
    PullResultSchema,
    PushResultSchema,
    PushSchema,
)
from server.services.sync import pull, push

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync")


def entry_code_key() -> bytes:
    """The gate-code signing key, derived from SECRET_KEY for this one purpose."""
    return entry_codes.derive_key(current_app.config["SECRET_KEY"])


@blp.before_request
def _limit_push_size() -> None:
    if request.endpoint == "sync.Push":
        request.max_content_length = MAX_PUSH_BYTES


# A first pull carries the whole directory: compressed, it is a sixth of the bytes over a
# phone's slow link. Small answers are not worth the CPU.
GZIP_PULL_MIN_BYTES = 2048


@blp.after_request
def _compress_pull(response: Response) -> Response:
    if (
        request.endpoint == "sync.Pull"
        and response.status_code == 200
        and "gzip" in request.accept_encodings
        and not response.direct_passthrough
        and "Content-Encoding" not in response.headers
    ):
        body = response.get_data()
        if len(body) >= GZIP_PULL_MIN_BYTES:
            response.set_data(gzip.compress(body, compresslevel=5))
            response.headers["Content-Encoding"] = "gzip"
    if request.endpoint == "sync.Pull":
        response.vary.add("Accept-Encoding")
    return response


@blp.route("/push")
class Push(MethodView):
    @blp.arguments(PushSchema)
    @blp.response(200, PushResultSchema)
    @blp.alt_response(400, description="unsupported schema_version")
    @blp.alt_response(413, description=f"more than {MAX_PUSH_BYTES} bytes or too many ops")
    def post(self, body: dict[str, Any]) -> Any:
        """Apply a batch of ops made offline; one result per op, in order."""
        answer = push.push(current_principal(), body, entry_key=entry_code_key())
        observability.count_push(answer["results"])
        # Built of plain JSON values in the documented shape already (every push of the
        # tests' device is checked against PushResultSchema): dumping up to 500 results
        # through the schema again would only copy them.
        return jsonify(answer)


@blp.route("/pull")
class Pull(MethodView):
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullResultSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Everything visible to you that changed after the cursor, in feed order."""
        return pull.pull(current_principal(), query["cursor"], query["limit"])


@blp.route("/ops/<uuid:op_id>")
class OpResult(MethodView):
    @blp.response(200, OpResultSchema)
    def get(self, op_id: uuid.UUID) -> Any:
        """The current result of an op pushed earlier (held ops settle later)."""
        return push.op_result(current_principal(), op_id)
