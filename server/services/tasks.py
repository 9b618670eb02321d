"""Draw tasks: created from a draw, shown on the enterprise card, completed by an inspection."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from server.domain.draw import model as draw_model
from server.domain.errors import ValidationFailed
from server.domain.permissions import INSPECTOR
from server.extensions import db
from server.models import Draw, Hazard, RecordMember, Task
from server.models.types import new_id

OPEN, DONE, CANCELLED = "open", "done", "cancelled"


def create_for_draw(
    draw: Draw,
    assignments: Sequence[draw_model.Assignment],
    *,
    title: str,
    enterprise_names: Mapping[str, str],
    outside_people: Mapping[str, dict[str, Any]],
    due_date: date,
) -> list[Task]:
    """One open task per drawn enterprise (ids, not pseudonyms), visible to its team's devices."""
    tasks = []
    for assignment in assignments:
        outside = [
            {
                "id": o,
                "name": outside_people.get(o, {}).get("name", ""),
                "department": outside_people.get(o, {}).get("department", ""),
                "certificate_no": outside_people.get(o, {}).get("certificate_no"),
            }
            for o in assignment.outside_inspector_ids
        ]
        task = Task(
            id=new_id(),
            agency_id=draw.agency_id,
            draw_id=draw.id,
            plan_id=draw.plan_id,
            period_key=draw.period_key,
            title=f"{title}：{enterprise_names.get(assignment.enterprise_id, '')}"[:300],
            kind="joint" if outside else "random",
            enterprise_id=uuid.UUID(assignment.enterprise_id),
            inspector_ids=list(assignment.inspector_ids),
            outside_inspectors=outside,
            due_date=due_date,
            status=OPEN,
            version=1,
        )
        db.session.add(task)
        for inspector_id in assignment.inspector_ids:
            db.session.add(
                RecordMember(entity="task", record_id=task.id, user_id=uuid.UUID(inspector_id))
            )
        tasks.append(task)
    return tasks


def cancel_open_tasks(draw_id: uuid.UUID) -> int:
    """A redraw voids the earlier draw: its unfinished tasks are cancelled on every phone."""
    cancelled = 0
    for task in db.session.scalars(
        sa.select(Task).where(Task.draw_id == draw_id, Task.status == OPEN)
    ):
        task.status = CANCELLED
        task.version += 1
        cancelled += 1
    return cancelled


def check_completion(
    task: Task | None,
    *,
    enterprise_id: uuid.UUID,
    inspection_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
) -> Task:
    """The rules for an inspection that says it carries out ``task``; raises if it may not."""
    if task is None:
        raise ValidationFailed(
            "no such task", code="unknown_task", fields={"task_id": ["not a task of your agency"]}
        )
    if task.enterprise_id != enterprise_id:
        raise ValidationFailed(
            "the task is for another enterprise",
            code="task_mismatch",
            fields={"task_id": ["assigned at another enterprise"]},
        )
    if role == INSPECTOR and str(user_id) not in task.inspector_ids:
        raise ValidationFailed(
            "this task is assigned to another team",
            code="task_not_assigned",
            fields={"task_id": ["you are not on this task's team"]},
        )
    if task.status == CANCELLED:
        raise ValidationFailed(
            "this task was cancelled by a redraw",
            code="task_cancelled",
            fields={"task_id": ["cancelled"]},
        )
    if task.status == DONE and task.inspection_id != inspection_id:
        raise ValidationFailed(
            "this task was completed by another inspection",
            code="task_done",
            fields={"task_id": [f"done by inspection {task.inspection_id}"]},
        )
    return task


def complete(task: Task, inspection_id: uuid.UUID, at: datetime) -> None:
    if task.status == DONE:
        return
    task.status = DONE
    task.inspection_id = inspection_id
    task.completed_at = at
    task.version += 1


def card_task(task: Task) -> dict[str, Any]:
    """A task as the enterprise card lists it (see services/sync/arrival.py)."""
    return {
        "id": str(task.id),
        "title": task.title,
        "kind": task.kind,
        "draw_id": str(task.draw_id),
        "due_date": task.due_date.isoformat(),
        "inspector_ids": list(task.inspector_ids),
        "outside_inspectors": list(task.outside_inspectors),
    }


def hazards_found(inspection_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not inspection_ids:
        return {}
    rows = db.session.execute(
        sa.select(Hazard.inspection_id, sa.func.count(Hazard.id))
        .where(Hazard.inspection_id.in_(inspection_ids))
        .group_by(Hazard.inspection_id)
    )
    return {inspection_id: int(n) for inspection_id, n in rows}
