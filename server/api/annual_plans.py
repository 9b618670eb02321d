"""The annual enforcement plan (年度执法计划) and its completion."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.reports import CompletionSchema, PlanInputSchema, PlanSchema
from server.services import annual_plan

blp = Blueprint(
    "annual_plans",
    __name__,
    url_prefix="/api/v1/annual-plans",
    description="The annual plan: key enterprises, general inspections, yearly caps",
)


@blp.route("/<int(min=2000,max=2100):year>")
class PlanItem(MethodView):
    @blp.response(200, PlanSchema)
    def get(self, year: int) -> Any:
        """The agency's plan for a year."""
        return annual_plan.get_plan(current_principal(), year)

    @blp.arguments(PlanInputSchema)
    @blp.response(200, PlanSchema)
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Set or replace the plan for a year."""
        return annual_plan.put_plan(current_principal(), year, data)


@blp.route("/<int(min=2000,max=2100):year>/completion")
class PlanCompletion(MethodView):
    @blp.response(200, CompletionSchema)
    def get(self, year: int) -> Any:
        """Completion counted live from the year's inspections: per row, category, overall."""
        return annual_plan.plan_completion(current_principal(), year)
