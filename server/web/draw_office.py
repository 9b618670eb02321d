"""Double-random draws for the lead (双随机抽查): plans, runs, redraws, teams, task progress,
and the recusal registry (回避).

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
A form is read into the API's own shape and loaded by the API's schema, so a page and a
program are held to the same rules; a broken rule shows the form again with what to fix.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from server.domain.draw_plans import STRATIFY_BY, stratum_keys
from server.domain.enterprises import CREDIT_RATINGS, INDUSTRIES, RISK_GRADES, normalize_uscc
from server.domain.errors import ValidationFailed
from server.domain.periods import period_label
from server.models.draws import RECUSAL_SOURCES
from server.schemas.draws import DrawPlanInputSchema, RecusalInputSchema
from server.services import enterprises
from server.services.draws.plans import (
    create_plan,
    get_plan,
    list_plans,
    plan_view,
    pool_candidates,
    update_plan,
)
from server.services.draws.reading import draw_tasks, draw_view, get_draw, list_draws
from server.services.draws.recusals import create_recusal, list_recusals
from server.services.draws.recusals import delete_recusal as remove_recusal
from server.services.draws.running import run_plan
from server.web import messages
from server.web.manager import bp as manager_bp

PERIOD_LABELS = {"month": "每月", "quarter": "每季度", "year": "每年"}
DAY_KIND_LABELS = {"working": "工作日", "calendar": "自然日"}
STRATIFY_LABELS = {"risk": "风险等级", "credit": "信用等级"}
SOURCE_LABELS = {"conflict": "利害关系", "enterprise_request": "企业申请回避"}
TASK_LABELS = {"open": "待检查", "done": "已完成", "cancelled": "已取消"}
TRIGGER_LABELS = {"manual": "手动抽取", "schedule": "定时自动抽取"}
_SPLIT = re.compile(r"[,，、\t]")


# --- rates as people write them: percent -------------------------------------------------------


def percent_to_rate(text: str) -> str:
    """``"10"`` (percent) → ``"0.1"``; anything else is passed on for the schema to refuse."""
    try:
        value = Decimal(text.strip()) / 100
    except InvalidOperation:
        return text
    return format(value.normalize(), "f") if value else "0"


def rate_to_percent(rate: str | None) -> str:
    """``"0.1"`` → ``"10"``; the inverse of ``percent_to_rate`` for the form."""
    if not rate:
        return ""
    try:
        return format((Decimal(rate) * 100).normalize(), "f")
    except InvalidOperation:
        return rate


def stratum_label(key: str) -> str:
    """``risk:good/credit:A`` → ``风险等级好 / 信用A级``."""
    parts = []
    for part in key.split("/"):
        axis, _, value = part.partition(":")
        if axis == "risk":
            parts.append(f"风险等级{RISK_GRADES.get(value, '未评定')}")
        elif axis == "credit":
            parts.append(f"信用{value}级" if value in CREDIT_RATINGS else "信用未评定")
        else:
            parts.append("全部企业")
    return " / ".join(parts)


# --- the plan form ---------------------------------------------------------------------------


def _int_or_text(text: str | None) -> int | str | None:
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _outside_people(text: str, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One person a line: 姓名，部门，执法证号，证件有效期 (the last two may be left out)."""
    known = {(o["name"], o["department"]): o["id"] for o in before}
    people = []
    for line in text.splitlines():
        cells = [c.strip() for c in _SPLIT.split(line)]
        if not any(cells):
            continue
        cells += [""] * (4 - len(cells))
        name, department, cert_no, valid_until = cells[:4]
        person: dict[str, Any] = {
            "name": name,
            "department": department,
            "certificate_no": cert_no or None,
            "certificate_valid_until": valid_until or None,
        }
        if (name, department) in known:
            person["id"] = known[(name, department)]
        people.append(person)
    return people


def plan_from_form(form: MultiDict[str, str], before: dict[str, Any] | None = None) -> dict:
    """The plan form as the API's JSON body (not yet validated)."""
    strata_by = [a for a in form.getlist("strata_by") if a in STRATIFY_BY]
    rates = {}
    for key in stratum_keys(strata_by):
        text = form.get(f"rate:{key}", "").strip()
        if text:
            rates[key] = percent_to_rate(text)
    pool = form.get("inspector_pool", "all")
    return {
        "name": form.get("name", "").strip(),
        "notes": form.get("notes", "").strip(),
        "industries": form.getlist("industries"),
        "risk_grades": form.getlist("risk_grades"),
        "credit_ratings": form.getlist("credit_ratings"),
        "exclude_seriously_dishonest": "exclude_seriously_dishonest" in form,
        "exclude_inspected_within_days": _int_or_text(form.get("exclude_inspected_within_days")),
        "respect_yearly_caps": "respect_yearly_caps" in form,
        "strata_by": strata_by,
        "rates": rates,
        "default_rate": percent_to_rate(form.get("default_rate", "").strip() or "0"),
        "min_targets": _int_or_text(form.get("min_targets")),
        "max_targets": _int_or_text(form.get("max_targets")),
        "inspector_ids": None if pool == "all" else form.getlist("inspector_ids"),
        "team_size": _int_or_text(form.get("team_size")) or 2,
        "outside_inspectors": _outside_people(
            form.get("outside_inspectors", ""), (before or {}).get("outside_inspectors") or []
        ),
        "outside_per_team": _int_or_text(form.get("outside_per_team")) or 0,
        "due_days": _int_or_text(form.get("due_days")) or 20,
        "due_day_kind": form.get("due_day_kind", "working"),
        "cron": form.get("cron", "").strip() or None,
        "period": form.get("period", "quarter"),
        "active": "active" in form,
    }


def _errors(exc: Exception) -> tuple[str, list[str]]:
    """A heading and one line per broken rule, for the form."""
    if isinstance(exc, ma.ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        heading = "填写的内容有误，请按提示修改"
    else:
        assert isinstance(exc, ValidationFailed)
        fields = exc.fields or {"": [exc.message]}
        heading = messages.message_for(exc)
    lines: list[str] = []
    for name, problems in fields.items():
        flat = problems if isinstance(problems, list) else [str(problems)]
        lines.extend(f"{name}: {p}" if name else str(p) for p in flat)
    return heading, lines


def _plan_form(
    plan: dict[str, Any] | None, values: dict[str, Any], *, errors: Any = None, status: int = 200
) -> ResponseReturnValue:
    strata_by = values.get("strata_by") or []
    return render_template(
        "manager/draw_plan_form.html",
        plan=plan,
        values=values,
        rate_keys=stratum_keys(strata_by),
        rate_to_percent=rate_to_percent,
        stratum_label=stratum_label,
        candidates=pool_candidates(g.principal),
        errors=errors,
        RISK_GRADES=RISK_GRADES,
        CREDIT_RATINGS=CREDIT_RATINGS,
        STRATIFY_LABELS=STRATIFY_LABELS,
        PERIOD_LABELS=PERIOD_LABELS,
        DAY_KIND_LABELS=DAY_KIND_LABELS,
        industries=INDUSTRIES,
    ), status


def _validated(form: MultiDict[str, str], before: dict[str, Any] | None) -> dict[str, Any]:
    return DrawPlanInputSchema().load(plan_from_form(form, before))


# --- pages -------------------------------------------------------------------------------------


@manager_bp.get("/draws")
def draw_plans() -> ResponseReturnValue:
    """The agency's draw plans and its latest draws."""
    plans = [plan_view(p) for p in list_plans(g.principal)]
    return render_template(
        "manager/draws.html",
        plans=plans,
        draws=list_draws(g.principal)[:50],
        period_label=period_label,
        PERIOD_LABELS=PERIOD_LABELS,
        TRIGGER_LABELS=TRIGGER_LABELS,
    )


@manager_bp.route("/draw-plans/new", methods=["GET", "POST"])
def new_draw_plan() -> ResponseReturnValue:
    """Create a plan: pool filter, rates per grade, inspectors, team, schedule."""
    if request.method == "GET":
        defaults = DrawPlanInputSchema().load({"name": "新建抽查计划"})
        defaults["name"] = ""
        return _plan_form(None, defaults)
    try:
        plan = create_plan(g.principal, _validated(request.form, None))
    except (ma.ValidationError, ValidationFailed) as exc:
        return _plan_form(None, plan_from_form(request.form), errors=_errors(exc), status=422)
    return redirect(url_for("manager.draw_plan", plan_id=plan.id))


@manager_bp.get("/draw-plans/<uuid:plan_id>")
def draw_plan(plan_id: uuid.UUID) -> ResponseReturnValue:
    """One plan: its settings, its draws, and the buttons to draw or redraw."""
    plan = plan_view(get_plan(g.principal, plan_id))
    return render_template(
        "manager/draw_plan.html",
        plan=plan,
        draws=list_draws(g.principal, plan_id=plan_id),
        candidates={str(u.id): u for u in pool_candidates(g.principal)},
        stratum_label=stratum_label,
        rate_to_percent=rate_to_percent,
        period_label=period_label,
        RISK_GRADES=RISK_GRADES,
        STRATIFY_LABELS=STRATIFY_LABELS,
        PERIOD_LABELS=PERIOD_LABELS,
        DAY_KIND_LABELS=DAY_KIND_LABELS,
        TRIGGER_LABELS=TRIGGER_LABELS,
    )


@manager_bp.route("/draw-plans/<uuid:plan_id>/edit", methods=["GET", "POST"])
def edit_draw_plan(plan_id: uuid.UUID) -> ResponseReturnValue:
    """Change a plan; the whole plan is checked again, as the API does."""
    before = plan_view(get_plan(g.principal, plan_id))
    if request.method == "GET":
        return _plan_form(before, before)
    try:
        update_plan(g.principal, plan_id, _validated(request.form, before))
    except (ma.ValidationError, ValidationFailed) as exc:
        values = plan_from_form(request.form, before)
        return _plan_form(before, values, errors=_errors(exc), status=422)
    return redirect(url_for("manager.draw_plan", plan_id=plan_id))


@manager_bp.post("/draw-plans/<uuid:plan_id>/run")
def run_draw_plan(plan_id: uuid.UUID) -> ResponseReturnValue:
    """Draw the plan for the current period; a redraw needs its public reason."""
    reason = request.form.get("redraw_reason", "").strip()[:1000] or None
    draw = run_plan(g.principal, plan_id, redraw_reason=reason)
    return redirect(url_for("manager.draw", draw_id=draw.id))


@manager_bp.get("/draws/<uuid:draw_id>")
def draw(draw_id: uuid.UUID) -> ResponseReturnValue:
    """One draw: the teams drawn, each task's progress, the redraw form, the public page."""
    view = draw_view(get_draw(g.principal, draw_id))
    progress = draw_tasks(g.principal, draw_id)
    return render_template(
        "manager/draw.html",
        d=view,
        progress=progress,
        tasks={str(t["id"]): t for t in progress["tasks"]},
        stratum_label=stratum_label,
        rate_to_percent=rate_to_percent,
        period_label=period_label,
        TASK_LABELS=TASK_LABELS,
        TRIGGER_LABELS=TRIGGER_LABELS,
    )


# --- recusals ----------------------------------------------------------------------------------


def _recusal_page(errors: Any = None, values: Any = None, status: int = 200) -> ResponseReturnValue:
    registry = list_recusals(g.principal)
    people = {u.id: u for u in pool_candidates(g.principal)}
    names = {e.id: e for e in enterprises.enterprises_by_id([r.enterprise_id for r in registry])}
    return render_template(
        "manager/recusals.html",
        recusals=registry,
        people=people,
        enterprises=names,
        errors=errors,
        values=values or {},
        SOURCE_LABELS=SOURCE_LABELS,
        sources=RECUSAL_SOURCES,
    ), status


@manager_bp.route("/recusals", methods=["GET", "POST"])
def recusals() -> ResponseReturnValue:
    """The recusal registry: who is never drawn for which enterprise; register one."""
    if request.method == "GET":
        return _recusal_page()
    form = request.form
    try:
        uscc = normalize_uscc(form.get("uscc", ""))
        found = enterprises.list_enterprises(q=uscc, per_page=5).items
        match = next((e for e in found if e.uscc == uscc), None)
        if match is None:
            raise ValidationFailed(
                "该统一社会信用代码不在本单位的企业名录中", fields={"uscc": ["不在企业名录中"]}
            )
        data = RecusalInputSchema().load(
            {
                "inspector_id": form.get("inspector_id", ""),
                "enterprise_id": str(match.id),
                "source": form.get("source", ""),
                "reason": form.get("reason", "").strip(),
            }
        )
        create_recusal(g.principal, data)
    except (ma.ValidationError, ValidationFailed) as exc:
        return _recusal_page(errors=_errors(exc), values=form, status=422)
    return redirect(url_for("manager.recusals"))


@manager_bp.post("/recusals/<uuid:recusal_id>/delete")
def delete_recusal(recusal_id: uuid.UUID) -> ResponseReturnValue:
    """Remove a recusal; later draws may send the inspector there again."""
    remove_recusal(g.principal, recusal_id)
    return redirect(url_for("manager.recusals"))
