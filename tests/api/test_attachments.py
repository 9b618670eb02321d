"""Evidence attachments through the HTTP API: content-addressed, fenced per agency, resumable."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Agency, Attachment, AttachmentGrant, AttachmentUpload
from server.services import attachments
from server.services.attachments import missing_attachments
from tests.s3_support import BUCKET, s3_client

PHOTO = b"\xff\xd8\xff\xe0 a photo of a blocked fire exit " * 300


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def url(digest: str) -> str:
    return f"/api/v1/attachments/{digest}"


def chunk_headers(headers: dict[str, str], start: int, end: int, total: int) -> dict[str, str]:
    return {**headers, "Content-Range": f"bytes {start}-{end}/{total}"}


def stored_files(app) -> list[str]:
    """The sha256 of every content object in the store the app is configured with."""
    with app.app_context():
        return sorted(attachments.store().stored())


def leftover_parts(app) -> list:
    with app.app_context():
        return list(attachments.store().uploads_with_parts())


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# Every test here runs on the local store and again on an S3-compatible one.
pytestmark = pytest.mark.usefixtures("attachment_store")


@pytest.fixture
def inspector(world) -> dict[str, str]:
    world.agency()
    return world.headers("inspector")


def test_an_uploaded_attachment_is_reported_by_head_and_read_back_by_get(client, inspector):
    digest = sha(PHOTO)
    assert client.head(url(digest), headers=inspector).status_code == 404
    put = client.put(url(digest), data=PHOTO, headers=inspector, content_type="image/jpeg")
    assert put.status_code == 201, put.get_json()
    assert put.get_json() == {
        "sha256": digest,
        "complete": True,
        "received_bytes": len(PHOTO),
        "size": len(PHOTO),
        "content_type": "image/jpeg",
    }
    head = client.head(url(digest), headers=inspector)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(len(PHOTO))
    assert (head.content_length, head.mimetype, head.data) == (len(PHOTO), "image/jpeg", b"")
    got = client.get(url(digest), headers=inspector)
    assert got.status_code == 200
    assert got.data == PHOTO
    assert got.mimetype == "image/jpeg"
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_content_is_stored_once_under_a_path_sharded_by_its_hash(
    app, client, inspector, attachment_store
):
    digest = sha(PHOTO)
    client.put(url(digest), data=PHOTO, headers=inspector)
    client.put(url(digest), data=PHOTO, headers=inspector)
    assert stored_files(app) == [digest]
    if attachment_store == "local":
        expected = Path(app.config["ATTACHMENTS_DIR"], digest[:2], digest[2:4], digest)
        assert expected.read_bytes() == PHOTO
    else:
        key = f"{app.config['S3_PREFIX']}/{digest[:2]}/{digest[2:4]}/{digest}"
        s3 = s3_client(app.config["S3_ENDPOINT_URL"])
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PHOTO


def test_content_that_does_not_match_its_hash_is_refused_and_nothing_is_stored(
    app, client, inspector
):
    digest = sha(PHOTO)
    response = client.put(url(digest), data=PHOTO + b"tampered", headers=inspector)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "hash_mismatch"
    assert error["details"]["received"] == sha(PHOTO + b"tampered")
    assert client.head(url(digest), headers=inspector).status_code == 404
    assert stored_files(app) == []
    assert rows(app, Attachment) == 0


def test_a_retried_put_is_harmless(app, client, inspector):
    digest = sha(PHOTO)
    assert client.put(url(digest), data=PHOTO, headers=inspector).status_code == 201
    again = client.put(url(digest), data=PHOTO, headers=inspector)
    assert again.status_code == 200
    assert again.get_json()["complete"] is True
    assert (rows(app, Attachment), rows(app, AttachmentGrant)) == (1, 1)
    assert client.get(url(digest), headers=inspector).data == PHOTO


@pytest.mark.parametrize(
    "name", ["abc", "A" * 64, sha(b"x").upper(), "g" * 64, sha(b"x") + "0", "not-a-hash"]
)
def test_a_path_that_is_not_a_lowercase_sha256_is_a_400(client, inspector, name):
    for response in (
        client.put(url(name), data=b"x", headers=inspector),
        client.get(url(name), headers=inspector),
        client.head(url(name), headers=inspector),
    ):
        assert response.status_code == 400
    assert client.put(url(name), data=b"x", headers=inspector).get_json()["error"]["code"] == (
        "bad_sha256"
    )


def test_a_resumable_upload_survives_a_dropped_chunk_a_retry_and_an_out_of_order_chunk(
    app, client, inspector
):
    content = os.urandom(3000)
    digest, total = sha(content), len(content)
    first, second, third = content[:1000], content[1000:2000], content[2000:]

    one = client.put(url(digest), data=first, headers=chunk_headers(inspector, 0, 999, total))
    assert one.status_code == 202
    assert one.headers["Upload-Offset"] == "1000"
    assert one.get_json()["complete"] is False

    # The answer to chunk one was lost and the phone sends it again: nothing changes.
    retried = client.put(url(digest), data=first, headers=chunk_headers(inspector, 0, 999, total))
    assert retried.status_code == 202
    assert retried.headers["Upload-Offset"] == "1000"

    # The link drops 400 bytes into chunk two: what arrived is kept.
    dropped = client.put(
        url(digest),
        input_stream=io.BytesIO(second[:400]),
        headers=chunk_headers(inspector, 1000, 1999, total),
        environ_overrides={"CONTENT_LENGTH": "1000"},
    )
    assert dropped.status_code == 400

    # Chunk three arrives before chunk two was resent: refused, with where to resume.
    early = client.put(url(digest), data=third, headers=chunk_headers(inspector, 2000, 2999, total))
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "offset_mismatch"
    assert early.headers["Upload-Offset"] == "1400"

    head = client.head(url(digest), headers=inspector)
    assert head.status_code == 404
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("1400", "3000")
    assert client.get(url(digest), headers=inspector).status_code == 404

    rest = client.put(
        url(digest), data=second[400:], headers=chunk_headers(inspector, 1400, 1999, total)
    )
    assert rest.status_code == 202
    assert rest.headers["Upload-Offset"] == "2000"
    last = client.put(url(digest), data=third, headers=chunk_headers(inspector, 2000, 2999, total))
    assert last.status_code == 201, last.get_json()
    assert last.get_json()["received_bytes"] == 3000

    assert client.head(url(digest), headers=inspector).status_code == 200
    assert client.get(url(digest), headers=inspector).data == content
    assert rows(app, AttachmentUpload) == 0
    assert leftover_parts(app) == []
    # The last chunk once more, as a phone would after a lost answer.
    repeat = client.put(
        url(digest), data=third, headers=chunk_headers(inspector, 2000, 2999, total)
    )
    assert repeat.status_code == 200


def test_a_chunk_streamed_without_a_length_must_fill_its_range_exactly(app, client, inspector):
    content = os.urandom(300)
    digest = sha(content)
    streamed = {"CONTENT_LENGTH": None, "wsgi.input_terminated": True}
    short = client.put(
        url(digest),
        input_stream=io.BytesIO(content[:60]),
        headers=chunk_headers(inspector, 0, 99, 300),
        environ_overrides=streamed,
    )
    assert short.status_code == 400
    assert short.get_json()["error"]["code"] == "incomplete_chunk"
    assert short.headers["Upload-Offset"] == "60"
    long = client.put(
        url(digest),
        input_stream=io.BytesIO(content[60:200]),
        headers=chunk_headers(inspector, 60, 99, 300),
        environ_overrides=streamed,
    )
    assert long.status_code == 400
    assert long.get_json()["error"]["code"] == "bad_content_range"
    assert client.head(url(digest), headers=inspector).headers["Upload-Offset"] == "60"
    rest = client.put(
        url(digest), data=content[60:], headers=chunk_headers(inspector, 60, 299, 300)
    )
    assert rest.status_code == 201
    assert client.get(url(digest), headers=inspector).data == content


def test_a_first_chunk_must_start_at_byte_zero(client, inspector):
    content = os.urandom(100)
    response = client.put(
        url(sha(content)), data=content[50:], headers=chunk_headers(inspector, 50, 99, 100)
    )
    assert response.status_code == 409
    assert response.headers["Upload-Offset"] == "0"


def test_a_resumable_upload_that_hashes_wrong_is_discarded_entirely(app, client, inspector):
    content = os.urandom(200)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(inspector, 0, 99, 200))
    wrong = client.put(
        url(digest), data=b"\0" * 100, headers=chunk_headers(inspector, 100, 199, 200)
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["code"] == "hash_mismatch"
    head = client.head(url(digest), headers=inspector)
    assert (head.status_code, head.headers["Upload-Offset"]) == (404, "0")
    assert rows(app, AttachmentUpload) == 0
    assert stored_files(app) == []


def test_a_chunk_sent_while_another_request_writes_the_upload_is_turned_away(
    app, client, inspector
):
    content = os.urandom(200)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(inspector, 0, 99, 200))
    with app.app_context():
        agency_id = db.session.scalar(sa.select(AttachmentUpload.agency_id))
        with attachments._upload_lock(agency_id, digest) as held:
            assert held
            busy = client.put(
                url(digest), data=content[100:], headers=chunk_headers(inspector, 100, 199, 200)
            )
    assert busy.status_code == 409
    assert busy.get_json()["error"]["code"] == "upload_in_progress"
    assert busy.headers["Upload-Offset"] == "100"
    done = client.put(
        url(digest), data=content[100:], headers=chunk_headers(inspector, 100, 199, 200)
    )
    assert done.status_code == 201


def test_a_whole_upload_replaces_an_unfinished_resumable_one(app, client, inspector):
    content = os.urandom(200)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(inspector, 0, 99, 200))
    assert client.put(url(digest), data=content, headers=inspector).status_code == 201
    assert rows(app, AttachmentUpload) == 0
    assert leftover_parts(app) == []


def test_stale_partial_uploads_are_discarded(app, client, inspector):
    content = os.urandom(200)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(inspector, 0, 99, 200))
    with app.app_context():
        assert attachments.discard_stale_uploads(datetime.now(UTC) - timedelta(days=1)) == 0
        assert attachments.discard_stale_uploads(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert client.head(url(digest), headers=inspector).headers["Upload-Offset"] == "0"
    assert leftover_parts(app) == []


def test_a_chunk_declaring_another_total_than_its_upload_is_a_409(client, inspector):
    content = os.urandom(200)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(inspector, 0, 99, 200))
    response = client.put(
        url(digest), data=content[100:], headers=chunk_headers(inspector, 100, 199, 300)
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "upload_length_mismatch"
    assert response.headers["Upload-Offset"] == "100"


@pytest.mark.parametrize(
    "value",
    [
        "bytes 0-9",
        "bytes=0-9/10",
        "bytes 5-4/10",
        "bytes 0-10/10",
        "bytes -1-9/10",
        "bytes */10",
        "items 0-9/10",
        "bytes 0-9/*",
    ],
)
def test_a_malformed_content_range_is_a_400(client, inspector, value):
    response = client.put(
        url(sha(b"x" * 10)), data=b"x" * 10, headers={**inspector, "Content-Range": value}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_content_range"


def test_a_chunk_whose_body_is_not_its_range_is_a_400(client, inspector):
    response = client.put(
        url(sha(b"x" * 10)), data=b"x" * 4, headers=chunk_headers(inspector, 0, 9, 10)
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_content_range"


def test_an_attachment_over_the_cap_is_a_413_and_nothing_is_stored(
    app, client, inspector, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    big = os.urandom(1001)
    whole = client.put(url(sha(big)), data=big, headers=inspector)
    assert whole.status_code == 413
    assert whole.get_json()["error"]["code"] == "attachment_too_large"
    declared = client.put(
        url(sha(big)), data=big[:500], headers=chunk_headers(inspector, 0, 499, 1001)
    )
    assert declared.status_code == 413
    assert declared.get_json()["error"]["code"] == "attachment_too_large"
    # A body streamed without a length is cut off at the cap as well.
    streamed = client.put(
        url(sha(big)),
        input_stream=io.BytesIO(big),
        headers=inspector,
        environ_overrides={"CONTENT_LENGTH": None, "wsgi.input_terminated": True},
    )
    assert streamed.status_code == 413
    assert streamed.get_json()["error"]["code"] == "attachment_too_large"
    assert stored_files(app) == []
    assert rows(app, Attachment) == rows(app, AttachmentUpload) == 0
    at_cap = os.urandom(1000)
    assert client.put(url(sha(at_cap)), data=at_cap, headers=inspector).status_code == 201


def test_uploads_may_be_larger_than_the_limit_for_json_bodies(app, client, inspector, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    video = os.urandom(64 * 1024)
    response = client.put(url(sha(video)), data=video, headers=inspector, content_type="video/mp4")
    assert response.status_code == 201
    assert client.get(url(sha(video)), headers=inspector).data == video


def test_another_agency_cannot_see_an_attachment_until_it_uploads_the_same_content(
    app, client, world
):
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    nankai, hexi = world.headers("inspector"), world.headers("inspector", agency="hexi")
    digest = sha(PHOTO)
    assert client.put(url(digest), data=PHOTO, headers=nankai).status_code == 201

    assert client.head(url(digest), headers=hexi).status_code == 404
    assert client.get(url(digest), headers=hexi).status_code == 404
    # Naming the hash proves nothing; the bytes themselves must come, and be right.
    assert client.put(url(digest), data=b"guess", headers=hexi).status_code == 422
    assert client.get(url(digest), headers=hexi).status_code == 404

    assert client.put(url(digest), data=PHOTO, headers=hexi).status_code == 201
    assert client.get(url(digest), headers=hexi).data == PHOTO
    assert len(stored_files(app)) == 1
    assert (rows(app, Attachment), rows(app, AttachmentGrant)) == (1, 2)


def test_one_agencys_partial_upload_is_invisible_to_another(client, world):
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    nankai, hexi = world.headers("inspector"), world.headers("inspector", agency="hexi")
    content = os.urandom(300)
    digest = sha(content)
    client.put(url(digest), data=content[:100], headers=chunk_headers(nankai, 0, 99, 300))
    assert client.head(url(digest), headers=hexi).headers["Upload-Offset"] == "0"
    own = client.put(url(digest), data=content[:150], headers=chunk_headers(hexi, 0, 149, 300))
    assert own.headers["Upload-Offset"] == "150"
    assert client.head(url(digest), headers=nankai).headers["Upload-Offset"] == "100"


def test_requests_without_a_token_are_401(client, inspector):
    digest = sha(PHOTO)
    client.put(url(digest), data=PHOTO, headers=inspector)
    assert client.head(url(digest)).status_code == 401
    assert client.get(url(digest)).status_code == 401
    response = client.put(url(digest), data=PHOTO)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    bad = {"Authorization": "Bearer nonsense"}
    assert client.get(url(digest), headers=bad).status_code == 401


def test_content_a_browser_could_run_is_served_as_a_download(client, inspector):
    page = b"<html><script>alert(1)</script></html>"
    client.put(url(sha(page)), data=page, headers=inspector, content_type="text/html")
    got = client.get(url(sha(page)), headers=inspector)
    assert got.status_code == 200
    assert got.mimetype == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_a_repeated_get_with_the_etag_is_not_modified(client, inspector):
    digest = sha(PHOTO)
    client.put(url(digest), data=PHOTO, headers=inspector, content_type="image/jpeg")
    first = client.get(url(digest), headers=inspector)
    again = client.get(url(digest), headers={**inspector, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_missing_attachments_names_exactly_those_not_stored_for_the_agency(app, client, world):
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    nankai, hexi = world.headers("inspector"), world.headers("inspector", agency="hexi")
    ours, theirs, partial, never = b"ours", b"theirs", os.urandom(100), b"never sent"
    client.put(url(sha(ours)), data=ours, headers=nankai)
    client.put(url(sha(theirs)), data=theirs, headers=hexi)
    client.put(url(sha(partial)), data=partial[:10], headers=chunk_headers(nankai, 0, 9, 100))
    named = [sha(never), sha(ours), sha(theirs), sha(partial), sha(ours)]

    statements: list[str] = []
    with app.app_context():
        nankai_id = db.session.scalar(sa.select(Agency.id).where(Agency.code == "nankai"))

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            missing = missing_attachments(nankai_id, named)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert missing_attachments(nankai_id, []) == []

    assert missing == [sha(never), sha(theirs), sha(partial)]
    assert len(statements) == 1
