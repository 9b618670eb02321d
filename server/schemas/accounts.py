"""Login, users and devices."""

from __future__ import annotations

import marshmallow as ma

from server.domain.permissions import DEVICE_ACTIONS, ROLES
from server.schemas.fields import Day, LocalDateTime


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))
    device_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    device_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


class AgencySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    abbr = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)


class UserSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    unit = ma.fields.String(metadata={"description": "科室 / 执法大队"})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    cert_no = ma.fields.String(allow_none=True)
    cert_valid_until = Day(allow_none=True)
    agency = ma.fields.Nested(AgencySchema, required=True)


class ColleagueSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    unit = ma.fields.String(required=True, metadata={"description": "科室 / 执法大队"})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    cert_no = ma.fields.String(allow_none=True, metadata={"description": "执法证 number"})
    cert_valid_until = Day(allow_none=True)


class LoginResultSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(dump_default="Bearer")
    expires_at = LocalDateTime(required=True)
    user = ma.fields.Nested(UserSchema, required=True)


class DeviceEventSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(DEVICE_ACTIONS))
    at = LocalDateTime(required=True)
    user_id = ma.fields.UUID(required=True, metadata={"description": "who did it"})


class DeviceSchema(ma.Schema):
    device_id = ma.fields.String(required=True, attribute="device_key")
    name = ma.fields.String(required=True)
    first_seen_at = LocalDateTime(required=True)
    last_seen_at = LocalDateTime(required=True)
    last_user_id = ma.fields.UUID(allow_none=True, metadata={"description": "who logged in last"})
    revoked_at = LocalDateTime(allow_none=True)
    revoked_by = ma.fields.UUID(allow_none=True)
    events = ma.fields.List(
        ma.fields.Nested(DeviceEventSchema),
        required=True,
        metadata={"description": "every revocation and reinstatement, oldest first"},
    )
