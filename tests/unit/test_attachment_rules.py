"""Attachment rules: sha256 names, Content-Range parsing, where a chunk fits, media types."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.attachments import (
    AttachmentTooLarge,
    BadContentRange,
    BadSha256,
    ByteRange,
    ChunkFit,
    check_size,
    fit_chunk,
    normalize_media_type,
    parse_content_range,
    served_inline,
    shard_parts,
    validate_sha256,
)

DIGEST = hashlib.sha256(b"evidence").hexdigest()


def test_a_lowercase_hex_sha256_is_accepted_as_it_is() -> None:
    assert validate_sha256(DIGEST) == DIGEST


@pytest.mark.parametrize(
    "value",
    ["", DIGEST.upper(), DIGEST[:-1], DIGEST + "a", "z" * 64, DIGEST[:63] + "\n", " " + DIGEST[1:]],
)
def test_anything_but_64_lowercase_hex_digits_is_a_bad_sha256(value: str) -> None:
    with pytest.raises(BadSha256) as raised:
        validate_sha256(value)
    assert raised.value.code == "bad_sha256"


def test_content_is_sharded_by_the_first_two_byte_pairs_of_its_hash() -> None:
    assert shard_parts(DIGEST) == (DIGEST[:2], DIGEST[2:4], DIGEST)


def test_a_content_range_names_an_inclusive_span_of_a_total() -> None:
    chunk = parse_content_range("bytes 100-199/1000")
    assert chunk == ByteRange(100, 199, 1000)
    assert chunk.length == 100
    assert parse_content_range(" bytes 0-0/1 ") == ByteRange(0, 0, 1)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "bytes",
        "bytes 1-2",
        "bytes 1-2/",
        "bytes */100",
        "bytes 0-9/*",
        "bytes=0-9/10",
        "bytes 3-2/10",
        "bytes 0-10/10",
        "bytes 0-0/0",
        "bytes +1-2/10",
        "bytes 0x1-2/10",
        "bytes 1 - 2/10",
        "bytes 0-1/" + "9" * 20,
    ],
)
def test_a_malformed_or_impossible_content_range_is_refused(header: str) -> None:
    with pytest.raises(BadContentRange) as raised:
        parse_content_range(header)
    assert raised.value.code == "bad_content_range"


@given(st.integers(0, 10**12), st.integers(0, 10**9), st.integers(1, 10**9))
def test_every_well_formed_range_parses_back_to_itself(start: int, span: int, extra: int) -> None:
    end, total = start + span, start + span + extra
    assert parse_content_range(f"bytes {start}-{end}/{total}") == ByteRange(start, end, total)


def test_sizes_up_to_the_cap_pass_and_one_more_byte_is_too_large() -> None:
    check_size(1000, 1000)
    with pytest.raises(AttachmentTooLarge) as raised:
        check_size(1001, 1000)
    assert raised.value.code == "attachment_too_large"


@pytest.mark.parametrize(
    ("start", "end", "offset", "fit"),
    [
        (0, 99, 0, ChunkFit.APPEND),
        (100, 199, 100, ChunkFit.APPEND),
        (0, 99, 100, ChunkFit.ALREADY_RECEIVED),
        (0, 99, 150, ChunkFit.ALREADY_RECEIVED),
        (50, 149, 100, ChunkFit.MISMATCH),
        (200, 299, 100, ChunkFit.MISMATCH),
        (100, 199, 0, ChunkFit.MISMATCH),
    ],
)
def test_a_chunk_appends_at_the_offset_is_a_no_op_within_it_and_is_refused_otherwise(
    start: int, end: int, offset: int, fit: ChunkFit
) -> None:
    assert fit_chunk(ByteRange(start, end, 1000), offset) is fit


@pytest.mark.parametrize(
    ("header", "media_type"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Audio/AMR; rate=8000", "audio/amr"),
        (None, "application/octet-stream"),
        ("", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
        ("image/jpeg\r\nX-Evil: 1", "application/octet-stream"),
    ],
)
def test_the_media_type_is_kept_without_parameters_or_replaced_when_unusable(
    header: str | None, media_type: str
) -> None:
    assert normalize_media_type(header) == media_type


@pytest.mark.parametrize(
    ("media_type", "inline"),
    [
        ("image/jpeg", True),
        ("video/mp4", True),
        ("audio/amr", True),
        ("application/pdf", True),
        ("image/svg+xml", False),
        ("text/html", False),
        ("application/octet-stream", False),
    ],
)
def test_only_media_a_browser_cannot_run_is_shown_inline(media_type: str, inline: bool) -> None:
    assert served_inline(media_type) is inline
