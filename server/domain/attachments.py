"""Attachment rules: sha256 names, Content-Range chunks, where a chunk fits, safe media types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from server.domain.errors import BadRequest, Conflict, NotFound, TooLarge, ValidationFailed

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_RANGE = re.compile(r"bytes (\d{1,19})-(\d{1,19})/(\d{1,19})")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
DEFAULT_MEDIA_TYPE = "application/octet-stream"
# Shown inline to managers' browsers; anything else is served as a download, because
# a device could otherwise upload an HTML page and have it run on the API's origin.
_INLINE_PREFIXES = ("image/", "audio/", "video/")
_INLINE_TYPES = frozenset({"application/pdf"})
_INLINE_EXCLUDED = frozenset({"image/svg+xml"})


class BadSha256(BadRequest):
    code = "bad_sha256"


class BadContentRange(BadRequest):
    code = "bad_content_range"


class HashMismatch(ValidationFailed):
    code = "hash_mismatch"


class AttachmentTooLarge(TooLarge):
    code = "attachment_too_large"


class AttachmentNotStored(NotFound):
    code = "attachment_not_found"


class OffsetMismatch(Conflict):
    code = "offset_mismatch"


class UploadBusy(Conflict):
    code = "upload_in_progress"


class UploadLengthMismatch(Conflict):
    code = "upload_length_mismatch"


class IncompleteChunk(BadRequest):
    code = "incomplete_chunk"


def validate_sha256(value: str) -> str:
    """Return ``value`` if it is 64 lowercase hex digits, else raise ``BadSha256``."""
    if not _SHA256.fullmatch(value):
        raise BadSha256(
            "an attachment is named by its sha256 as 64 lowercase hex digits",
            fields={"sha256": ["64 lowercase hex digits"]},
        )
    return value


def shard_parts(sha256: str) -> tuple[str, str, str]:
    """``abcdef...`` is stored at ``ab/cd/abcdef...``, so no directory grows too large."""
    return sha256[:2], sha256[2:4], sha256


@dataclass(frozen=True)
class ByteRange:
    """``Content-Range: bytes start-end/total``; ``end`` is inclusive, as in HTTP."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_content_range(header: str) -> ByteRange:
    """Parse a complete ``bytes start-end/total`` range; anything else is ``BadContentRange``."""
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise BadContentRange(
            "Content-Range must read 'bytes <start>-<end>/<total>'",
            fields={"Content-Range": ["bytes <start>-<end>/<total>, end inclusive"]},
        )
    start, end, total = (int(group) for group in match.groups())
    if start > end or end >= total:
        raise BadContentRange(
            f"the range {start}-{end} does not fit a total of {total} bytes",
            fields={"Content-Range": ["start <= end < total"]},
        )
    return ByteRange(start, end, total)


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a body or a declared total larger than the cap."""
    if size > max_bytes:
        raise AttachmentTooLarge(
            f"attachments may be at most {max_bytes} bytes; this one has {size}",
            details={"max_bytes": max_bytes},
        )


class ChunkFit(Enum):
    APPEND = "append"
    ALREADY_RECEIVED = "already_received"
    MISMATCH = "mismatch"


def fit_chunk(chunk: ByteRange, offset: int) -> ChunkFit:
    """Where a chunk lands given the bytes received so far.

    A chunk that starts at the offset is appended. One lying wholly within the bytes
    received is a retry whose answer was lost, and is acknowledged without change.
    Anything else (a gap, or an overlap with the end) is refused so the device re-syncs.
    """
    if chunk.start == offset:
        return ChunkFit.APPEND
    if chunk.end < offset:
        return ChunkFit.ALREADY_RECEIVED
    return ChunkFit.MISMATCH


def offset_mismatch(chunk: ByteRange, offset: int) -> OffsetMismatch:
    return OffsetMismatch(
        f"the chunk starts at byte {chunk.start} but {offset} bytes have been received; "
        f"send from byte {offset}",
        details={"upload_offset": offset},
    )


def normalize_media_type(value: str | None) -> str:
    """The request's media type without parameters, or ``application/octet-stream``."""
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(media_type):
        return DEFAULT_MEDIA_TYPE
    return media_type


def served_inline(media_type: str) -> bool:
    """Whether a browser may show this type in place rather than download it."""
    if media_type in _INLINE_EXCLUDED:
        return False
    return media_type in _INLINE_TYPES or media_type.startswith(_INLINE_PREFIXES)
