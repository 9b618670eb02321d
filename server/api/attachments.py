"""Evidence attachments by sha256: HEAD to ask, PUT (whole or in chunks) to send, GET to read."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, send_file
from flask.views import MethodView

from server.api.errors import error_response, status_for
from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.domain.attachments import AttachmentNotStored, served_inline
from server.domain.errors import DomainError
from server.schemas.attachments import AttachmentSchema
from server.services import attachments

blp = Blueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1/attachments",
    description=(
        "Photos, audio, video and signatures, named by the sha256 of their content. "
        "An agency reads only what its own users uploaded: content stored for another "
        "agency is 404 until this agency uploads the same bytes itself."
    ),
)

_BINARY = {"type": "string", "format": "binary"}
_OFFSET = {
    "description": "bytes of this agency's upload received so far (0 when none)",
    "schema": {"type": "integer", "minimum": 0},
}
_LENGTH = {
    "description": "the declared total of a resumable upload, or the stored size",
    "schema": {"type": "integer", "minimum": 0},
}
_PATH_HELP = "The sha256 in the path must be 64 lowercase hex digits, else 400 `bad_sha256`."

_PUT_DESCRIPTION = f"""Send the content of attachment `sha256` as the raw request body.

The body is streamed to disk and hashed as it arrives. When the hash differs from the path:
422 `hash_mismatch` and nothing is stored. 201 when the content is now stored for your
agency; 200 when it already was (a retried PUT changes nothing and its body is not read).

**Resumable:** send `Content-Range: bytes <start>-<end>/<total>` (end inclusive) with each
chunk. A chunk must start at the bytes received so far (`Upload-Offset`, also reported by
HEAD); otherwise 409 `offset_mismatch` with the current `Upload-Offset` header, nothing
changes. A repeated chunk lying wholly within the bytes received is answered 202 without
change. 202 while more is expected; when the last chunk completes the total, the whole file
is verified: 201, or 422 `hash_mismatch` and the partial upload is discarded. Bytes of a chunk
cut off by a dropped link are kept; resume from HEAD's `Upload-Offset`. A malformed range is
400 `bad_content_range`; a different total than the upload started with is 409
`upload_length_mismatch`; a chunk sent while another request is still writing this upload is
409 `upload_in_progress`.

**Size:** a body or declared total over the configured cap (`ATTACHMENT_MAX_BYTES`, default
100 MiB) is 413 `attachment_too_large`, and nothing is stored.

The request's `Content-Type` is recorded as the attachment's media type. {_PATH_HELP}"""


class _RequestBody:
    """``request.stream``, touched only on the first read, so size checks come before it."""

    def read(self, size: int = -1, /) -> bytes:
        return request.stream.read(size)


@blp.errorhandler(DomainError)
def _error_with_offset(exc: DomainError) -> Response:
    """The error body, plus where the upload stands, so a device can resume from it."""
    headers = {}
    if "upload_offset" in exc.details:
        headers["Upload-Offset"] = str(exc.details["upload_offset"])
    if "upload_length" in exc.details:
        headers["Upload-Length"] = str(exc.details["upload_length"])
    return error_response(
        status_for(exc), exc.code, exc.message, exc.fields, exc.details, headers=headers
    )


def _content_headers(state: attachments.AttachmentState) -> dict[str, str]:
    return {
        "Upload-Offset": str(state.received_bytes),
        **({"Upload-Length": str(state.size)} if state.size is not None else {}),
    }


@blp.route("/<sha256:sha256>")
class AttachmentItem(MethodView):
    @blp.response(
        200,
        description="stored completely for your agency",
        headers={"Upload-Offset": _OFFSET, "Upload-Length": _LENGTH},
    )
    @blp.alt_response(400, description="the sha256 is not 64 lowercase hex digits")
    @blp.alt_response(
        404,
        description=(
            "not stored for your agency. While a resumable upload is partial, "
            "`Upload-Offset` says how many bytes arrived (send the next chunk from there) "
            "and `Upload-Length` the declared total; with no upload, `Upload-Offset` is 0."
        ),
        headers={"Upload-Offset": _OFFSET, "Upload-Length": _LENGTH},
    )
    def head(self, sha256: str) -> Any:
        """Whether the attachment is stored; how far a resumable upload of it got."""
        state = attachments.attachment_state(current_principal(), sha256)
        if not state.complete:
            details: dict[str, Any] = {"upload_offset": state.received_bytes}
            if state.size is not None:
                details["upload_length"] = state.size
            raise AttachmentNotStored("no such attachment in your agency", details=details)
        response = current_app.response_class(status=200)
        response.headers.update(_content_headers(state))
        response.headers["ETag"] = f'"{state.sha256}"'
        if state.size is not None:  # known once the upload is complete
            response.content_length = state.size
        media_type = state.content_type or "application/octet-stream"
        response.mimetype = media_type if served_inline(media_type) else "application/octet-stream"
        return response

    @blp.response(
        200,
        _BINARY,
        content_type="application/octet-stream",
        description=(
            "the stored bytes, with the media type recorded at upload (types a browser "
            "could run are sent as a download); supports Range and If-None-Match"
        ),
    )
    @blp.alt_response(206, success=True, description="the part named by a Range header")
    @blp.alt_response(304, success=True, description="unchanged since the ETag sent")
    @blp.alt_response(400, description="the sha256 is not 64 lowercase hex digits")
    @blp.alt_response(404, description="not stored for your agency")
    @blp.alt_response(416, description="the Range lies outside the content")
    def get(self, sha256: str) -> Any:
        """The attachment's content, streamed from disk."""
        stored = attachments.open_attachment(current_principal(), sha256)
        inline = served_inline(stored.content_type)
        response = send_file(
            stored.path,
            mimetype=stored.content_type if inline else "application/octet-stream",
            as_attachment=not inline,
            download_name=stored.sha256,
            conditional=True,
            etag=stored.sha256,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        # Content behind a hash never changes, but it is evidence: no shared caches.
        response.cache_control.no_cache = None
        response.cache_control.private = True
        response.cache_control.max_age = 86400
        return response

    @blp.doc(
        description=_PUT_DESCRIPTION,
        requestBody={
            "required": True,
            "content": {"application/octet-stream": {"schema": _BINARY}},
        },
        parameters=[
            {
                "in": "header",
                "name": "Content-Range",
                "required": False,
                "description": "`bytes <start>-<end>/<total>` for one chunk of a resumable upload",
                "schema": {"type": "string"},
            }
        ],
    )
    @blp.response(
        201,
        AttachmentSchema,
        description="the content is now stored for your agency",
        headers={"Upload-Offset": _OFFSET, "Upload-Length": _LENGTH},
    )
    @blp.alt_response(
        200,
        schema=AttachmentSchema,
        success=True,
        description="already stored for your agency; nothing changed",
    )
    @blp.alt_response(
        202,
        schema=AttachmentSchema,
        success=True,
        description="chunk taken (or already had); more of the upload is expected",
        headers={"Upload-Offset": _OFFSET, "Upload-Length": _LENGTH},
    )
    @blp.alt_response(
        400, description="bad sha256 (`bad_sha256`) or Content-Range (`bad_content_range`)"
    )
    @blp.alt_response(
        409,
        description="`offset_mismatch`, `upload_length_mismatch` or `upload_in_progress`; "
        "`Upload-Offset` says where to resume",
        headers={"Upload-Offset": _OFFSET},
    )
    @blp.alt_response(413, description="`attachment_too_large`: over the size cap")
    @blp.alt_response(422, description="`hash_mismatch`: nothing was stored")
    def put(self, sha256: str) -> Any:
        """Upload an attachment's content, whole or in resumable chunks."""
        cap = attachments.max_bytes()
        # The app-wide limit is sized for JSON; one byte over the cap lets the service
        # tell an oversize streamed body from one exactly at the cap.
        request.max_content_length = cap + 1
        result = attachments.put_attachment(
            current_principal(),
            sha256,
            _RequestBody(),
            content_type=request.headers.get("Content-Type"),
            content_length=request.content_length,
            content_range=request.headers.get("Content-Range"),
        )
        status = {"created": 201, "unchanged": 200, "partial": 202}[result.outcome]
        return result.state, status, _content_headers(result.state)
