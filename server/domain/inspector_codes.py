"""亮码: the short-lived signed code an inspector shows the enterprise, and reading it back.

Token layout, before base64url (no padding):
  format byte (0x01) | user UUID (16) | task UUID (16, all zero: no task) | expiry (4, unix
  seconds, big-endian) | tag (12)
The tag is HMAC-SHA256 over everything before it, truncated, with a key derived from the
app's SECRET_KEY for this purpose only (so a gate code can never pass for an inspector's).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

FORMAT_V1 = 0x01
TAG_BYTES = 12
_BODY = 1 + 16 + 16 + 4
_RAW = _BODY + TAG_BYTES
KEY_PURPOSE = b"inspector-code/v1"
URL_PATH_SEGMENT = "v"
# Long enough to scan and read, short enough that a screenshot is soon worthless; the field
# client asks for a new one before it runs out.
LIFETIME = timedelta(minutes=5)
_NO_TASK = uuid.UUID(int=0)

VALID, FORGED, EXPIRED, CERT_LAPSED, UNKNOWN = "valid", "forged", "expired", "lapsed", "unknown"
# Whatever made a code worthless, the enterprise sees a warning in plain words.
WARNINGS = {
    FORGED: "此码无效：不是本系统签发的执法人员身份码，可能被伪造或篡改。"
    "请拒绝检查并拨打 12350 核实。",
    EXPIRED: "此码已过期：请执法人员在执法终端上刷新后重新出示。",
    CERT_LAPSED: "该执法人员的执法证已过期或无效，不得从事行政执法检查。",
    UNKNOWN: "查无此执法人员或账号已停用。请拒绝检查并拨打 12350 核实。",
}
# 《安全生产法》: the power to enter and inspect, and the duty to show the certificate.
DEFAULT_LEGAL_BASIS = (
    "《中华人民共和国安全生产法》第六十五条（进入生产经营单位检查、调阅资料）、"
    "第六十七条（监督检查人员应当出示有效的行政执法证件）"
)
DRAWN_LEGAL_BASIS = DEFAULT_LEGAL_BASIS + "；双随机、一公开抽查计划"


def derive_key(secret_key: str | bytes) -> bytes:
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, KEY_PURPOSE, hashlib.sha256).digest()


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:TAG_BYTES]


def issue(key: bytes, user_id: uuid.UUID, task_id: uuid.UUID | None, now: datetime) -> str:
    """A token for one inspector (and task), good for ``LIFETIME`` from ``now``."""
    expires = int((now + LIFETIME).timestamp())
    body = (
        bytes([FORMAT_V1])
        + user_id.bytes
        + (task_id or _NO_TASK).bytes
        + expires.to_bytes(4, "big")
    )
    return base64.urlsafe_b64encode(body + _tag(key, body)).rstrip(b"=").decode()


@dataclass(frozen=True)
class Reading:
    status: str  # VALID, FORGED or EXPIRED (a genuine code's holder is checked by the caller)
    user_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = None
    expires_at: datetime | None = None


def read(key: bytes, token: str, now: datetime) -> Reading:
    """What a scanned token says, or why it says nothing."""
    token = token.strip()
    if not token or len(token) > 80:
        return Reading(FORGED)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return Reading(FORGED)
    if len(raw) != _RAW or raw[0] != FORMAT_V1:
        return Reading(FORGED)
    body, tag = raw[:_BODY], raw[_BODY:]
    if not hmac.compare_digest(tag, _tag(key, body)):
        return Reading(FORGED)
    user_id = uuid.UUID(bytes=body[1:17])
    task = uuid.UUID(bytes=body[17:33])
    expires_at = datetime.fromtimestamp(int.from_bytes(body[33:37], "big"), UTC)
    status = EXPIRED if now >= expires_at else VALID
    return Reading(status, user_id, None if task == _NO_TASK else task, expires_at)


def certificate_valid(cert_no: str | None, valid_until: date | None, today: date) -> bool:
    """A certificate number, and not past its end (an open-ended one stays valid)."""
    return bool(cert_no) and (valid_until is None or valid_until >= today)
