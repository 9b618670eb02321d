"""Bulk import of the enterprise directory from the CSV or XLSX sheets agencies keep today."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from server.domain import permissions
from server.domain.enterprises import INDUSTRIES, RISK_GRADES
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Enterprise
from server.models.types import new_id
from server.schemas.enterprises import EnterpriseInputSchema

# Sheets arrive with Chinese headers as often as with field names.
HEADER_ALIASES: dict[str, str] = {
    "统一社会信用代码": "uscc",
    "信用代码": "uscc",
    "企业名称": "name",
    "单位名称": "name",
    "名称": "name",
    "地址": "address",
    "企业地址": "address",
    "所属区域": "region",
    "街道": "region",
    "区域": "region",
    "行业": "industry",
    "所属行业": "industry",
    "法定代表人": "legal_representative",
    "联系电话": "contact_phone",
    "纬度": "latitude",
    "经度": "longitude",
    "重点企业": "is_key",
    "是否重点": "is_key",
    "风险等级": "risk_grade",
    "分级": "risk_grade",
    "信用等级": "credit_rating",
    "严重失信": "seriously_dishonest",
}
_BOOLEAN = {"是": "true", "否": "false", "重点": "true", "一般": "false", "非重点": "false"}
_VALUE_ALIASES: dict[str, dict[str, str]] = {
    "industry": {label: code for code, label in INDUSTRIES.items()},
    "risk_grade": {label: code for code, label in RISK_GRADES.items()}
    | {f"{label}级": code for code, label in RISK_GRADES.items()},
    "is_key": _BOOLEAN,
    "seriously_dishonest": _BOOLEAN,
}
# Columns holding codes, numbers and flags: typed with a Chinese input method they arrive as
# full-width characters (Ａ, １２０), and in any case. Names and addresses are kept as typed.
_CODE_COLUMNS = frozenset(
    {
        "uscc",
        "industry",
        "risk_grade",
        "credit_rating",
        "is_key",
        "seriously_dishonest",
        "latitude",
        "longitude",
        "contact_phone",
    }
)
_FIELDS = set(EnterpriseInputSchema().fields)
_NEEDED_TO_CREATE = ("uscc", "name", "industry")
# A title such as "2024年南开区检查对象名录" may stand above the header; look this far down.
_HEADER_SEARCH_ROWS = 10


class UnreadableFile(ValidationFailed):
    code = "unreadable_file"


class TooManyRows(ValidationFailed):
    code = "too_many_rows"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def _decode(content: bytes) -> str:
    # Excel in China saves CSV as GBK; everything else sends UTF-8 (often with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the CSV is neither UTF-8 nor GB18030 text")


def _rows_from_csv(content: bytes) -> Iterator[list[str]]:
    yield from csv.reader(io.StringIO(_decode(content), newline=""))


def _rows_from_xlsx(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UnreadableFile(f"not a readable XLSX workbook: {exc.__class__.__name__}") from None
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield [_xlsx_cell(v) for v in values]


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number or a 0/1 flag typed as a number
    return str(value)


def read_sheet(filename: str, content: bytes) -> Iterator[list[str]]:
    """Rows of cells as strings, the header first, from a CSV or XLSX file."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _rows_from_xlsx(content)
    return _rows_from_csv(content)


def _column_key(cell: str) -> str | None:
    name = unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff")
    name = "".join(name.split())  # "统一社会 信用代码", "企业 名称"
    key = HEADER_ALIASES.get(name, name.lower())
    return key if key in _FIELDS else None


def _find_header(rows: Iterator[list[str]]) -> tuple[int, list[str | None]]:
    """The header's row number and its columns; title rows above it are skipped."""
    best: list[str | None] = []
    number = 0
    for number, cells in enumerate(rows, start=1):
        columns = [_column_key(c) for c in cells]
        if "uscc" in columns:
            return number, columns
        if len(set(columns) - {None}) > len(set(best) - {None}):
            best = columns
        if number >= _HEADER_SEARCH_ROWS:
            break
    if number == 0:
        raise UnreadableFile("the file is empty")
    missing = [m for m in _NEEDED_TO_CREATE if m not in best]
    raise UnreadableFile(
        "no header row with a USCC column (统一社会信用代码) in the first "
        f"{_HEADER_SEARCH_ROWS} rows; a header names at least: " + ", ".join(_NEEDED_TO_CREATE),
        fields={"header": [f"missing {m}" for m in missing]},
    )


def _normalize_cell(key: str, raw: str) -> str:
    value = raw.strip()
    if key in _CODE_COLUMNS:
        value = unicodedata.normalize("NFKC", value).strip()
    if key == "credit_rating":
        value = value.upper().removesuffix("级")  # "a", "A级"
    elif key in {"industry", "risk_grade"}:
        value = _VALUE_ALIASES[key].get(value, value.lower())
    elif key in _VALUE_ALIASES:
        value = _VALUE_ALIASES[key].get(value, value)
    return value


def _row_cells(columns: list[str | None], cells: list[str]) -> tuple[dict[str, str], dict]:
    """The row's non-empty cells by field, and per-field errors found before validation."""
    out: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key, raw in zip(columns, cells, strict=False):
        if key is None:
            continue
        if "\x00" in raw:  # PostgreSQL cannot store U+0000
            errors[key] = ["contains a NUL character"]
            continue
        value = _normalize_cell(key, raw)
        if value:
            out[key] = value
    return out, errors


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    data: dict[str, Any]


def import_enterprises(
    principal: Principal, filename: str, content: bytes, *, max_rows: int = 20000
) -> ImportReport:
    """Create new enterprises and update known ones (by USCC); report every row.

    Bad rows are reported with their spreadsheet row number and do not stop good ones.
    """
    permissions.require_role(principal, permissions.IMPORT_ENTERPRISES, "importing enterprises")
    return import_rows(principal.agency_id, read_sheet(filename, content), max_rows=max_rows)


def import_rows(
    agency_id: Any, rows: Iterator[list[str]], *, max_rows: int = 20000
) -> ImportReport:
    """The import itself, shared by the API and ``flask enterprises import``.

    A known USCC updates that enterprise with the row's non-empty cells only: a sheet of a
    few columns, or with blanks, leaves every other stored value as it is. A new USCC
    needs a name and an industry; the other fields take their defaults.
    """
    rows = iter(rows)  # the header search and the rows after it share one pass
    schema = EnterpriseInputSchema()
    report = ImportReport()
    parsed: list[_Row] = []
    seen: dict[str, int] = {}

    def fail(number: int, errors: Any, uscc: str | None = None) -> None:
        report.failed += 1
        report.rows.append({"row": number, "status": "error", "uscc": uscc, "errors": errors})

    try:
        header_row, columns = _find_header(rows)
        for number, cells in enumerate(rows, start=header_row + 1):
            if not any(c.strip() for c in cells):
                continue
            if len(parsed) + report.failed >= max_rows:
                raise TooManyRows(f"a file may hold at most {max_rows} rows; split it")
            values, errors = _row_cells(columns, cells)
            if errors:
                fail(number, errors)
                continue
            if "uscc" not in values:
                fail(number, {"uscc": ["Missing data for required field."]})
                continue
            try:
                # Partial: a blank or absent column is not a value, and takes no default.
                data = schema.load(values, partial=True)
            except ma.ValidationError as err:
                fail(number, err.messages)
                continue
            if data["uscc"] in seen:
                fail(
                    number,
                    {"uscc": [f"repeats row {seen[data['uscc']]} of this file"]},
                    data["uscc"],
                )
                continue
            seen[data["uscc"]] = number
            parsed.append(_Row(number, values, data))
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV file: {exc}") from None

    existing = (
        {
            e.uscc: e
            for e in db.session.scalars(
                sa.select(Enterprise).where(
                    Enterprise.agency_id == agency_id, Enterprise.uscc.in_(list(seen))
                )
            )
        }
        if seen
        else {}
    )
    for row in parsed:
        uscc = row.data["uscc"]
        current = existing.get(uscc)
        if current is None:
            try:
                data = schema.load(row.cells)  # now with the defaults of a new record
            except ma.ValidationError as err:
                fail(row.number, err.messages, uscc)
                continue
            enterprise = Enterprise(id=new_id(), agency_id=agency_id, **data)
            db.session.add(enterprise)
            report.created += 1
            report.rows.append(
                {"row": row.number, "status": "created", "uscc": uscc, "id": enterprise.id}
            )
            continue
        changed = False
        for key, value in row.data.items():
            if getattr(current, key) != value:
                setattr(current, key, value)
                changed = True
        if changed:
            current.version += 1
            report.updated += 1
        else:
            report.unchanged += 1
        report.rows.append(
            {
                "row": row.number,
                "status": "updated" if changed else "unchanged",
                "uscc": uscc,
                "id": current.id,
            }
        )
    db.session.commit()
    report.rows.sort(key=lambda r: r["row"])
    return report
