"""The blob stores on their real back ends (a folder; an S3-compatible server): content placed
whole, upload parts by offset, and the lock one request at a time writes an upload with."""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.database import named_lock
from server.domain.attachments import AttachmentTooLarge
from server.services.attachments import _receive_chunk, receive
from server.services.blobstore import BlobStore, LocalBlobStore, S3BlobStore
from tests.s3_support import BUCKET, s3_client

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


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "store")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = f"unit-{uuid.uuid4().hex[:8]}"
    yield S3BlobStore(
        tmp_path / "scratch", bucket=BUCKET, prefix=prefix, client=s3_client(endpoint)
    )


def _local(store: BlobStore, content: bytes) -> Path:
    fd, path = store.temp_file()
    with open(fd, "wb") as out:
        out.write(content)
    return path


def test_a_received_body_is_hashed_and_placed_at_its_content_address(store: BlobStore) -> None:
    content = b"photo" * 1000
    path, digest, size = receive(store, io.BytesIO(content), limit=10_000)
    assert (digest, size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert not store.exists(digest)
    store.place(path, digest)
    assert not path.exists()  # consumed
    assert store.exists(digest)
    assert list(store.stored()) == [digest]
    assert store.local_path(digest).read_bytes() == content


def test_a_body_over_the_limit_or_cut_off_leaves_no_file(store: BlobStore) -> None:
    with pytest.raises(AttachmentTooLarge):
        receive(store, io.BytesIO(b"x" * 101), limit=100)
    with pytest.raises(ConnectionResetError):
        receive(store, Dropping(b"x" * 100, after=40), limit=1000)
    assert files_under(store.scratch) == []
    assert list(store.stored()) == []


def test_a_chunk_cut_off_by_a_dropped_link_keeps_what_arrived(store: BlobStore) -> None:
    path, written, failed = _receive_chunk(store, Dropping(b"y" * 100, after=30), 100)
    assert (written, failed) == (30, True)
    store.put_part(AGENCY, "a" * 64, 0, path)
    path, written, failed = _receive_chunk(store, io.BytesIO(b"z" * 70), 70)
    store.put_part(AGENCY, "a" * 64, 30, path)
    assert store.parts(AGENCY, "a" * 64) == [(0, 30), (30, 70)]
    joined = b"".join(
        b"".join(store.read_part(AGENCY, "a" * 64, offset)) for offset in (0, 30)
    )
    assert joined == b"y" * 30 + b"z" * 70


def test_parts_past_an_offset_are_dropped_and_other_uploads_keep_theirs(
    store: BlobStore,
) -> None:
    other = uuid.uuid4()
    for offset in (0, 10, 20):
        store.put_part(AGENCY, "b" * 64, offset, _local(store, b"q" * 10))
    store.put_part(other, "b" * 64, 0, _local(store, b"r" * 5))
    # The process died after storing the part at 20 but before recording it.
    store.delete_parts(AGENCY, "b" * 64, from_offset=20)
    assert store.parts(AGENCY, "b" * 64) == [(0, 10), (10, 10)]
    assert sorted(store.uploads_with_parts()) == sorted([(AGENCY, "b" * 64), (other, "b" * 64)])
    store.delete_parts(AGENCY, "b" * 64)
    assert store.parts(AGENCY, "b" * 64) == []
    assert list(store.uploads_with_parts()) == [(other, "b" * 64)]


def test_an_s3_store_serves_content_from_a_copy_on_this_host(tmp_path: Path, s3_endpoint) -> None:
    client = s3_client(s3_endpoint)
    one = S3BlobStore(tmp_path / "host1", bucket=BUCKET, prefix="hosts", client=client)
    two = S3BlobStore(tmp_path / "host2", bucket=BUCKET, prefix="hosts", client=client)
    content = b"signature" * 100
    digest = hashlib.sha256(content).hexdigest()
    one.place(_local(one, content), digest)
    # The other host has nothing on its disk, and serves it all the same.
    assert two.exists(digest)
    assert two.local_path(digest).read_bytes() == content
    assert two.local_path(digest).is_relative_to(tmp_path / "host2")


def test_a_second_writer_of_the_same_upload_is_turned_away(app) -> None:
    with app.app_context():
        with named_lock(f"upload:{AGENCY}:{'c' * 64}") as first:
            assert first
            with named_lock(f"upload:{AGENCY}:{'c' * 64}") as second:
                assert not second
            with named_lock(f"upload:{uuid.uuid4()}:{'c' * 64}") as other:
                assert other
        with named_lock(f"upload:{AGENCY}:{'c' * 64}") as again:
            assert again


def test_a_lock_released_by_one_holder_is_taken_by_exactly_one_of_the_next(app) -> None:
    name = f"upload:{AGENCY}:{'d' * 64}"
    got: list[bool] = []
    start = threading.Barrier(4)

    def contend() -> None:
        with app.app_context():
            start.wait()
            with named_lock(name) as mine:
                got.append(mine)
                start.wait()  # every contender holds or has failed before any lets go

    with app.app_context():
        with named_lock(name) as first:
            assert first
        threads = [threading.Thread(target=contend) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sorted(got) == [False, False, False, True]
