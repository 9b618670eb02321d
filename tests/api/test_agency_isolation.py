"""A user of one agency never sees, changes or even learns of another agency's rows."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.extensions import db
from server.models import Enterprise
from server.models.scoping import bind_agency


def _two_agencies(world):
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    theirs = world.enterprise(world.headers("manager", agency="hexi"))
    ours = world.headers("manager")
    return ours, theirs


def test_every_row_route_answers_404_for_another_agencys_enterprise(world, client) -> None:
    ours, theirs = _two_agencies(world)
    path = f"/api/v1/enterprises/{theirs['id']}"
    assert client.get(path, headers=ours).status_code == 404
    assert client.patch(path, json={"name": "改名"}, headers=ours).status_code == 404
    # And they look exactly like ids that never existed.
    never = client.get(f"/api/v1/enterprises/{uuid.uuid4()}", headers=ours)
    assert never.get_json()["error"] == client.get(path, headers=ours).get_json()["error"]


def test_lists_and_searches_never_include_another_agencys_rows(world, client) -> None:
    ours, theirs = _two_agencies(world)
    listed = client.get("/api/v1/enterprises", headers=ours).get_json()
    assert listed["total"] == 0
    searched = client.get(f"/api/v1/enterprises?q={theirs['uscc']}", headers=ours).get_json()
    assert searched["items"] == []


def test_a_session_bound_to_an_agency_filters_every_query(world, app) -> None:
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.enterprise(world.headers("lead"))
    world.enterprise(world.headers("lead", agency="hexi"))
    with app.app_context():
        all_rows = db.session.scalars(sa.select(Enterprise)).all()
        assert len(all_rows) == 2
        nankai = all_rows[0].agency_id
        db.session.expunge_all()
    with app.app_context():
        bind_agency(db.session, nankai)
        seen = db.session.scalars(sa.select(Enterprise)).all()
        counted = db.session.scalar(sa.select(sa.func.count(Enterprise.id)))
        assert [e.agency_id for e in seen] == [nankai]
        assert counted == 1


def test_writing_another_agencys_row_through_a_bound_session_fails(world, app) -> None:
    world.agency()
    other = world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.enterprise(world.headers("lead"))
    with app.app_context():
        ours = db.session.scalars(sa.select(Enterprise)).one()
        bind_agency(db.session, ours.agency_id)
        db.session.add(
            Enterprise(agency_id=other.id, uscc=world.uscc(), name="x", industry="other")
        )
        try:
            db.session.flush()
        except PermissionError:
            db.session.rollback()
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("a row of another agency was written")
