"""Hazard counts: from the hazards themselves, or from the monthly counts kept in step here.

The monthly counts (``models/hazard_counts.py``) and each hazard's copy of its enterprise's
industry follow every change made through an ORM session, at flush time and so in the same
transaction (and savepoint) as the change:

- a new hazard takes its enterprise's industry, and is counted;
- a hazard changing status, level or supervision moves from its old key to its new one;
- an enterprise changing industry moves its hazards, and their copies, to the new industry;
- an inspection changing team moves its hazards from the old members to the new ones;
- a user changing unit moves the hazards of the teams they were on; an agency changing zone
  has its counts rebuilt.

The rows read for this (the enterprise, the inspection) are read ``FOR SHARE`` on PostgreSQL,
so a concurrent change of the industry or the team waits for the hazard's transaction, and the
other way round. ``live_counts`` and ``live_finders`` are the definition of the counts:
``recount`` rebuilds an agency's monthly counts from them month by month, and the statistics
use them for the days of a period that do not fill a whole month.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.database import any_of, dialect_insert
from server.domain import hazards as lifecycle
from server.domain.errors import NotFound
from server.extensions import AnySelect, Model, SessionLike, db
from server.models import (
    Agency,
    AgencyScoped,
    Enterprise,
    Hazard,
    HazardCount,
    HazardFinderCount,
    HazardUnitCount,
    Inspection,
    RecordMember,
    User,
)

Scoped = Callable[..., AnySelect]


# --- periods ------------------------------------------------------------------------------


def add_month(month: date, n: int = 1) -> date:
    return lifecycle.add_months(month, n)


def month_of(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Coverage:
    """A period split into whole months (``first``..``last``, None for open-ended) that the
    monthly counts answer, and the days at its edges that the hazards answer."""

    months: bool
    first: date | None = None
    last: date | None = None
    edges: tuple[tuple[date, date], ...] = ()


def coverage(start: date | None, end: date | None) -> Coverage:
    first = start if start is None or start.day == 1 else add_month(start.replace(day=1))
    if end is None:
        last = None
    elif add_month(end.replace(day=1)) - timedelta(days=1) == end:
        last = end.replace(day=1)
    else:
        last = add_month(end.replace(day=1), -1)
    if first is not None and last is not None and first > last:
        assert start is not None and end is not None
        return Coverage(months=False, edges=((start, end),))
    edges = []
    if start is not None and first is not None and start < first:
        edges.append((start, first - timedelta(days=1)))
    if end is not None and last is not None and end >= add_month(last):
        edges.append((add_month(last), end))
    return Coverage(months=True, first=first, last=last, edges=tuple(edges))


# --- counting from the hazards -------------------------------------------------------------


class StateCount(NamedTuple):
    status: str
    level: str
    industry: str
    supervised: bool
    n: int


class FinderCount(NamedTuple):
    industry: str | None
    level: str | None
    key: Any  # a user id, or a unit
    n: int
    n_open: int




def _open(column: Any = Hazard.status) -> Any:
    return sa.case((column.in_(sorted(lifecycle.OPEN_STATUSES)), 1), else_=0)


def live_counts(scoped: Scoped) -> list[StateCount]:
    """The hazards ``scoped`` selects, by status, level, industry and supervision."""
    keys = (Hazard.status, Hazard.level, Hazard.industry, Hazard.supervised)
    rows = db.session.execute(scoped(*keys, sa.func.count()).group_by(*keys))
    return [StateCount(s, lvl, i, bool(sup), n) for s, lvl, i, sup, n in rows]


def live_finders(scoped: Scoped) -> tuple[list[FinderCount], list[FinderCount]]:
    """The hazards ``scoped`` selects, per member of the finding team and per unit of its
    members, by industry and level (see ``HazardUnitCount``): per inspection first, then over
    its team."""
    keys = (Hazard.inspection_id, Hazard.industry, Hazard.level)
    rows = db.session.execute(
        scoped(*keys, sa.func.count(), sa.func.sum(_open())).group_by(*keys)
    ).all()
    # The teams from record_members' primary key, in slices: an IN list has a bounded length.
    connection = db.session.connection()
    members = RecordMember.__table__
    ids = sorted({r[0] for r in rows})
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for i in range(0, len(ids), 5000):
        for inspection_id, user_id in connection.execute(
            sa.select(members.c.record_id, members.c.user_id).where(
                members.c.entity == "inspection", any_of(members.c.record_id, ids[i : i + 5000])
            )
        ):
            found[inspection_id].add(user_id)
    teams = {i: frozenset(team) for i, team in found.items()}
    units = _units(connection, set().union(*teams.values()) if teams else ())
    tally = _Deltas()
    for inspection_id, industry, level, n, n_open in rows:
        team = teams.get(inspection_id, ())
        tally.found((industry,), level, team, units, int(n), int(n_open or 0))
    return (
        # Keys here are (industry, level, user or unit): ``found`` was given (industry,).
        [FinderCount._make((*key, n, o)) for key, (n, o) in tally.finders.items()],
        [FinderCount._make((*key, n, o)) for key, (n, o) in tally.units.items()],
    )


# --- reading the monthly counts ---------------------------------------------------------------


def _months(model: Any, agency_id: uuid.UUID, cover: Coverage, level: str | None) -> list[Any]:
    where = [model.agency_id == agency_id]
    if cover.first is not None:
        where.append(model.month >= cover.first)
    if cover.last is not None:
        where.append(model.month <= cover.last)
    if level is not None:
        where.append(model.level == level)
    return where


def monthly_counts(
    agency_id: uuid.UUID, cover: Coverage, *, industry: str | None, level: str | None
) -> list[StateCount]:
    """What ``live_counts`` gives for the whole months of ``cover``."""
    if not cover.months:
        return []
    c = HazardCount
    where = _months(c, agency_id, cover, level)
    if industry is not None:
        where.append(c.industry == industry)
    keys = (c.status, c.level, c.industry, c.supervised)
    rows = db.session.execute(
        sa.select(*keys, sa.func.sum(c.n))
        .where(*where)
        .group_by(*keys)
        .having(sa.func.sum(c.n) > 0)
    )
    return [StateCount(s, lvl, i, bool(sup), int(n)) for s, lvl, i, sup, n in rows]


def monthly_finders(
    agency_id: uuid.UUID, cover: Coverage, *, industry: str | None, level: str | None
) -> tuple[list[FinderCount], list[FinderCount]]:
    """What ``live_finders`` gives for the whole months of ``cover``, summed over the
    industries and levels (``industry`` and ``level`` name the one asked for, or None)."""
    if not cover.months:
        return [], []
    out = []
    for model, key in ((HazardFinderCount, "user_id"), (HazardUnitCount, "unit")):
        column = getattr(model, key)
        where = _months(model, agency_id, cover, level)
        if industry is not None:
            where.append(model.industry == industry)
        rows = db.session.execute(
            sa.select(column, sa.func.sum(model.n), sa.func.sum(model.n_open))
            .where(*where)
            .group_by(column)
            .having(sa.func.sum(model.n) > 0)
        )
        out.append([FinderCount(industry, level, k, int(n), int(o)) for k, n, o in rows])
    return out[0], out[1]


def monthly_found(agency_id: uuid.UUID, first: date, last: date) -> dict[date, int]:
    """Hazards found per month, ``first``..``last``."""
    c = HazardCount
    rows = db.session.execute(
        sa.select(c.month, sa.func.sum(c.n))
        .where(c.agency_id == agency_id, c.month >= first, c.month <= last)
        .group_by(c.month)
    )
    return {month: int(n) for month, n in rows}


# --- keeping them in step ------------------------------------------------------------------


class _Facts(NamedTuple):
    """What a hazard is counted by."""

    agency_id: uuid.UUID
    inspection_id: uuid.UUID
    found_at: datetime
    industry: str
    level: str
    status: str
    supervised: bool


_FACTS = _Facts._fields


@dataclass
class _Deltas:
    counts: dict[tuple[Any, ...], int] = field(default_factory=lambda: defaultdict(int))
    finders: dict[tuple[Any, ...], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    units: dict[tuple[Any, ...], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )

    def hazard(
        self,
        facts: _Facts,
        sign: int,
        zone: ZoneInfo,
        team: Iterable[uuid.UUID],
        units: dict[uuid.UUID, str],
        *,
        counts: bool = True,
        users: bool = True,
    ) -> None:
        """Count (``sign`` 1) or uncount (-1) one hazard found by ``team``: in the counts by
        state, per user and per unit (``counts`` and ``users`` leave the first two out)."""
        month = month_of(facts.found_at, zone)
        if counts:
            key = (facts.agency_id, month, facts.industry, facts.level, facts.status)
            self.counts[(*key, bool(facts.supervised))] += sign
        is_open = sign if facts.status in lifecycle.OPEN_STATUSES else 0
        where = (facts.agency_id, month, facts.industry)
        self.found(where, facts.level, team, units, sign, is_open, users=users)

    def found(
        self,
        where: tuple[Any, ...],
        level: str,
        team: Iterable[uuid.UUID],
        units: dict[uuid.UUID, str],
        n: int,
        n_open: int,
        *,
        users: bool = True,
    ) -> None:
        """Credit ``n`` hazards (``n_open`` of them open) of one inspection to each member of
        its team and to each unit of its members, once per unit however many members it had
        on the team (only members who are users of the agency count, as in the reports)."""
        members = [u for u in team if u in units]
        if users:
            for user_id in members:
                entry = self.finders[(*where, level, user_id)]
                entry[0] += n
                entry[1] += n_open
        for unit in {units[u] for u in members}:
            entry = self.units[(*where, level, unit)]
            entry[0] += n
            entry[1] += n_open

    def write(self, connection: sa.Connection) -> None:
        insert = dialect_insert(connection)
        tables = (
            (HazardCount, ("industry", "level", "status", "supervised"), self.counts),
            (HazardFinderCount, ("industry", "level", "user_id"), self.finders),
            (HazardUnitCount, ("industry", "level", "unit"), self.units),
        )
        for model, keys, deltas in tables:
            names = ("agency_id", "month", *keys)
            rows = []
            # A fixed order: concurrent transactions take the rows' locks in the same order.
            for key in sorted(deltas, key=lambda k: tuple(str(v) for v in k)):
                value = deltas[key]
                values = value if isinstance(value, list) else [value]
                if any(values):
                    row = dict(zip(names, key, strict=True))
                    row.update(zip(("n", "n_open"), values, strict=False))
                    rows.append(row)
            if not rows:
                continue
            connection.execute(_upsert(insert, model, names, connection.dialect.name), rows)


_UPSERTS: dict[tuple[type, str], Any] = {}


def _upsert(insert: Any, model: type[Model], names: tuple[str, ...], dialect: str) -> Any:
    """Add the rows' counts to those stored (built once per table and dialect)."""
    if (model, dialect) not in _UPSERTS:
        table = model.__table__
        stmt = insert(table)
        _UPSERTS[(model, dialect)] = stmt.on_conflict_do_update(
            index_elements=list(names),
            set_={c: table.c[c] + stmt.excluded[c] for c in ("n", "n_open") if c in table.c},
        )
    return _UPSERTS[(model, dialect)]


def _old(obj: Any, key: str) -> Any:
    history = so.attributes.get_history(obj, key)
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, key)


def _changed(obj: Any, key: str) -> bool:
    history = so.attributes.get_history(obj, key)
    if not history.deleted:
        return False
    return history.deleted[0] != getattr(obj, key)


def _facts(obj: Hazard, old: bool = False) -> _Facts:
    value = _old if old else getattr
    return _Facts(*(value(obj, k) for k in _FACTS))


def _uuids(ids: Iterable[Any]) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(str(i)) for i in ids or ())


def _for_share(stmt: AnySelect) -> AnySelect:
    # SQLite has no row locks (its writers take turns on the whole file) and renders nothing.
    return stmt.with_for_update(read=True)


def _zones(connection: sa.Connection, agency_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ZoneInfo]:
    table = Agency.__table__
    rows = connection.execute(
        sa.select(table.c.id, table.c.timezone).where(table.c.id.in_(set(agency_ids)))
    )
    return {a: ZoneInfo(tz) for a, tz in rows}


def _teams(
    connection: sa.Connection, ids: Iterable[uuid.UUID], *, lock: bool = True
) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    """The inspections' teams as the session wrote them (``record_members`` follows them
    in the same transaction, but later), ``FOR SHARE`` by default."""
    table = Inspection.__table__
    ids = set(ids)
    if not ids:
        return {}
    stmt = sa.select(table.c.id, table.c.inspector_ids).where(table.c.id.in_(ids))
    rows = connection.execute(_for_share(stmt) if lock else stmt)
    return {i: _uuids(team) for i, team in rows}


def _units(connection: sa.Connection, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    table = User.__table__
    ids = set(user_ids)
    if not ids:
        return {}
    rows = connection.execute(sa.select(table.c.id, table.c.unit).where(table.c.id.in_(ids)))
    return {u: unit for u, unit in rows}


def _stored_facts(connection: sa.Connection, where: Any) -> dict[uuid.UUID, _Facts]:
    """The stored hazards ``where`` selects, by id, locked until the transaction ends."""
    table = Hazard.__table__
    rows = connection.execute(
        sa.select(table.c.id, *(table.c[k] for k in _FACTS)).where(where).with_for_update()
    )
    return {r[0]: _Facts(*r[1:]) for r in rows}


_BEFORE = "hazard_counts_before"


def _changes(obj: Hazard) -> dict[str, Any]:
    """The counted attributes this flush writes, with their new values."""
    return {k: getattr(obj, k) for k in _FACTS if _changed(obj, k)}


def _before_flush(session: so.Session, flush_context: Any, instances: Any) -> None:
    """Read, and lock, what the hazards of this flush are counted by before it writes them.

    In a fixed order (enterprises, inspections, hazards): a new hazard takes its enterprise's
    industry; the teams are read as they stand; a changed hazard is read as stored (``FOR
    UPDATE``: its counts move from the row it replaces, whoever wrote that row).
    """
    session.info.pop(_BEFORE, None)
    new = [o for o in session.new if isinstance(o, Hazard)]
    changed = {o: c for o in session.dirty if isinstance(o, Hazard) and (c := _changes(o))}
    if not new and not changed:
        return
    with session.no_autoflush:
        connection = session.connection()
        if new:
            table = Enterprise.__table__
            rows = connection.execute(
                _for_share(
                    sa.select(table.c.id, table.c.industry).where(
                        table.c.id.in_({o.enterprise_id for o in new})
                    )
                )
            )
            industries = {e: industry for e, industry in rows}
            for obj in new:
                obj.industry = industries.get(obj.enterprise_id, obj.industry)
        inspection_ids = {o.inspection_id for o in new} | {o.inspection_id for o in changed}
        inspection_ids |= {_old(o, "inspection_id") for o in changed}
        # Inspections new in this flush are not stored yet: their teams are the ones here.
        arriving = {o.id: _uuids(o.inspector_ids) for o in session.new if isinstance(o, Inspection)}
        teams = arriving | _teams(connection, inspection_ids - arriving.keys())
        stored: dict[uuid.UUID, _Facts] = {}
        if changed:
            ids = [o.id for o in changed]
            stored = _stored_facts(connection, Hazard.__table__.c.id.in_(ids))
    session.info[_BEFORE] = (teams, stored, changed)


def _after_flush(session: so.Session, flush_context: Any) -> None:
    noted: tuple[
        dict[uuid.UUID, frozenset[uuid.UUID]], dict[uuid.UUID, _Facts], dict[Hazard, dict[str, Any]]
    ] = session.info.pop(_BEFORE, None) or ({}, {}, {})
    teams_before, stored, changed = noted
    hazards_new = [o for o in session.new if isinstance(o, Hazard)]
    hazards_gone = [o for o in session.deleted if isinstance(o, Hazard)]
    dirty = list(session.dirty)
    industries = [o for o in dirty if isinstance(o, Enterprise) and _changed(o, "industry")]
    teams = [o for o in dirty if isinstance(o, Inspection) and _changed(o, "inspector_ids")]
    people = [o for o in dirty if isinstance(o, User) and _changed(o, "unit")]
    zones_moved = {o.id for o in dirty if isinstance(o, Agency) and _changed(o, "timezone")}
    if not (hazards_new or changed or hazards_gone or industries or teams or people):
        for agency_id in zones_moved:
            recount(agency_id, session=session)
        return
    connection = session.connection()
    deltas = _Deltas()
    # The changes are taken one kind after the other, each in the state the previous left:
    # the hazards under their teams and units as they were, then the teams, then the units,
    # then the industries. The hazards each of those moves are read FOR UPDATE, after the
    # row that changed (the inspection, user, enterprise) was written and so locked: a hazard
    # changing at the same time is counted before or after, never half.
    moved: list[tuple[_Facts | None, _Facts | None]] = [(None, _facts(o)) for o in hazards_new]
    for obj, changes in changed.items():
        was = stored.get(obj.id) or _facts(obj, old=True)
        moved.append((was, was._replace(**changes)))
    moved += [(_facts(o, old=True), None) for o in hazards_gone]
    old_teams = {o.id: _uuids(_old(o, "inspector_ids")) for o in teams}
    old_units = {o.id: _old(o, "unit") for o in people}
    hazards = Hazard.__table__
    stored_teams = [(o, _stored_facts(connection, hazards.c.inspection_id == o.id)) for o in teams]
    stored_people = [_stored_facts(connection, _on_team_of(o.id)) for o in people]
    stored_industries = [
        (o, _stored_facts(connection, hazards.c.enterprise_id == o.id)) for o in industries
    ]
    # Each hazard once, under the units before and after every change of the flush.
    of_people = {h: f for facts in stored_people for h, f in facts.items()}
    of_enterprises = [f for _, facts in stored_industries for f in facts.values()]
    team_of = _teams(connection, {f.inspection_id for f in (*of_people.values(), *of_enterprises)})
    members = set().union(
        *teams_before.values(),
        *old_teams.values(),
        *(_uuids(o.inspector_ids) for o in teams),
        *team_of.values(),
    )
    unit_of = _units(connection, members)
    agency_ids = {f.agency_id for pair in moved for f in pair if f is not None}
    owned: tuple[AgencyScoped, ...] = (*teams, *industries, *people)
    agency_ids |= {o.agency_id for o in owned}
    zone_of = _zones(connection, agency_ids)

    def counted(agency_id: uuid.UUID) -> ZoneInfo | None:
        # An agency whose zone moved is counted again from scratch below.
        return None if agency_id in zones_moved else zone_of[agency_id]

    units_before = {**unit_of, **old_units}
    for before, after in moved:
        for facts, sign in ((before, -1), (after, 1)):
            if facts is not None and (zone := counted(facts.agency_id)):
                team = teams_before.get(facts.inspection_id, frozenset())
                deltas.hazard(facts, sign, zone, team, units_before)
    for inspection, of_team in stored_teams:
        for f in of_team.values():
            if zone := counted(f.agency_id):
                old, new = old_teams[inspection.id], _uuids(inspection.inspector_ids)
                deltas.hazard(f, -1, zone, old, units_before, counts=False)
                deltas.hazard(f, 1, zone, new, units_before, counts=False)
    for f in of_people.values():
        if zone := counted(f.agency_id):
            team = team_of.get(f.inspection_id, frozenset())
            deltas.hazard(f, -1, zone, team, units_before, counts=False, users=False)
            deltas.hazard(f, 1, zone, team, unit_of, counts=False, users=False)
    for enterprise, of_enterprise in stored_industries:
        industry = enterprise.industry
        for f in of_enterprise.values():
            if zone := counted(f.agency_id):
                team = team_of.get(f.inspection_id, frozenset())
                deltas.hazard(f, -1, zone, team, unit_of)
                deltas.hazard(f._replace(industry=industry), 1, zone, team, unit_of)
        connection.execute(
            sa.update(hazards)
            .where(hazards.c.enterprise_id == enterprise.id)
            .values(industry=industry)
        )
        for loaded in session.identity_map.values():
            if isinstance(loaded, Hazard) and loaded.enterprise_id == enterprise.id:
                so.attributes.set_committed_value(loaded, "industry", industry)
    deltas.write(connection)
    for agency_id in zones_moved:
        recount(agency_id, session=session)


def _on_team_of(user_id: uuid.UUID) -> Any:
    members = RecordMember.__table__
    on_team = sa.select(members.c.record_id).where(
        members.c.entity == "inspection", members.c.user_id == user_id
    )
    return Hazard.__table__.c.inspection_id.in_(on_team.scalar_subquery())


def install() -> None:
    if not sa.event.contains(so.Session, "before_flush", _before_flush):
        sa.event.listen(so.Session, "before_flush", _before_flush)
        sa.event.listen(so.Session, "after_flush", _after_flush)


# --- rebuilding them --------------------------------------------------------------------------


def recount(agency_id: uuid.UUID, *, session: SessionLike | None = None) -> int:
    """Rebuild an agency's monthly counts (and its hazards' copies of their enterprise's
    industry) from the hazards; returns how many hazards were counted. Part of the caller's
    transaction."""
    session = session or db.session
    with session.no_autoflush:
        return _recount(session, agency_id)


def _recount(session: SessionLike, agency_id: uuid.UUID) -> int:
    connection = session.connection()
    hazards, enterprises = Hazard.__table__, Enterprise.__table__
    industry = (
        sa.select(enterprises.c.industry)
        .where(enterprises.c.id == hazards.c.enterprise_id)
        .scalar_subquery()
    )
    connection.execute(
        sa.update(hazards)
        .where(hazards.c.agency_id == agency_id, hazards.c.industry != industry)
        .values(industry=industry)
    )
    for model in (HazardCount, HazardFinderCount, HazardUnitCount):
        connection.execute(
            sa.delete(model.__table__).where(model.__table__.c.agency_id == agency_id)
        )
    zone = _zones(connection, [agency_id])[agency_id]
    first, last = connection.execute(
        sa.select(sa.func.min(hazards.c.found_at), sa.func.max(hazards.c.found_at)).where(
            hazards.c.agency_id == agency_id
        )
    ).one()
    if first is None:
        return 0
    total = 0
    month = month_of(first, zone)
    while month <= month_of(last, zone):
        start, end = midnight(month, zone), midnight(add_month(month), zone)

        def scoped(*columns: Any, start: datetime = start, end: datetime = end) -> AnySelect:
            return (
                sa.select(*columns)
                .select_from(Hazard)
                .where(
                    Hazard.agency_id == agency_id, Hazard.found_at >= start, Hazard.found_at < end
                )
            )

        counts = live_counts(scoped)
        users, units = live_finders(scoped)
        deltas = _Deltas()
        for c in counts:
            deltas.counts[(agency_id, month, c.industry, c.level, c.status, c.supervised)] = c.n
            total += c.n
        for target, rows in ((deltas.finders, users), (deltas.units, units)):
            for r in rows:
                key = (agency_id, month, r.industry, r.level, r.key)
                target[key] = [int(r.n), int(r.n_open)]
        deltas.write(connection)
        month = add_month(month)
    return total


def rebuild(codes: list[str] | None = None) -> dict[str, int]:
    """``recount`` the agencies with these codes (every agency by default), in one
    transaction; returns the hazards counted per agency code."""
    stmt = sa.select(Agency).order_by(Agency.code)
    if codes is not None:
        stmt = stmt.where(Agency.code.in_(codes))
    agencies = list(db.session.scalars(stmt))
    unknown = sorted(set(codes or ()) - {a.code for a in agencies})
    if unknown:
        raise NotFound("no such agency: " + ", ".join(unknown))
    counted = {a.code: recount(a.id) for a in agencies}
    db.session.commit()
    return counted
