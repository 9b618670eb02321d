"""Bulk import of the enterprise directory from the CSV or XLSX sheets agencies keep today."""

from __future__ import annotations

import csv
import io
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
_VALUE_ALIASES: dict[str, dict[str, str]] = {
    "industry": {label: code for code, label in INDUSTRIES.items()},
    "risk_grade": {label: code for code, label in RISK_GRADES.items()},
    "is_key": {"是": "true", "否": "false", "重点": "true", "": "false"},
    "seriously_dishonest": {"是": "true", "否": "false", "": "false"},
}
_FIELDS = set(EnterpriseInputSchema().fields)


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
        yield ["" if v is None else str(v) for v in values]


def read_sheet(filename: str, content: bytes) -> Iterator[list[str]]:
    """Rows of cells as strings, the header first, from a CSV or XLSX file."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _rows_from_xlsx(content)
    return _rows_from_csv(content)


def _map_header(header: list[str]) -> list[str | None]:
    mapped: list[str | None] = []
    for cell in header:
        name = cell.strip().lstrip("\ufeff")
        key = HEADER_ALIASES.get(name, name.lower())
        mapped.append(key if key in _FIELDS else None)
    missing = {"uscc", "name", "industry"} - set(mapped)
    if missing:
        raise UnreadableFile(
            "the header row lacks required columns: " + ", ".join(sorted(missing)),
            fields={"header": [f"missing {m}" for m in sorted(missing)]},
        )
    return mapped


def _row_dict(columns: list[str | None], cells: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in zip(columns, cells, strict=False):
        if key is None:
            continue
        value = raw.strip()
        value = _VALUE_ALIASES.get(key, {}).get(value, value)
        if value == "" and key not in {"uscc", "name", "industry"}:
            continue
        out[key] = value
    return out


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
    """The import itself, shared by the API and ``flask enterprises import``."""
    try:
        header = next(rows)
    except StopIteration:
        raise UnreadableFile("the file is empty") from None
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV file: {exc}") from None
    columns = _map_header(header)
    schema = EnterpriseInputSchema()
    report = ImportReport()
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(rows, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(parsed) + report.failed >= max_rows:
                raise TooManyRows(f"a file may hold at most {max_rows} rows; split it")
            try:
                data = schema.load(_row_dict(columns, cells))
            except ma.ValidationError as err:
                report.failed += 1
                report.rows.append({"row": number, "status": "error", "errors": err.messages})
                continue
            if data["uscc"] in seen:
                report.failed += 1
                report.rows.append(
                    {
                        "row": number,
                        "status": "error",
                        "uscc": data["uscc"],
                        "errors": {"uscc": [f"repeats row {seen[data['uscc']]} of this file"]},
                    }
                )
                continue
            seen[data["uscc"]] = number
            parsed.append((number, data))
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
    for number, data in parsed:
        current = existing.get(data["uscc"])
        if current is None:
            enterprise = Enterprise(id=new_id(), agency_id=agency_id, **data)
            db.session.add(enterprise)
            report.created += 1
            report.rows.append(
                {"row": number, "status": "created", "uscc": data["uscc"], "id": enterprise.id}
            )
            continue
        changed = False
        for key, value in data.items():
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
                "row": number,
                "status": "updated" if changed else "unchanged",
                "uscc": data["uscc"],
                "id": current.id,
            }
        )
    db.session.commit()
    report.rows.sort(key=lambda r: r["row"])
    return report
