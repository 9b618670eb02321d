"""Evidence attachments: receive, verify and store content by sha256; say what an agency lacks.

Design (see also ``server/models/attachments.py`` and ``server/services/blobstore.py``):

- Bytes live in a blob store chosen by configuration: a local folder (the embedded default)
  or S3-compatible object storage, which every host of a deployment reaches. Content is
  stored once under its sha256, and only after the hash was verified.
- An agency may HEAD or GET an attachment only after one of its users uploaded the whole
  content and the hash matched (a row in ``attachment_grants``). Content another agency
  stored is not reachable by naming its hash: the second agency uploads the bytes too,
  and they are verified before it is granted.
- Resumable uploads (``Content-Range``) are per agency: each chunk becomes a part in the
  store, and ``attachment_uploads.received_bytes`` is the authority on how much arrived, so
  a device may send each chunk to any host. Parts past it (stored, then a crash before it
  was recorded) are dropped when the next chunk starts. One request at a time writes an
  upload: a lock every host meets (``database.named_lock``) turns a second one away.
- A request never holds a database transaction while it streams a body: a 100 MiB upload
  over a slow link would otherwise pin a connection and, on SQLite, the write-ahead log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

import sqlalchemy as sa
from flask import current_app

from server.database import named_lock
from server.domain.attachments import (
    DEFAULT_MAX_BYTES,
    AttachmentNotStored,
    BadContentRange,
    ByteRange,
    ChunkFit,
    HashMismatch,
    IncompleteChunk,
    UploadBusy,
    UploadLengthMismatch,
    check_size,
    fit_chunk,
    normalize_media_type,
    offset_mismatch,
    parse_content_range,
    validate_sha256,
)
from server.domain.permissions import Principal
from server.extensions import db
from server.models.attachments import Attachment, AttachmentGrant, AttachmentUpload
from server.models.types import utcnow
from server.services import blobstore
from server.services.blobstore import BlobStore

log = logging.getLogger(__name__)

READ_SIZE = blobstore.READ_SIZE
Outcome = Literal["created", "unchanged", "partial"]


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class AttachmentState:
    """What the caller's agency has of one attachment."""

    sha256: str
    complete: bool
    received_bytes: int
    size: int | None
    content_type: str | None


@dataclass(frozen=True)
class PutResult:
    """``created``: stored for the agency now; ``unchanged``: it was already;
    ``partial``: a chunk was taken (or was a harmless repeat) and more is expected."""

    outcome: Outcome
    state: AttachmentState


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    content_type: str
    sha256: str


def max_bytes() -> int:
    """The upload cap, ``ATTACHMENT_MAX_BYTES`` (100 MiB when not configured)."""
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def store() -> BlobStore:
    return blobstore.from_config(current_app.config)


def _upload_lock(agency_id: uuid.UUID, sha256: str) -> AbstractContextManager[bool]:
    """One request at a time writes an upload, whichever host it reached."""
    return named_lock(f"upload:{agency_id}:{sha256}")


def receive(files: BlobStore, stream: Readable, limit: int) -> tuple[Path, str, int]:
    """Stream a whole body to a local temporary file; return its path, sha256 and size.

    More than ``limit`` bytes, or a failed read, leaves nothing behind.
    """
    fd, path = files.temp_file()
    hasher = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = stream.read(min(READ_SIZE, limit + 1 - size))
                if not block:
                    break
                size += len(block)
                check_size(size, limit)
                hasher.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, hasher.hexdigest(), size


def _receive_chunk(files: BlobStore, stream: Readable, length: int) -> tuple[Path, int, bool]:
    """Up to ``length`` bytes of ``stream`` into a local temporary file: its path, how many
    arrived, and whether the read failed (what arrived before is kept, fsynced)."""
    fd, path = files.temp_file()
    written = 0
    failed = False
    with os.fdopen(fd, "wb") as out:
        try:
            while written < length:
                block = stream.read(min(READ_SIZE, length - written))
                if not block:
                    break
                out.write(block)
                written += len(block)
        except Exception:
            failed = True
        finally:
            out.flush()
            os.fsync(out.fileno())
    return path, written, failed


def _end_read_transaction() -> None:
    """Give the connection back before a long body is streamed."""
    db.session.rollback()


def _grant(agency_id: uuid.UUID, sha256: str) -> tuple[AttachmentGrant, Attachment] | None:
    row = db.session.execute(
        sa.select(AttachmentGrant, Attachment)
        .join(Attachment, Attachment.sha256 == AttachmentGrant.sha256)
        .where(AttachmentGrant.agency_id == agency_id, AttachmentGrant.sha256 == sha256)
    ).first()
    return None if row is None else (row[0], row[1])


def _upload(agency_id: uuid.UUID, sha256: str) -> AttachmentUpload | None:
    return db.session.scalar(
        sa.select(AttachmentUpload).where(
            AttachmentUpload.agency_id == agency_id, AttachmentUpload.sha256 == sha256
        )
    )


def _stored_state(attachment: Attachment) -> AttachmentState:
    return AttachmentState(
        attachment.sha256, True, attachment.size, attachment.size, attachment.content_type
    )


def _stored_for(agency_id: uuid.UUID, sha256: str, files: BlobStore) -> Attachment | None:
    granted = _grant(agency_id, sha256)
    if granted is None:
        return None
    if not files.exists(sha256):
        # Let the device upload it again rather than claim what cannot be served.
        log.error("attachment %s is recorded but its file is missing", sha256)
        return None
    return granted[1]


def attachment_state(principal: Principal, sha256: str) -> AttachmentState:
    """Whether the caller's agency has the attachment, and how far its upload got."""
    validate_sha256(sha256)
    attachment = _stored_for(principal.agency_id, sha256, store())
    if attachment is not None:
        return _stored_state(attachment)
    upload = _upload(principal.agency_id, sha256)
    if upload is None:
        return AttachmentState(sha256, False, 0, None, None)
    return AttachmentState(
        sha256, False, upload.received_bytes, upload.total_size, upload.content_type
    )


def open_attachment(principal: Principal, sha256: str) -> StoredFile:
    """The stored file, if the caller's agency uploaded this content itself."""
    validate_sha256(sha256)
    files = store()
    attachment = _stored_for(principal.agency_id, sha256, files)
    if attachment is None:
        state = attachment_state(principal, sha256)
        raise AttachmentNotStored(
            "no such attachment in your agency",
            details={"upload_offset": state.received_bytes},
        )
    return StoredFile(files.local_path(sha256), attachment.size, attachment.content_type, sha256)


def stored_content(agency_id: uuid.UUID, sha256: str, limit: int) -> bytes | None:
    """The bytes of an attachment ``agency_id`` holds, if it holds it and it is at most
    ``limit`` bytes (for embedding a signature in a document)."""
    files = store()
    attachment = _stored_for(agency_id, sha256, files)
    if attachment is None or attachment.size > limit:
        return None
    return files.local_path(sha256).read_bytes()


def missing_attachments(agency_id: uuid.UUID, shas: Iterable[str]) -> list[str]:
    """The named attachments not completely stored for ``agency_id``, in the order given."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return []
    present = set(
        db.session.scalars(
            sa.select(AttachmentGrant.sha256).where(
                AttachmentGrant.agency_id == agency_id, AttachmentGrant.sha256.in_(wanted)
            )
        )
    )
    return [sha for sha in wanted if sha not in present]


def put_attachment(
    principal: Principal,
    sha256: str,
    stream: Readable,
    *,
    content_type: str | None,
    content_length: int | None,
    content_range: str | None,
    now: datetime | None = None,
) -> PutResult:
    """Take a whole body, or one ``Content-Range`` chunk of it, for attachment ``sha256``."""
    validate_sha256(sha256)
    limit = max_bytes()
    chunk = None if content_range is None else parse_content_range(content_range)
    if chunk is not None:
        check_size(chunk.total, limit)
        if content_length is not None and content_length != chunk.length:
            raise BadContentRange(
                f"the body has {content_length} bytes but the range names {chunk.length}",
                fields={"Content-Range": ["must match the body's length"]},
            )
    elif content_length is not None:
        check_size(content_length, limit)
    files = store()
    stored = _stored_for(principal.agency_id, sha256, files)
    if stored is not None:
        # A retry after a lost answer: the content is here, the body is not needed.
        return PutResult("unchanged", _stored_state(stored))
    media_type = normalize_media_type(content_type)
    if chunk is not None:
        return _put_chunk(principal, sha256, stream, chunk, media_type, files, now)
    started_at = now or utcnow()
    _end_read_transaction()
    path, digest, size = receive(files, stream, limit)
    try:
        if digest != sha256:
            raise _mismatch(sha256, digest)
        files.place(path, sha256)
    finally:
        path.unlink(missing_ok=True)
    return _record_complete(principal, sha256, size, media_type, started_at, now, files)


def _mismatch(expected: str, digest: str) -> HashMismatch:
    return HashMismatch(
        "the content does not hash to the sha256 in the path; nothing was stored",
        details={"expected": expected, "received": digest},
    )


def _busy(principal: Principal, sha256: str) -> UploadBusy:
    upload = _upload(principal.agency_id, sha256)
    offset = upload.received_bytes if upload else 0
    return UploadBusy(
        "another request is sending this attachment; check HEAD and resume from its offset",
        details={"upload_offset": offset},
    )


def _put_chunk(
    principal: Principal,
    sha256: str,
    stream: Readable,
    chunk: ByteRange,
    media_type: str,
    files: BlobStore,
    now: datetime | None,
) -> PutResult:
    with _upload_lock(principal.agency_id, sha256) as mine:
        if not mine:
            raise _busy(principal, sha256)
        return _append_chunk(principal, sha256, stream, chunk, media_type, files, now)


def _append_chunk(
    principal: Principal,
    sha256: str,
    stream: Readable,
    chunk: ByteRange,
    media_type: str,
    files: BlobStore,
    now: datetime | None,
) -> PutResult:
    agency_id = principal.agency_id
    upload = _upload(agency_id, sha256)
    if upload is not None and upload.total_size != chunk.total:
        raise UploadLengthMismatch(
            f"this upload was started with a total of {upload.total_size} bytes, not {chunk.total}",
            details={"upload_offset": upload.received_bytes, "upload_length": upload.total_size},
        )
    offset = upload.received_bytes if upload is not None else 0
    fit = fit_chunk(chunk, offset)
    if fit is ChunkFit.MISMATCH:
        raise offset_mismatch(chunk, offset)
    if upload is not None:
        media_type = upload.content_type
    if fit is ChunkFit.ALREADY_RECEIVED:
        return PutResult("partial", AttachmentState(sha256, False, offset, chunk.total, media_type))
    started_at = upload.started_at if upload is not None else now or utcnow()
    _end_read_transaction()

    def save(received: int) -> None:
        _save_progress(principal, sha256, chunk.total, received, media_type, started_at, now)

    # Parts from here on were stored but never recorded: this chunk replaces them.
    files.delete_parts(agency_id, sha256, from_offset=offset)
    path, written, failed = _receive_chunk(files, stream, chunk.length)
    longer = not failed and written == chunk.length and bool(stream.read(1))
    if written and not longer:
        files.put_part(agency_id, sha256, offset, path)  # a dropped link keeps what arrived
    path.unlink(missing_ok=True)
    received = offset + (0 if longer else written)
    if longer:
        raise BadContentRange(
            "the body is longer than its Content-Range",
            fields={"Content-Range": ["must match the body's length"]},
            details={"upload_offset": offset},
        )
    if written < chunk.length:
        save(received)
        raise IncompleteChunk(
            f"the chunk ended after {written} of {chunk.length} bytes; resume from {received}",
            details={"upload_offset": received},
        )
    if received < chunk.total:
        save(received)
        return PutResult(
            "partial", AttachmentState(sha256, False, received, chunk.total, media_type)
        )
    whole, digest = _assemble(files, agency_id, sha256, received, save)
    if digest != sha256:
        whole.unlink(missing_ok=True)
        files.delete_parts(agency_id, sha256)
        db.session.execute(
            sa.delete(AttachmentUpload).where(
                AttachmentUpload.agency_id == agency_id, AttachmentUpload.sha256 == sha256
            )
        )
        db.session.commit()
        raise _mismatch(sha256, digest)
    try:
        files.place(whole, sha256)
    finally:
        whole.unlink(missing_ok=True)
    return _record_complete(
        principal, sha256, chunk.total, media_type, started_at, now, files, holding_lock=True
    )


def _assemble(
    files: BlobStore,
    agency_id: uuid.UUID,
    sha256: str,
    received: int,
    save: Callable[[int], None],
) -> tuple[Path, str]:
    """The upload's parts joined in a local file, and its sha256. A part missing from the
    store (removed by hand, say) sets the upload back to where it is missing."""
    sizes = dict(files.parts(agency_id, sha256))
    fd, path = files.temp_file()
    hasher = hashlib.sha256()
    position = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while position < received:
                if position not in sizes:
                    save(position)
                    raise IncompleteChunk(
                        f"the stored upload lacks its bytes from {position}; resume from there",
                        details={"upload_offset": position},
                    )
                for block in files.read_part(agency_id, sha256, position):
                    hasher.update(block)
                    out.write(block)
                position += sizes[position]
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, hasher.hexdigest()


def _save_progress(
    principal: Principal,
    sha256: str,
    total: int,
    received: int,
    media_type: str,
    started_at: datetime,
    now: datetime | None,
) -> None:
    upload = _upload(principal.agency_id, sha256)
    if upload is None:
        upload = AttachmentUpload(
            agency_id=principal.agency_id,
            sha256=sha256,
            total_size=total,
            content_type=media_type,
            started_by=principal.user_id,
            started_at=started_at,
        )
        db.session.add(upload)
    upload.received_bytes = received
    upload.updated_at = now or utcnow()
    db.session.commit()


def _record_complete(
    principal: Principal,
    sha256: str,
    size: int,
    media_type: str,
    started_at: datetime,
    now: datetime | None,
    files: BlobStore,
    *,
    holding_lock: bool = False,
) -> PutResult:
    """Record verified content and grant it to the caller's agency; the file is in place."""
    agency_id = principal.agency_id
    for attempt in range(2):
        now_ = now or utcnow()
        try:
            attachment = db.session.get(Attachment, sha256)
            if attachment is None:
                attachment = Attachment(
                    sha256=sha256,
                    size=size,
                    content_type=media_type,
                    created_at=started_at,
                    completed_at=now_,
                    uploaded_by=principal.user_id,
                    agency_id=agency_id,
                )
                db.session.add(attachment)
            granted = _grant(agency_id, sha256) is not None
            if not granted:
                db.session.add(
                    AttachmentGrant(
                        agency_id=agency_id,
                        sha256=sha256,
                        granted_at=now_,
                        granted_by=principal.user_id,
                    )
                )
            _drop_partial(agency_id, sha256, files, holding_lock=holding_lock)
            db.session.commit()
        except sa.exc.IntegrityError:
            # Another request recorded the same content a moment earlier; look again.
            db.session.rollback()
            if attempt:
                raise
            continue
        return PutResult("unchanged" if granted else "created", _stored_state(attachment))
    raise AssertionError("unreachable")


def _drop_partial(
    agency_id: uuid.UUID, sha256: str, files: BlobStore, *, holding_lock: bool
) -> None:
    """Forget the agency's partial upload of content that is now stored, unless it is busy."""
    upload = _upload(agency_id, sha256)
    if holding_lock:
        files.delete_parts(agency_id, sha256)
    elif upload is not None:
        with _upload_lock(agency_id, sha256) as mine:
            if not mine:
                # A chunk is being written; it will find the content stored and stop there.
                return
            files.delete_parts(agency_id, sha256)
    if upload is not None:
        db.session.delete(upload)


def discard_stale_uploads(before: datetime) -> int:
    """Drop partial uploads untouched since ``before`` (devices that gave up), and parts no
    upload records (stored, then a crash before the first chunk was recorded). Safe to rerun."""
    files = store()
    stale = list(
        db.session.scalars(sa.select(AttachmentUpload).where(AttachmentUpload.updated_at < before))
    )
    dropped = 0
    for upload in stale:
        with _upload_lock(upload.agency_id, upload.sha256) as mine:
            if mine:
                files.delete_parts(upload.agency_id, upload.sha256)
                db.session.delete(upload)
                dropped += 1
    db.session.commit()
    recorded = set(
        db.session.execute(sa.select(AttachmentUpload.agency_id, AttachmentUpload.sha256)).all()
    )
    for agency_id, sha256 in list(files.uploads_with_parts()):
        if (agency_id, sha256) in recorded:
            continue
        with _upload_lock(agency_id, sha256) as mine:
            if mine and _upload(agency_id, sha256) is None:
                files.delete_parts(agency_id, sha256)
        db.session.rollback()
    return dropped
