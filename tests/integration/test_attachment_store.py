"""The attachment file store on a real file system: atomic placement, partial files, locks."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest

from server.domain.attachments import AttachmentTooLarge
from server.services.attachments import AttachmentStore

AGENCY = uuid.uuid4()


class Dropping(io.BytesIO):
    """A body whose link fails after ``after`` bytes."""

    def __init__(self, data: bytes, after: int) -> None:
        super().__init__(data)
        self.after = after

    def read(self, size: int = -1, /) -> bytes:
        if self.tell() >= self.after:
            raise ConnectionResetError("link dropped")
        return super().read(min(size, self.after - self.tell()) if size >= 0 else self.after)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_received_body_is_hashed_and_placed_at_its_content_address(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    content = b"photo" * 1000
    path, digest, size = store.receive(io.BytesIO(content), limit=10_000)
    assert (digest, size) == (hashlib.sha256(content).hexdigest(), len(content))
    store.place(path, digest)
    assert files_under(tmp_path) == [tmp_path / digest[:2] / digest[2:4] / digest]
    assert store.exists(digest)


def test_a_body_over_the_limit_leaves_no_file(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    with pytest.raises(AttachmentTooLarge):
        store.receive(io.BytesIO(b"x" * 101), limit=100)
    assert files_under(tmp_path) == []


def test_a_body_whose_link_drops_leaves_no_file(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.receive(Dropping(b"x" * 100, after=40), limit=1000)
    assert files_under(tmp_path) == []


def test_a_chunk_cut_off_by_a_dropped_link_keeps_what_arrived(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    digest = "a" * 64
    assert store.open_partial(AGENCY, digest, 0) == 0
    with pytest.raises(ConnectionResetError):
        store.append(AGENCY, digest, Dropping(b"y" * 100, after=30), 100)
    assert store.partial_size(AGENCY, digest) == 30
    assert store.append(AGENCY, digest, io.BytesIO(b"z" * 70), 70) == 70
    assert store.partial_path(AGENCY, digest).read_bytes() == b"y" * 30 + b"z" * 70


def test_a_partial_file_longer_than_recorded_is_cut_back_to_the_record(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    digest = "b" * 64
    store.open_partial(AGENCY, digest, 0)
    store.append(AGENCY, digest, io.BytesIO(b"q" * 50), 50)
    # The process died after writing 50 bytes but before recording more than 20.
    assert store.open_partial(AGENCY, digest, 20) == 20
    assert store.partial_path(AGENCY, digest).read_bytes() == b"q" * 20
    # A partial file that lost data reports what it really has.
    assert store.open_partial(AGENCY, digest, 500) == 20


def test_a_second_writer_of_the_same_upload_is_turned_away(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    digest = "c" * 64
    with store.locked(AGENCY, digest):
        with pytest.raises(BlockingIOError), store.locked(AGENCY, digest):
            pass
        with store.locked(uuid.uuid4(), digest):
            pass
    with store.locked(AGENCY, digest):
        pass


def test_the_lock_still_excludes_after_its_file_was_removed_by_a_finished_upload(
    tmp_path: Path,
) -> None:
    store = AttachmentStore(tmp_path)
    digest = "d" * 64
    with store.locked(AGENCY, digest):
        store.discard_partial(AGENCY, digest)
        with store.locked(AGENCY, digest):
            # A new lock file; the finished holder's is gone.
            with pytest.raises(BlockingIOError), store.locked(AGENCY, digest):
                pass
