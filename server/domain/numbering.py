"""Enforcement document (执法文书) types, numbers, provisional device numbers, prerequisites."""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from server.domain.errors import ValidationFailed


@dataclass(frozen=True)
class DocumentType:
    code: str
    title: str
    abbr: str


INSPECTION_RECORD = "inspection_record"
ONSITE_MEASURES = "onsite_measures"
RECTIFICATION_ORDER = "rectification_order"
REINSPECTION_OPINION = "reinspection_opinion"
PENALTY_DECISION = "penalty_decision"

DOCUMENT_TYPES: dict[str, DocumentType] = {
    t.code: t
    for t in (
        DocumentType(INSPECTION_RECORD, "现场检查记录", "应急检记"),
        DocumentType(ONSITE_MEASURES, "现场处理措施决定书", "应急现决"),
        DocumentType(RECTIFICATION_ORDER, "责令限期整改指令书", "应急责改"),
        DocumentType(REINSPECTION_OPINION, "整改复查意见书", "应急复查"),
        DocumentType(PENALTY_DECISION, "行政处罚决定书", "应急罚"),
    )
}
_TYPE_BY_ABBR = {t.abbr: t.code for t in DOCUMENT_TYPES.values()}
# Each type's title, by its code, for pages and exports.
DOCUMENT_TITLES = {t.code: t.title for t in DOCUMENT_TYPES.values()}

PROVISIONAL_PREFIX = "临"
MAX_AGENCY_ABBR_LENGTH = 20

# Characters that delimit the parts of a number, so an agency abbreviation may not contain them.
_DELIMITERS = "（）()〔〕[]【】"
_NUMBER = re.compile(
    r"""
    [（(] (?P<agency>[^（）()〔〕\[\]【】\s]+) [）)]
    (?P<type>[^（）()〔〕\[\]【】\s\d]+)
    [〔\[【] (?P<year>\d{4}) [〕\]】]
    (?P<serial>\d+) 号
    """,
    re.VERBOSE,
)
_PROVISIONAL = re.compile(r"临-(?P<device>[0-9A-Z]{1,8})-(?P<seq>[1-9]\d*)")


class InvalidDocumentNumber(ValidationFailed):
    code = "invalid_document_number"


class UnknownDocumentType(ValidationFailed):
    code = "unknown_document_type"


class MissingRectificationOrder(ValidationFailed):
    code = "missing_rectification_order"


@dataclass(frozen=True)
class DocumentNumber:
    """A parsed official number; ``str()`` gives the canonical form."""

    agency_abbr: str
    doc_type: str
    year: int
    serial: int

    def __str__(self) -> str:
        return format_number(self.agency_abbr, self.doc_type, self.year, self.serial)


@dataclass(frozen=True)
class ProvisionalNumber:
    device_short: str
    local_seq: int

    def __str__(self) -> str:
        return f"{PROVISIONAL_PREFIX}-{self.device_short}-{self.local_seq}"


def document_type(doc_type: str) -> DocumentType:
    """The type's Chinese title and number abbreviation; ``UnknownDocumentType`` otherwise."""
    try:
        return DOCUMENT_TYPES[doc_type]
    except KeyError:
        raise UnknownDocumentType(
            f"unknown document type {doc_type!r}",
            fields={"type": f"must be one of {', '.join(DOCUMENT_TYPES)}"},
        ) from None


def format_number(agency_abbr: str, doc_type: str, year: int, serial: int) -> str:
    """The official number, e.g. ``（南开）应急责改〔2024〕15号``."""
    _check_agency_abbr(agency_abbr)
    abbr = document_type(doc_type).abbr
    if not 1000 <= year <= 9999:
        raise InvalidDocumentNumber(
            f"year {year} does not have four digits", fields={"year": "4 digits"}
        )
    if serial < 1:
        raise InvalidDocumentNumber(
            f"serial numbers start at 1, not {serial}", fields={"serial": "must be >= 1"}
        )
    return f"（{agency_abbr}）{abbr}〔{year}〕{serial}号"


def parse_number(text: str) -> DocumentNumber:
    """Read an official number back into its parts.

    Numbers typed by people arrive with half-width parentheses or ``[2024]``/``【2024】`` for
    the year bracket, and with stray spaces; those are accepted, and ``str()`` of the result
    is the canonical form. Anything else raises ``InvalidDocumentNumber``.
    """
    cleaned = "".join(text.split()) if isinstance(text, str) else ""
    match = _NUMBER.fullmatch(cleaned)
    if match is None:
        raise InvalidDocumentNumber(
            f"{text!r} is not a document number like （南开）应急责改〔2024〕15号"
        )
    doc_type = _TYPE_BY_ABBR.get(match["type"])
    if doc_type is None:
        raise InvalidDocumentNumber(
            f"{match['type']!r} is not a known document abbreviation ({', '.join(_TYPE_BY_ABBR)})"
        )
    serial = int(match["serial"])
    if serial < 1:
        raise InvalidDocumentNumber(f"{text!r} has serial 0; serial numbers start at 1")
    if len(match["agency"]) > MAX_AGENCY_ABBR_LENGTH:
        raise InvalidDocumentNumber(f"{text!r} has an agency abbreviation that is too long")
    return DocumentNumber(match["agency"], doc_type, int(match["year"]), serial)


def provisional_number(device_id: uuid.UUID | str, local_seq: int) -> str:
    """The number a device shows on a document written offline, e.g. ``临-3F2A9C01-7``.

    It shares no shape with an official number (no brackets, no 号), so a printed provisional
    copy cannot be mistaken for one; the device's short id keeps two devices' ``local_seq``
    counters apart until the server assigns the real number.
    """
    if local_seq < 1:
        raise ValidationFailed(
            f"local sequence numbers start at 1, not {local_seq}",
            code="invalid_provisional_number",
            fields={"local_seq": "must be >= 1"},
        )
    return str(ProvisionalNumber(device_short_id(device_id), local_seq))


def device_short_id(device_id: uuid.UUID | str) -> str:
    """The first eight letters/digits of a device id, upper-cased."""
    raw = device_id.hex if isinstance(device_id, uuid.UUID) else str(device_id)
    short = "".join(ch for ch in raw if ch.isascii() and ch.isalnum())[:8].upper()
    if not short:
        raise ValidationFailed(
            f"device id {device_id!r} has no letters or digits",
            code="invalid_provisional_number",
            fields={"device_id": "needs letters or digits"},
        )
    return short


def parse_provisional_number(text: str) -> ProvisionalNumber:
    match = _PROVISIONAL.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValidationFailed(
            f"{text!r} is not a provisional number like 临-3F2A9C01-7",
            code="invalid_provisional_number",
        )
    return ProvisionalNumber(match["device"], int(match["seq"]))


def is_provisional_number(text: str) -> bool:
    return isinstance(text, str) and _PROVISIONAL.fullmatch(text.strip()) is not None


def check_document_prerequisites(
    doc_type: str,
    hazard_ids: Iterable[Hashable],
    existing_order_hazard_ids: Iterable[Hashable],
) -> None:
    """Raise ``ValidationFailed`` unless a document of ``doc_type`` may be issued now.

    - A 整改复查意见书 re-inspects what a 责令限期整改指令书 ordered: it must name at least one
      hazard (``hazards_required``), and every hazard it names must already be covered by a
      rectification order (``missing_rectification_order``, listing those that are not).
    - A rectification order orders something: it names at least one hazard.
    - The other types stand on their own.
    """
    document_type(doc_type)
    named = list(dict.fromkeys(hazard_ids))
    if doc_type in (RECTIFICATION_ORDER, REINSPECTION_OPINION) and not named:
        title = DOCUMENT_TYPES[doc_type].title
        raise ValidationFailed(
            f"a {title} must name the hazards it concerns",
            code="hazards_required",
            fields={"hazard_ids": "at least one hazard"},
        )
    if doc_type == REINSPECTION_OPINION:
        ordered = set(existing_order_hazard_ids)
        missing = [h for h in named if h not in ordered]
        if missing:
            raise MissingRectificationOrder(
                "a 整改复查意见书 can only follow a 责令限期整改指令书; no order covers "
                f"{len(missing)} of the named hazards",
                fields={"hazard_ids": "no rectification order for some hazards"},
                details={"hazard_ids": [str(h) for h in missing]},
            )


def _check_agency_abbr(agency_abbr: str) -> None:
    if (
        not agency_abbr
        or len(agency_abbr) > MAX_AGENCY_ABBR_LENGTH
        or any(ch in _DELIMITERS or ch.isspace() for ch in agency_abbr)
    ):
        raise InvalidDocumentNumber(
            f"agency abbreviation {agency_abbr!r} must be 1–{MAX_AGENCY_ABBR_LENGTH} characters "
            "without spaces or brackets",
            fields={"agency_abbr": "1–20 characters, no spaces or brackets"},
        )
