"""The signed gate code (扫码入企): token format, signing, and reading what a camera scanned."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.domain.errors import DomainError, Forbidden, NotFound, ValidationFailed

# Token layout, before base64url (no padding):
#   format byte (0x01) | enterprise UUID (16 bytes) | version (LEB128 varint) | tag (12 bytes)
# The tag is HMAC-SHA256 over everything before it, truncated. 96 bits is far beyond what
# anyone can guess online, and every byte saved keeps the QR at a low version, so it stays
# large-moduled and scannable on a poster. The format byte lets a later layout coexist with
# posters already hanging at gates.
FORMAT_V1 = 0x01
TAG_BYTES = 12
UUID_BYTES = 16
MAX_VERSION = 2**31 - 1  # the column is a signed 32-bit integer
_MAX_VARINT_BYTES = 5  # enough for MAX_VERSION
_MIN_RAW = 1 + UUID_BYTES + 1 + TAG_BYTES
_MAX_RAW = 1 + UUID_BYTES + _MAX_VARINT_BYTES + TAG_BYTES

# Purpose label for the subkey, so SECRET_KEY itself never signs gate codes and a value
# signed here can never be replayed as a session token or anything else signed with it.
KEY_PURPOSE = b"entry-code/v1"

URL_PATH_SEGMENT = "e"

# Anything longer is not one of ours, and refusing early keeps a hostile scan cheap.
_MAX_SCANNED_CHARS = 2048
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
# Whitespace is handled by str.strip(); these are the invisible characters some scanner
# apps and copy-paste paths add that str.strip() leaves alone.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


class EntryCodeError(DomainError):
    """A scanned gate code cannot be used to enter this enterprise."""

    code = "entry_code_invalid"


class EntryCodeMalformed(EntryCodeError, ValidationFailed):
    """The text is not a gate code of this service at all (wrong URL, bad encoding, garbage)."""

    code = "entry_code_malformed"


class EntryCodeForged(EntryCodeError, ValidationFailed):
    """The text looks like our code but the signature does not match (tampered, other key)."""

    code = "entry_code_forged"


class EntryCodeRevoked(EntryCodeError, ValidationFailed):
    """Genuine, but the enterprise's code was rotated since; the poster is out of date."""

    code = "entry_code_revoked"


class EntryCodeOtherAgency(EntryCodeError, Forbidden):
    """Genuine, but the enterprise is supervised by another agency than the inspector's."""

    code = "entry_code_other_agency"


class EntryCodeUnknownEnterprise(EntryCodeError, NotFound):
    """Genuine signature, but no enterprise with that id exists (deleted or never synced)."""

    code = "entry_code_unknown_enterprise"


@dataclass(frozen=True)
class EntryCode:
    """What a valid gate code says: which enterprise, and which version of its code."""

    enterprise_id: uuid.UUID
    version: int


def derive_key(secret_key: str | bytes) -> bytes:
    """The gate-code signing key, derived from the app's SECRET_KEY for this purpose only."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, KEY_PURPOSE, hashlib.sha256).digest()


def issue_token(key: bytes, enterprise_id: uuid.UUID, version: int) -> str:
    """The token for one enterprise and code version, signed with ``key`` (see derive_key)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError("version must be an int")
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(f"version must be between 1 and {MAX_VERSION}")
    body = bytes([FORMAT_V1]) + enterprise_id.bytes + _encode_varint(version)
    return _b64encode(body + _tag(key, body))


def entry_url(base_url: str, token: str) -> str:
    """The URL printed in the QR: ``<base_url>/e/<token>``."""
    return f"{base_url.rstrip('/')}/{URL_PATH_SEGMENT}/{token}"


def parse_token(key: bytes, token: str) -> EntryCode:
    """Verify a bare token and say what it names; raises Malformed or Forged."""
    raw = _b64decode(token)
    if raw[0] != FORMAT_V1:
        raise EntryCodeMalformed("not a gate code of this service (unknown format)")
    if not _MIN_RAW <= len(raw) <= _MAX_RAW:
        raise EntryCodeMalformed("not a gate code of this service (wrong length)")
    body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    # The signature is checked before the contents are trusted for anything.
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise EntryCodeForged("this code was not issued by this service or has been altered")
    enterprise_id = uuid.UUID(bytes=body[1 : 1 + UUID_BYTES])
    version = _decode_varint(body[1 + UUID_BYTES :])
    return EntryCode(enterprise_id=enterprise_id, version=version)


def parse_scanned_text(key: bytes, text: str) -> EntryCode:
    """Read what a phone camera scanned: the full gate URL or the bare token.

    Any http(s) host and path prefix is accepted as long as the path ends in ``/e/<token>``:
    the signature, not the host name, proves a code is ours, and posters printed before the
    service moved to another address (or read by a device configured with a different
    PUBLIC_BASE_URL, or behind a path-prefixing proxy) must keep working. A query string or
    fragment is ignored, since chat apps append their own tracking parameters when a link is
    shared. Raises EntryCodeMalformed or EntryCodeForged, never anything else.
    """
    if not isinstance(text, str):
        raise EntryCodeMalformed("the scanned code is not text")
    cleaned = text.strip().strip(_INVISIBLE).strip()
    if not cleaned:
        raise EntryCodeMalformed("the scanned code is empty")
    if len(cleaned) > _MAX_SCANNED_CHARS:
        raise EntryCodeMalformed("the scanned text is too long to be a gate code")
    if "://" in cleaned:
        token = _token_from_url(cleaned)
    else:
        token = cleaned
    return parse_token(key, token)


def _token_from_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced IPv6 bracket in the host
        raise EntryCodeMalformed("the scanned URL cannot be read") from exc
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise EntryCodeMalformed("the scanned text is not a gate-code URL")
    segments = parts.path.split("/")
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash
    if len(segments) < 2 or segments[-2] != URL_PATH_SEGMENT:
        raise EntryCodeMalformed("the scanned URL is not a gate-code URL")
    return segments[-1]


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:TAG_BYTES]


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(token: str) -> bytes:
    if not _TOKEN_ALPHABET.fullmatch(token) or len(token) % 4 == 1:
        raise EntryCodeMalformed("the code is not in base64url")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EntryCodeMalformed("the code is not in base64url") from exc
    # The last character may carry unused low bits; a token that differs only there decodes
    # to the same bytes. Only the canonical spelling is accepted, so each code has one form.
    if _b64encode(raw) != token or not raw:
        raise EntryCodeMalformed("the code is not in canonical base64url")
    return raw


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _decode_varint(data: bytes) -> int:
    value = 0
    for index, byte in enumerate(data):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            # Exactly the bytes the issuer wrote: nothing after, no redundant zero groups.
            if index != len(data) - 1 or (index > 0 and byte == 0):
                break
            if not 1 <= value <= MAX_VERSION:
                break
            return value
    raise EntryCodeMalformed("the code's version field is damaged")
