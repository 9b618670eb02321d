"""Double-random draws (双随机): plans, runs, draws, verification, task progress, recusals."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.common import partial_update
from server.schemas.draws import (
    DrawPlanInputSchema,
    DrawPlanPatchSchema,
    DrawPlanSchema,
    DrawQuerySchema,
    DrawSchema,
    DrawSummarySchema,
    RecusalInputSchema,
    RecusalQuerySchema,
    RecusalSchema,
    RunSchema,
    TaskProgressSchema,
    VerifySchema,
)
from server.services.draws.plans import create_plan, get_plan, list_plans, plan_view, update_plan
from server.services.draws.reading import draw_tasks, draw_view, get_draw, list_draws, verify_draw
from server.services.draws.recusals import create_recusal, delete_recusal, list_recusals
from server.services.draws.running import run_plan

blp = Blueprint("draws", __name__, url_prefix="/api/v1", description="Double-random draws (双随机)")


@blp.route("/draw-plans")
class DrawPlanCollection(MethodView):
    @blp.response(200, DrawPlanSchema(many=True))
    def get(self) -> Any:
        """The agency's draw plans (lead, manager)."""
        return [plan_view(p) for p in list_plans(current_principal())]

    @blp.arguments(DrawPlanInputSchema)
    @blp.response(201, DrawPlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draw plan; a plan that could never be drawn lawfully is refused (422)."""
        return plan_view(create_plan(current_principal(), data))


@blp.route("/draw-plans/<uuid:plan_id>")
class DrawPlanItem(MethodView):
    @blp.response(200, DrawPlanSchema)
    def get(self, plan_id: uuid.UUID) -> Any:
        """One plan, with its next scheduled run and that run's seed commitment."""
        return plan_view(get_plan(current_principal(), plan_id))

    @blp.arguments(partial_update(DrawPlanPatchSchema))
    @blp.response(200, DrawPlanSchema)
    def patch(self, changes: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """Change some settings of a plan; the whole plan is checked again."""
        return plan_view(update_plan(current_principal(), plan_id, changes))


@blp.route("/draw-plans/<uuid:plan_id>/run")
class DrawPlanRun(MethodView):
    @blp.arguments(RunSchema)
    @blp.response(201, DrawSchema)
    @blp.alt_response(409, description="drawn for this period already (give a redraw_reason)")
    def post(self, body: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """Draw the plan for the current period; a second draw needs a public redraw_reason."""
        principal = current_principal()
        draw = run_plan(principal, plan_id, redraw_reason=body.get("redraw_reason"))
        return draw_view(draw)


@blp.route("/draws")
class DrawCollection(MethodView):
    @blp.arguments(DrawQuerySchema, location="query")
    @blp.response(200, DrawSummarySchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The agency's draws, newest first."""
        return list_draws(current_principal(), plan_id=query.get("plan_id"))


@blp.route("/draws/<uuid:draw_id>")
class DrawItem(MethodView):
    @blp.response(200, DrawSchema)
    def get(self, draw_id: uuid.UUID) -> Any:
        """Seed, fingerprint, algorithm, parameters and result (enterprise → team)."""
        return draw_view(get_draw(current_principal(), draw_id))


@blp.route("/draws/<uuid:draw_id>/verify")
class DrawVerify(MethodView):
    @blp.response(200, VerifySchema)
    def get(self, draw_id: uuid.UUID) -> Any:
        """Recompute the draw from its published inputs and seed; say whether it matches."""
        return verify_draw(current_principal(), draw_id)


@blp.route("/draws/<uuid:draw_id>/tasks")
class DrawTasks(MethodView):
    @blp.response(200, TaskProgressSchema)
    def get(self, draw_id: uuid.UUID) -> Any:
        """Progress of the draw's tasks: open, done (with hazards found), cancelled, overdue."""
        return draw_tasks(current_principal(), draw_id)


@blp.route("/recusals")
class RecusalCollection(MethodView):
    @blp.arguments(RecusalQuerySchema, location="query")
    @blp.response(200, RecusalSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The recusal registry (回避): who is never drawn for which enterprise."""
        return list_recusals(current_principal(), **query)

    @blp.arguments(RecusalInputSchema)
    @blp.response(201, RecusalSchema)
    @blp.alt_response(409, description="this pair is registered already")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a conflict or an enterprise's recusal request."""
        return create_recusal(current_principal(), data)


@blp.route("/recusals/<uuid:recusal_id>")
class RecusalItem(MethodView):
    @blp.response(204)
    def delete(self, recusal_id: uuid.UUID) -> None:
        """Remove a recusal; later draws may send the inspector there again."""
        delete_recusal(current_principal(), recusal_id)
