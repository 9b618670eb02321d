"""The annual enforcement statistics report, as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.models.types import utcnow
from server.render.downloads import CSV, XLSX, download
from server.schemas.reports import (
    AnnualReportSchema,
    FigureRecordsQuerySchema,
    FigureRecordsSchema,
    KindRecordsQuerySchema,
    ReportQuerySchema,
)
from server.services import report_records, reports

blp = Blueprint(
    "reports", __name__, url_prefix="/api/v1/reports", description="Annual statistics report"
)

# One 200 in several forms; flask-smorest documents only the JSON one by itself.
_FORMATS = {
    "application/json": {"schema": AnnualReportSchema},
    CSV: {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}
_RECORDS_FORMATS = {
    "application/json": {"schema": FigureRecordsSchema},
    CSV: {"schema": {"type": "string"}},
}


@blp.route("/annual")
class AnnualReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, AnnualReportSchema)
    @blp.doc(responses={"200": {"content": _FORMATS}})
    @blp.alt_response(403, description="leads and managers only")
    def get(self, query: dict[str, Any]) -> Any:
        """The year's figures with last year beside them and the change (新增 where last was 0)."""
        report = reports.annual_report(current_principal(), query["year"], utcnow())
        name = f"annual-report-{report.year}"
        if query["format"] == "csv":
            return download(reports.report_csv(report), f"{name}.csv")
        if query["format"] == "xlsx":
            return download(reports.report_xlsx(report), f"{name}.xlsx", XLSX)
        return reports.report_json(report)


@blp.route("/annual/figures/<string:figure>/records")
class FigureRecords(MethodView):
    @blp.arguments(FigureRecordsQuerySchema, location="query")
    @blp.response(200, FigureRecordsSchema)
    @blp.doc(responses={"200": {"content": _RECORDS_FORMATS}})
    @blp.alt_response(403, description="leads and managers only")
    @blp.alt_response(
        404,
        description="`unknown_figure`, or `not_from_records` for a planned figure or a rate",
    )
    def get(self, query: dict[str, Any], figure: str) -> Any:
        """The records a figure of the annual report counts: as many as the figure (a count)
        or whose amounts add up to it (money), by pages; ``format=csv`` gives them all."""
        principal = current_principal()
        if query["format"] == "csv":
            body = reports.figure_records_csv(principal, figure, query["year"], utcnow())
            return download(body, f"{figure}-{query['year']}.csv")
        found = reports.figure_records(
            principal,
            figure,
            query["year"],
            utcnow(),
            page=query["page"],
            per_page=query["per_page"],
        )
        return {**found.__dict__, "label": reports.figure_label(figure)}


_KIND_FILTERS = (
    "enterprise_id",
    "kind",
    "type",
    "level",
    "status",
    "accident",
    "party",
    "opinion",
    "channel",
)


@blp.route("/records/<string:kind>")
class KindRecords(MethodView):
    @blp.arguments(KindRecordsQuerySchema, location="query")
    @blp.response(200, FigureRecordsSchema)
    @blp.doc(responses={"200": {"content": _RECORDS_FORMATS}})
    @blp.alt_response(403, description="leads and managers only")
    @blp.alt_response(404, description="no list of this kind")
    def get(self, query: dict[str, Any], kind: str) -> Any:
        """A year's inspections, documents, hazards, cases, decisions, exemptions, legal
        reviews or complaints (the report's year rule), filtered, by pages, or all as CSV.

        Filters: ``enterprise_id`` for every kind; ``kind`` (inspections), ``type``
        (documents), ``level``/``status`` (hazards), ``status`` (cases), ``accident``
        (decisions), ``party`` (exemptions), ``opinion`` (legal_reviews), ``channel``
        (complaints); another kind's filter is 422."""
        principal = current_principal()
        filters = {k: query.get(k) for k in _KIND_FILTERS}
        if query["format"] == "csv":
            body = reports.kind_records_csv(principal, kind, query["year"], utcnow(), filters)
            return download(body, f"{kind}-{query['year']}.csv")
        found = reports.kind_records(
            principal,
            kind,
            query["year"],
            utcnow(),
            filters,
            page=query["page"],
            per_page=query["per_page"],
        )
        label = report_records.KINDS[kind].label
        return {**found.__dict__, "label": label}
