"""An agency's settings: read what is in force, change it validated, never fail on bad rows."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma

from server.domain import permissions
from server.domain.errors import ValidationFailed
from server.domain.hazards import HazardPolicy
from server.domain.parties import COMPLAINT_ANSWER_DAYS
from server.domain.permissions import Principal
from server.domain.visits import DEFAULT_REPEAT_DAYS, DEFAULT_YEARLY_CAPS
from server.extensions import db
from server.models import Agency
from server.schemas.agency import SECTION_SCHEMAS
from server.services.lookup import get_or_not_found

log = logging.getLogger(__name__)

READ_SETTINGS = frozenset({permissions.LEAD, permissions.MANAGER, permissions.ADMIN})
WRITE_SETTINGS = frozenset({permissions.MANAGER, permissions.ADMIN})

_POLICY_FIELDS = tuple(f.name for f in dataclasses.fields(HazardPolicy) if f.name != "timezone")


def _defaults(section: str) -> dict[str, Any]:
    if section == "hazards":
        policy = HazardPolicy()
        return {name: getattr(policy, name) for name in _POLICY_FIELDS}
    if section == "supervision":
        return {"complaint_answer_days": COMPLAINT_ANSWER_DAYS}
    return {"repeat_visit_days": DEFAULT_REPEAT_DAYS, "yearly_caps": dict(DEFAULT_YEARLY_CAPS)}


def _usable(section: str, stored: Any) -> tuple[dict[str, Any], list[str]]:
    """The valid part of a stored section, and what was left out (and why)."""
    if stored is None:
        return {}, []
    if not isinstance(stored, dict):
        return {}, [f"{section}: not an object, ignored"]
    schema = SECTION_SCHEMAS[section]()
    known = set(schema.fields)
    ignored = [f"{section}.{k}: unknown setting, ignored" for k in sorted(stored) if k not in known]
    values = {k: v for k, v in stored.items() if k in known}
    try:
        return schema.load(values), ignored
    except ma.ValidationError as exc:
        messages = exc.normalized_messages()
    bad = {k for k in messages if k in values}
    ignored += [f"{section}.{k}: {messages[k]}, ignored" for k in sorted(bad)]
    values = {k: v for k, v in values.items() if k not in bad}
    try:
        return schema.load(values), ignored
    except ma.ValidationError as exc:  # the values disagree with each other: none is used
        ignored.append(f"{section}: {exc.normalized_messages()}, defaults used")
        return {}, ignored


@functools.lru_cache(maxsize=512)
def _section(section: str, stored_json: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    # Cached by content: a policy is read per request and per op, its warning logged once.
    values, ignored = _usable(section, json.loads(stored_json))
    for message in ignored:
        log.warning("agency settings: %s", message)
    return values, tuple(ignored)


def section(settings: dict[str, Any] | None, name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The valid stored values of one section (without defaults) and what was ignored."""
    stored = (settings or {}).get(name)
    values, ignored = _section(name, json.dumps(stored, sort_keys=True, default=str))
    return dict(values), ignored


def hazard_policy(settings: dict[str, Any] | None, timezone: str) -> HazardPolicy:
    """The agency's ``HazardPolicy``; invalid or unknown stored keys fall back to defaults."""
    values, _ = section(settings, "hazards")
    return HazardPolicy(timezone=ZoneInfo(timezone), **values)


def visits_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """``settings["visits"]`` with invalid keys left out (``VisitPolicy.from_settings`` input)."""
    values, _ = section(settings, "visits")
    return values


def complaint_answer_days(settings: dict[str, Any] | None) -> int:
    """Days an enterprise's complaint about a visit may wait for its answer."""
    values, _ = section(settings, "supervision")
    return int(values.get("complaint_answer_days", COMPLAINT_ANSWER_DAYS))


def view(agency: Agency) -> dict[str, Any]:
    """The settings in force, section by section, and the stored values that are not."""
    result: dict[str, Any] = {"agency": agency.code, "ignored": []}
    for name in SECTION_SCHEMAS:
        values, ignored = section(agency.settings, name)
        result[name] = {**_defaults(name), **values}
        result["ignored"].extend(ignored)
    return result


def _agency(principal: Principal, allowed: frozenset[str], action: str) -> Agency:
    permissions.require_role(principal, allowed, action)
    return get_or_not_found(Agency, principal.agency_id, "no such agency")


def read(principal: Principal) -> dict[str, Any]:
    """The caller's agency's settings (leads, managers, administrators)."""
    return view(_agency(principal, READ_SETTINGS, "reading agency settings"))


def change(agency: Agency, patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` (``{section: {key: value}}``) into the stored settings, validated.

    Each named section is merged key by key into its valid stored values and checked whole
    (a value may be fine alone and contradict another one); nothing is stored unless every
    section passes. Other parts of ``settings`` (calendar overrides, penalties) are kept.
    """
    errors: dict[str, Any] = {}
    merged: dict[str, dict[str, Any]] = {}
    for name, changes in patch.items():
        if name not in SECTION_SCHEMAS:
            errors[name] = ["not a settings section"]
            continue
        if not isinstance(changes, dict):
            errors[name] = ["an object of settings"]
            continue
        current, _ = section(agency.settings, name)
        try:
            merged[name] = SECTION_SCHEMAS[name]().load({**current, **changes})
        except ma.ValidationError as exc:
            errors[name] = exc.normalized_messages()
    if errors:
        raise ValidationFailed(
            "these settings are not valid: " + ", ".join(sorted(errors)),
            code="invalid_settings",
            fields=errors,
        )
    settings = dict(agency.settings or {})
    settings.update(merged)
    agency.settings = settings
    db.session.commit()
    return view(agency)


def update(principal: Principal, patch: dict[str, Any]) -> dict[str, Any]:
    """Change the caller's agency's settings (managers, administrators)."""
    return change(_agency(principal, WRITE_SETTINGS, "changing agency settings"), patch)
