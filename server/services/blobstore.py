"""Where attachment bytes live: a local folder (the embedded default) or S3-compatible storage.

Both keep the same two kinds of object, and know nothing of agencies' rights:

- **content**, by sha256, written once and only after its hash was verified
  (``<prefix>/ab/cd/<sha256>``);
- **parts** of a resumable upload, one per chunk, by agency, sha256 and the chunk's offset
  (``<prefix>/partial/<agency>/<sha256>/<offset>``). The upload's row in the database says
  how many bytes arrived; parts at or past that offset were never recorded (a crash between
  storing a chunk and recording it) and are dropped when the next chunk starts.

With parts in a store every host reaches, a device may send each chunk to another host behind
the load balancer. Local files are written to a temporary name, fsynced and renamed into place,
so a reader sees a whole object or none. Reading content goes through a local file
(``local_path``): the S3 store keeps a read-through copy on the host, by hash, which never
goes stale.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from server.domain.attachments import shard_parts

READ_SIZE = 1024 * 1024
# Part names sort in offset order.
_OFFSET_DIGITS = 15


def _part_name(offset: int) -> str:
    return f"{offset:0{_OFFSET_DIGITS}d}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    fsync_dir(target.parent)


class BlobStore:
    """The interface both stores give, and the local scratch folder both use: bodies are
    received into ``scratch`` before they go to the store."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch

    def temp_file(self) -> tuple[int, Path]:
        folder = self.scratch / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, suffix=".upload")
        return fd, Path(name)

    # content
    def exists(self, sha256: str) -> bool:
        raise NotImplementedError

    def place(self, source: Path, sha256: str) -> None:
        """Store a verified local file as ``sha256``'s content; ``source`` is consumed."""
        raise NotImplementedError

    def local_path(self, sha256: str) -> Path:
        """A local file holding the content (to serve with ranges, or embed in a PDF)."""
        raise NotImplementedError

    def stored(self) -> Iterator[str]:
        """The sha256 of every content object (for checks and tests)."""
        raise NotImplementedError

    # parts
    def put_part(self, agency_id: uuid.UUID, sha256: str, offset: int, source: Path) -> None:
        """Store a local file as the part at ``offset``; ``source`` is consumed."""
        raise NotImplementedError

    def parts(self, agency_id: uuid.UUID, sha256: str) -> list[tuple[int, int]]:
        """(offset, size) of the upload's parts, by offset."""
        raise NotImplementedError

    def read_part(self, agency_id: uuid.UUID, sha256: str, offset: int) -> Iterator[bytes]:
        raise NotImplementedError

    def delete_parts(self, agency_id: uuid.UUID, sha256: str, *, from_offset: int = 0) -> None:
        """Drop the upload's parts at or past ``from_offset`` (all of them by default)."""
        raise NotImplementedError

    def uploads_with_parts(self) -> Iterator[tuple[uuid.UUID, str]]:
        """(agency, sha256) of every upload that has parts (to find orphans)."""
        raise NotImplementedError


class LocalBlobStore(BlobStore):
    """Objects as files under one folder (``ATTACHMENTS_DIR``), which is also the scratch."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root.joinpath(*shard_parts(sha256))

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def place(self, source: Path, sha256: str) -> None:
        _move_into_place(source, self.path(sha256))

    def local_path(self, sha256: str) -> Path:
        return self.path(sha256)

    def stored(self) -> Iterator[str]:
        for first in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for path in sorted(first.glob("[0-9a-f][0-9a-f]/*")):
                if path.is_file() and len(path.name) == 64:
                    yield path.name

    def _upload_dir(self, agency_id: uuid.UUID, sha256: str) -> Path:
        return self.root / "partial" / str(agency_id) / sha256

    def put_part(self, agency_id: uuid.UUID, sha256: str, offset: int, source: Path) -> None:
        _move_into_place(source, self._upload_dir(agency_id, sha256) / _part_name(offset))

    def parts(self, agency_id: uuid.UUID, sha256: str) -> list[tuple[int, int]]:
        folder = self._upload_dir(agency_id, sha256)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            if path.name.isdigit():
                with suppress(FileNotFoundError):
                    found.append((int(path.name), path.stat().st_size))
        return sorted(found)

    def read_part(self, agency_id: uuid.UUID, sha256: str, offset: int) -> Iterator[bytes]:
        with open(self._upload_dir(agency_id, sha256) / _part_name(offset), "rb") as source:
            while block := source.read(READ_SIZE):
                yield block

    def delete_parts(self, agency_id: uuid.UUID, sha256: str, *, from_offset: int = 0) -> None:
        folder = self._upload_dir(agency_id, sha256)
        for offset, _ in self.parts(agency_id, sha256):
            if offset >= from_offset:
                (folder / _part_name(offset)).unlink(missing_ok=True)
        if from_offset == 0:
            with suppress(FileNotFoundError, OSError):
                folder.rmdir()

    def uploads_with_parts(self) -> Iterator[tuple[uuid.UUID, str]]:
        base = self.root / "partial"
        if not base.is_dir():
            return
        for agency in base.iterdir():
            for upload in agency.iterdir() if agency.is_dir() else ():
                with suppress(ValueError):
                    yield uuid.UUID(agency.name), upload.name


class S3BlobStore(BlobStore):
    """Objects in a bucket of an S3-compatible service (AWS S3, MinIO, Ceph, OSS, COS…).

    Credentials come the usual boto3 ways (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role)."""

    def __init__(
        self,
        scratch: Path,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        super().__init__(scratch)
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or _s3_client(endpoint_url, region)

    def _content_key(self, sha256: str) -> str:
        return self.prefix + "/".join(shard_parts(sha256))

    def _parts_prefix(self, agency_id: uuid.UUID, sha256: str) -> str:
        return f"{self.prefix}partial/{agency_id}/{sha256}/"

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._content_key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def place(self, source: Path, sha256: str) -> None:
        try:
            self.client.upload_file(str(source), self.bucket, self._content_key(sha256))
        finally:
            source.unlink(missing_ok=True)

    def local_path(self, sha256: str) -> Path:
        cached = self.scratch.joinpath("cache", *shard_parts(sha256))
        if cached.is_file():
            return cached
        fd, scratch = self.temp_file()
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._content_key(sha256), str(scratch))
            _move_into_place(scratch, cached)
        finally:
            scratch.unlink(missing_ok=True)
        return cached

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", ())

    def stored(self) -> Iterator[str]:
        for item in self._list(self.prefix):
            rest = item["Key"][len(self.prefix) :]
            if not rest.startswith("partial/") and len(rest.rsplit("/", 1)[-1]) == 64:
                yield rest.rsplit("/", 1)[-1]

    def put_part(self, agency_id: uuid.UUID, sha256: str, offset: int, source: Path) -> None:
        key = self._parts_prefix(agency_id, sha256) + _part_name(offset)
        try:
            self.client.upload_file(str(source), self.bucket, key)
        finally:
            source.unlink(missing_ok=True)

    def parts(self, agency_id: uuid.UUID, sha256: str) -> list[tuple[int, int]]:
        prefix = self._parts_prefix(agency_id, sha256)
        found = []
        for item in self._list(prefix):
            name = item["Key"][len(prefix) :]
            if name.isdigit():
                found.append((int(name), int(item["Size"])))
        return sorted(found)

    def read_part(self, agency_id: uuid.UUID, sha256: str, offset: int) -> Iterator[bytes]:
        key = self._parts_prefix(agency_id, sha256) + _part_name(offset)
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(READ_SIZE)
        finally:
            body.close()

    def delete_parts(self, agency_id: uuid.UUID, sha256: str, *, from_offset: int = 0) -> None:
        prefix = self._parts_prefix(agency_id, sha256)
        doomed = [
            {"Key": prefix + _part_name(offset)}
            for offset, _ in self.parts(agency_id, sha256)
            if offset >= from_offset
        ]
        for start in range(0, len(doomed), 1000):
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True}
            )

    def uploads_with_parts(self) -> Iterator[tuple[uuid.UUID, str]]:
        seen = set()
        for item in self._list(self.prefix + "partial/"):
            pieces = item["Key"][len(self.prefix) :].split("/")
            if len(pieces) == 4:
                with suppress(ValueError):
                    key = (uuid.UUID(pieces[1]), pieces[2])
                    if key not in seen:
                        seen.add(key)
                        yield key


def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


_STORES: dict[tuple[Any, ...], BlobStore] = {}


def from_config(config: Any) -> BlobStore:
    """The store the settings name (``ATTACHMENT_STORE``: ``local`` or ``s3``); one per
    process and setting (a boto3 client is costly to make, and safe to share)."""
    kind = config.get("ATTACHMENT_STORE", "local")
    scratch = Path(config["ATTACHMENTS_DIR"])
    if kind == "local":
        return LocalBlobStore(scratch)
    if kind != "s3":
        raise ValueError(f"ATTACHMENT_STORE must be local or s3, not {kind!r}")
    key = (
        kind,
        str(scratch),
        config["S3_BUCKET"],
        config.get("S3_PREFIX") or "",
        config.get("S3_ENDPOINT_URL"),
        config.get("S3_REGION"),
    )
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = S3BlobStore(
            scratch,
            bucket=config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
        )
    return store
