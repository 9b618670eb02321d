"""The enterprise directory: records, filters, and the import report."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.domain.enterprises import (
    CREDIT_RATINGS,
    INDUSTRIES,
    RISK_GRADES,
    SORTABLE_FIELDS,
    USCC_PATTERN,
    InvalidUSCC,
)
from server.domain.enterprises import normalize_uscc as _normalize_uscc
from server.schemas.common import PageQuerySchema, page_schema
from server.schemas.fields import LocalDateTime


def _validate_uscc(value: str) -> None:
    try:
        _normalize_uscc(value)
    except InvalidUSCC as exc:
        raise ma.ValidationError(exc.message) from None


_industry = ma.validate.OneOf(list(INDUSTRIES))
_risk = ma.validate.OneOf(list(RISK_GRADES))
_credit = ma.validate.OneOf(list(CREDIT_RATINGS))


class EnterpriseInputSchema(ma.Schema):
    """Fields a lead or manager may set; also validates each row of an import."""

    uscc = ma.fields.String(
        required=True,
        validate=_validate_uscc,
        metadata={
            "description": "统一社会信用代码, 18 characters, GB 32100-2015 check character "
            "(lower case, spaces and full-width forms are normalised)",
            "pattern": USCC_PATTERN,
            "format": "uscc",
        },
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    address = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))
    region = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    industry = ma.fields.String(required=True, validate=_industry)
    legal_representative = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    contact_phone = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))
    latitude = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(-90, 90)
    )
    longitude = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(-180, 180)
    )
    is_key = ma.fields.Boolean(load_default=False)
    risk_grade = ma.fields.String(load_default=None, allow_none=True, validate=_risk)
    credit_rating = ma.fields.String(load_default=None, allow_none=True, validate=_credit)
    seriously_dishonest = ma.fields.Boolean(load_default=False)

    @ma.post_load
    def _normalize(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "uscc" in data:
            data["uscc"] = _normalize_uscc(data["uscc"])
        if "name" in data:
            data["name"] = data["name"].strip()
            if not data["name"]:
                raise ma.ValidationError({"name": ["must not be blank"]})
        return data


class EnterprisePatchSchema(EnterpriseInputSchema):
    """The same fields, each optional (use with ``partial=True``)."""


class EnterpriseSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    uscc = ma.fields.String(required=True, metadata={"pattern": USCC_PATTERN, "format": "uscc"})
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    industry = ma.fields.String(required=True)
    legal_representative = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    is_key = ma.fields.Boolean(required=True)
    risk_grade = ma.fields.String(allow_none=True)
    credit_rating = ma.fields.String(allow_none=True)
    seriously_dishonest = ma.fields.Boolean(required=True)
    entry_code_version = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)


EnterprisePageSchema = page_schema(EnterpriseSchema, "EnterprisePageSchema")


class EnterpriseQuerySchema(PageQuerySchema):
    q = ma.fields.String(validate=ma.validate.Length(max=100))
    industry = ma.fields.String(validate=_industry)
    risk_grade = ma.fields.String(validate=_risk)
    credit_rating = ma.fields.String(validate=_credit)
    is_key = ma.fields.Boolean()
    region = ma.fields.String(validate=ma.validate.Length(max=100))
    sort = ma.fields.String(
        load_default="name",
        validate=ma.validate.OneOf(
            sorted(SORTABLE_FIELDS) + sorted(f"-{s}" for s in SORTABLE_FIELDS)
        ),
    )


class ImportRowSchema(ma.Schema):
    row = ma.fields.Integer(required=True, metadata={"description": "spreadsheet row number"})
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["created", "updated", "unchanged", "error"])
    )
    uscc = ma.fields.String(allow_none=True)
    id = ma.fields.UUID(allow_none=True)
    errors = ma.fields.Dict()


class ImportReportSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    rows = ma.fields.List(ma.fields.Nested(ImportRowSchema), required=True)
