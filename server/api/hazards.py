"""Hazards to closure (隐患闭环): lists, export, statistics, history and office steps."""

from __future__ import annotations

import uuid
from typing import Any

from flask import stream_with_context
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.render.downloads import download
from server.schemas.hazards import (
    AggregatesQuerySchema,
    AggregatesSchema,
    EscalationPageSchema,
    EscalationQuerySchema,
    HazardDetailSchema,
    HazardPageSchema,
    HazardQuerySchema,
    TransitionSchema,
)
from server.services import escalation
from server.services.hazards.aggregates import aggregates, open_vs_closed
from server.services.hazards.common import HazardFilters, HazardRow
from server.services.hazards.detail import hazard_detail
from server.services.hazards.lists import export_csv, list_hazards
from server.services.hazards.steps import take_step

blp = Blueprint(
    "hazards", __name__, url_prefix="/api/v1/hazards", description="Hazards to closure (隐患)"
)

# One 200 in two forms; flask-smorest documents only the JSON one by itself.
_JSON_OR_CSV = {
    "application/json": {"schema": HazardPageSchema},
    "text/csv": {"schema": {"type": "string"}},
}
_FILTERS = (
    "status",
    "level",
    "overdue",
    "enterprise_id",
    "industry",
    "inspector_id",
    "found_from",
    "found_to",
    "supervised",
    "penalty_case",
)


def _filters(query: dict[str, Any]) -> HazardFilters:
    return HazardFilters(**{k: query.get(k) for k in _FILTERS})


def _row(row: HazardRow) -> dict[str, Any]:
    h = row.hazard
    return {
        **{c: getattr(h, c) for c in _COLUMNS},
        "enterprise_name": row.enterprise_name,
        "industry": row.industry,
        "overdue": row.overdue,
        "days_overdue": row.days_overdue,
        "escalation": row.escalation,
    }


_COLUMNS = (
    "id",
    "inspection_id",
    "enterprise_id",
    "level",
    "description",
    "location",
    "legal_basis",
    "photo_attachments",
    "found_at",
    "status",
    "deadline",
    "supervised",
    "closed_at",
    "version",
)


def _detail(principal: Any, hazard_id: uuid.UUID) -> dict[str, Any]:
    d = hazard_detail(principal, hazard_id)
    h = d["hazard"]
    a = d["assessment"]
    return {
        **{c: getattr(h, c) for c in _COLUMNS},
        "enterprise_name": d["enterprise"].name,
        "industry": d["enterprise"].industry,
        "overdue": a.overdue,
        "days_overdue": a.days_overdue,
        "escalation": a.escalation,
        "lifecycle": d["lifecycle"],
        "assessment": a,
        "allowed_actions": d["allowed_actions"],
        "history": d["history"],
        "escalations": d["escalations"],
    }


@blp.route("")
class HazardCollection(MethodView):
    @blp.arguments(HazardQuerySchema, location="query")
    @blp.response(200, HazardPageSchema)
    @blp.doc(responses={"200": {"content": _JSON_OR_CSV}})
    @blp.alt_response(403, description="your role may not read hazards (or export them)")
    def get(self, query: dict[str, Any]) -> Any:
        """The agency's hazards, filtered, sorted and paginated; `format=csv` exports them all."""
        principal = current_principal()
        filters = _filters(query)
        if query["format"] == "csv":
            body = export_csv(principal, filters, sort=query["sort"])
            first = next(body)  # permission and filter errors surface before streaming starts
            return download(stream_with_context(_chain(first, body)), "hazards.csv")
        page = list_hazards(
            principal,
            filters,
            sort=query["sort"],
            page=query["page"],
            per_page=query["per_page"],
        )
        return {
            "items": [_row(r) for r in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }


def _chain(first: str, rest: Any) -> Any:
    yield first.encode("utf-8")
    for chunk in rest:
        yield chunk.encode("utf-8")


@blp.route("/aggregates")
class HazardAggregates(MethodView):
    @blp.arguments(AggregatesQuerySchema, location="query")
    @blp.response(200, AggregatesSchema)
    @blp.alt_response(403, description="leads and managers only")
    def get(self, query: dict[str, Any]) -> Any:
        """Counts by status, level, industry, inspector and age; the period's rectification."""
        principal = current_principal()
        result = aggregates(principal, **query)
        result["rectification"]["blocking"] = [
            {**_row(r), "found_at": r.hazard.found_at} for r in result["rectification"]["blocking"]
        ]
        result["open_vs_closed"] = open_vs_closed(principal)
        return result


@blp.route("/escalations")
class HazardEscalations(MethodView):
    @blp.arguments(EscalationQuerySchema, location="query")
    @blp.response(200, EscalationPageSchema)
    @blp.alt_response(403, description="leads and managers only")
    def get(self, query: dict[str, Any]) -> Any:
        """What the daily overdue job escalated, newest first."""
        return escalation.list_escalations(current_principal(), **query)


@blp.route("/<uuid:hazard_id>")
class HazardItem(MethodView):
    @blp.response(200, HazardDetailSchema)
    @blp.alt_response(404, description="no such hazard in your agency")
    def get(self, hazard_id: uuid.UUID) -> Any:
        """One hazard with its lifecycle, what you may do next and its full history."""
        return _detail(current_principal(), hazard_id)


@blp.route("/<uuid:hazard_id>/transitions")
class HazardTransitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, HazardDetailSchema)
    @blp.alt_response(403, description="your role may not take this step")
    @blp.alt_response(404, description="no such hazard in your agency")
    @blp.alt_response(
        409,
        description=(
            "`illegal_transition`: not possible from the current status; `details` holds "
            "`status` and `allowed` (the steps possible now)"
        ),
    )
    def post(self, data: dict[str, Any], hazard_id: uuid.UUID) -> Any:
        """Take a lifecycle step not done on a device: supervise, sign off, lift a stop..."""
        principal = current_principal()
        payload = dict(data)
        action = payload.pop("action")
        take_step(principal, hazard_id, action, payload)
        return _detail(principal, hazard_id)
