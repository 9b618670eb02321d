"""The signed gate code: round trips, tampering, other keys, URL spellings, garbage."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.entry_codes import (
    MAX_VERSION,
    EntryCode,
    EntryCodeError,
    EntryCodeForged,
    EntryCodeMalformed,
    EntryCodeOtherAgency,
    EntryCodeRevoked,
    EntryCodeUnknownEnterprise,
    derive_key,
    entry_url,
    issue_token,
    parse_scanned_text,
)
from server.domain.errors import DomainError, Forbidden, NotFound, ValidationFailed

KEY = derive_key("test secret key")
OTHER_KEY = derive_key("another deployment's secret key")
ENTERPRISE = uuid.UUID("5f0c1a9e-3b7d-4e21-9a44-0c6d2b8f7e13")
BASE = "https://zhifa.example.gov.cn"

versions = st.integers(min_value=1, max_value=MAX_VERSION)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(st.uuids(), versions)
def test_an_issued_token_reads_back_as_the_same_enterprise_and_version(
    enterprise_id: uuid.UUID, version: int
) -> None:
    token = issue_token(KEY, enterprise_id, version)
    assert parse_scanned_text(KEY, token) == EntryCode(enterprise_id, version)
    assert parse_scanned_text(KEY, entry_url(BASE, token)) == EntryCode(enterprise_id, version)


def test_a_token_is_short_enough_for_a_small_qr() -> None:
    assert len(issue_token(KEY, ENTERPRISE, 1)) == 40
    assert len(issue_token(KEY, ENTERPRISE, MAX_VERSION)) <= 46


def test_the_token_is_url_safe_and_unpadded() -> None:
    token = issue_token(KEY, ENTERPRISE, 3)
    assert set(token) <= set(B64URL)


def test_the_entry_url_is_the_base_url_then_e_then_the_token() -> None:
    token = issue_token(KEY, ENTERPRISE, 1)
    assert entry_url(BASE + "/", token) == f"{BASE}/e/{token}"


@pytest.mark.parametrize("version", [0, -1, MAX_VERSION + 1])
def test_a_version_outside_the_column_range_is_not_issued(version: int) -> None:
    with pytest.raises(ValueError):
        issue_token(KEY, ENTERPRISE, version)


@given(st.uuids(), versions, st.data())
def test_any_single_changed_character_is_caught_as_forged_or_malformed(
    enterprise_id: uuid.UUID, version: int, data: st.DataObject
) -> None:
    token = issue_token(KEY, enterprise_id, version)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="index")
    replacement = data.draw(
        st.sampled_from([c for c in B64URL if c != token[index]]), label="replacement"
    )
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises((EntryCodeForged, EntryCodeMalformed)):
        parse_scanned_text(KEY, tampered)


def test_changing_the_uuid_part_is_reported_as_forged() -> None:
    token = issue_token(KEY, ENTERPRISE, 1)
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    with pytest.raises(EntryCodeForged) as caught:
        parse_scanned_text(KEY, tampered)
    assert caught.value.code == "entry_code_forged"


@given(st.uuids(), versions)
def test_a_code_signed_with_another_key_is_forged(enterprise_id: uuid.UUID, version: int) -> None:
    token = issue_token(OTHER_KEY, enterprise_id, version)
    with pytest.raises(EntryCodeForged):
        parse_scanned_text(KEY, entry_url(BASE, token))


def test_the_signing_key_is_not_the_secret_key_itself() -> None:
    assert derive_key("s") != b"s"
    assert derive_key("s") == derive_key(b"s")
    assert len(derive_key("s")) == 32


@pytest.mark.parametrize(
    "spelling",
    [
        "{base}/e/{token}",
        "{base}/e/{token}/",
        "  {base}/e/{token}\n",
        "\ufeff{base}/e/{token}",
        "\u3000{base}/e/{token}\u3000",
        "http://zhifa.example.gov.cn/e/{token}",
        "HTTPS://ZHIFA.EXAMPLE.GOV.CN/e/{token}",
        "https://another-host.example:8443/e/{token}",
        "https://proxy.example/fieldenforce/e/{token}",
        "{base}/e/{token}?from=singlemessage&isappinstalled=0",
        "{base}/e/{token}#top",
        "{token}",
        " {token} ",
    ],
)
def test_what_a_phone_camera_reads_is_accepted(spelling: str) -> None:
    token = issue_token(KEY, ENTERPRISE, 7)
    text = spelling.format(base=BASE, token=token)
    assert parse_scanned_text(KEY, text) == EntryCode(ENTERPRISE, 7)


@pytest.mark.parametrize(
    "spelling",
    [
        "",
        "   ",
        "ftp://zhifa.example.gov.cn/e/{token}",
        "{base}/x/{token}",
        "{base}/{token}",
        "{base}/e/{token}/extra",
        "{base}/e/{token}//",
        "{base}/e/",
        "https:///e/{token}",
        "http://[::1/e/{token}",
        "{token}=",
        "{token}==",
        "{token}A",
        "{token}.",
        "https://weixin.qq.com/r/abcdef",
        "6216 6100 0000 0000 000",
        "AA",
        "A",
    ],
)
def test_text_that_is_not_one_of_our_codes_is_malformed(spelling: str) -> None:
    token = issue_token(KEY, ENTERPRISE, 7)
    with pytest.raises(EntryCodeMalformed) as caught:
        parse_scanned_text(KEY, spelling.format(base=BASE, token=token))
    assert caught.value.code == "entry_code_malformed"


def test_a_token_with_another_format_byte_is_malformed_not_forged() -> None:
    token = issue_token(KEY, ENTERPRISE, 1)
    # The first character carries the top six bits of the format byte.
    with pytest.raises(EntryCodeMalformed):
        parse_scanned_text(KEY, "B" + token[1:])


def test_a_truncated_token_is_rejected() -> None:
    token = issue_token(KEY, ENTERPRISE, 1)
    with pytest.raises((EntryCodeMalformed, EntryCodeForged)):
        parse_scanned_text(KEY, token[:-4])


@given(st.text(max_size=300))
def test_any_garbage_text_raises_only_our_two_codes(text: str) -> None:
    with pytest.raises((EntryCodeMalformed, EntryCodeForged)):
        parse_scanned_text(KEY, text)


@given(st.text(alphabet=B64URL, min_size=38, max_size=48))
def test_any_base64_garbage_of_the_right_size_raises_only_our_two_codes(text: str) -> None:
    with pytest.raises((EntryCodeMalformed, EntryCodeForged)):
        parse_scanned_text(KEY, f"{BASE}/e/{text}")


@given(st.binary(min_size=0, max_size=60))
def test_any_base64_of_random_bytes_raises_only_our_two_codes(raw: bytes) -> None:
    import base64

    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises((EntryCodeMalformed, EntryCodeForged)):
        parse_scanned_text(KEY, text)


@pytest.mark.parametrize(
    ("cls", "code", "base"),
    [
        (EntryCodeMalformed, "entry_code_malformed", ValidationFailed),
        (EntryCodeForged, "entry_code_forged", ValidationFailed),
        (EntryCodeRevoked, "entry_code_revoked", ValidationFailed),
        (EntryCodeOtherAgency, "entry_code_other_agency", Forbidden),
        (EntryCodeUnknownEnterprise, "entry_code_unknown_enterprise", NotFound),
    ],
)
def test_every_gate_code_error_has_its_own_stable_code(
    cls: type[EntryCodeError], code: str, base: type[DomainError]
) -> None:
    error = cls("message")
    assert error.code == code
    assert isinstance(error, base)
    assert isinstance(error, EntryCodeError)
    assert error.message == "message"
