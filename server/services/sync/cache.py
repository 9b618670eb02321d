"""What one push batch reads, loaded in a few queries instead of a few per op."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.database import in_list, insert_rows, on_postgresql, row_of
from server.domain import numbering
from server.domain.inspections import Officer
from server.extensions import db
from server.models import Inspection, Scan, User
from server.models.scoping import check_writes
from server.services import attachments
from server.services.numbering import CounterKey, Counters
from server.services.sync import feed
from server.services.sync.outcomes import NeedsWriter

_MISSING = object()
_T = TypeVar("_T")

# Records a batch creates that go to the database as rows, one statement a table, instead of
# through the ORM's flush (a statement a row, and most of a batch's write time). Only models
# whose flush does nothing more than the feed and the agency fence (both done for them in
# ``_write_new``): hazards (their monthly counts follow the flush), documents and reports stay
# with the ORM.
WRITTEN_AS_ROWS = (Scan, Inspection)


def _by_ids(model: Any, lock: bool) -> sa.Select[Any]:
    """``model``'s records with ids in ``:ids``."""
    return _by_ids_on(model, lock, on_postgresql())


# Statements are built once per model and database (building one costs more than running
# it on a handful of ids).
@functools.cache
def _by_ids_on(model: Any, lock: bool, postgresql: bool) -> sa.Select[Any]:
    stmt = sa.select(model).where(in_list(model.id, "ids", postgresql=postgresql))
    if lock:
        stmt = stmt.order_by(model.id).with_for_update().execution_options(populate_existing=True)
    return stmt


def _stamps(models: tuple[type[Any], ...]) -> sa.CompoundSelect[Any]:
    """What tells whether records changed, for every model in one statement: each model's
    rows with ids in ``:ids<n>`` (n its place in ``models``), as (n, id, agency, version,
    updated_at). Every writer bumps ``version`` of what devices see, and the ORM sets
    ``updated_at`` on any update.

    By primary key alone, the agency told apart by the caller: with ``agency_id = ...`` in
    the query the planner may walk the agency's whole index when its statistics lag behind
    a busy day's inserts (a batch's look-up grew with every batch before)."""
    return _stamps_on(models, on_postgresql())


@functools.cache
def _stamps_on(models: tuple[type[Any], ...], postgresql: bool) -> sa.CompoundSelect[Any]:
    return sa.union_all(
        *(
            sa.select(
                sa.literal(n).label("n"),
                table.c.id,
                table.c.agency_id,
                table.c.version,
                table.c.updated_at,
            ).where(in_list(table.c.id, f"ids{n}", postgresql=postgresql))
            for n, table in enumerate(m.__table__ for m in models)
        )
    )


def _owners(table: sa.Table) -> sa.Select[Any]:
    """(id, agency) of ``table``'s rows with ids in ``:ids``, whatever the agency."""
    return _owners_on(table, on_postgresql())


@functools.cache
def _owners_on(table: sa.Table, postgresql: bool) -> sa.Select[Any]:
    stmt: sa.Select[Any] = sa.select(table.c.id, table.c.agency_id)
    return stmt.where(in_list(table.c.id, "ids", postgresql=postgresql))


def _stamp(record: Any) -> tuple[Any, ...]:
    return (record.version, record.updated_at)


class BatchCache:
    """Records, officers, attachments and document counters of one agency for one batch.

    Records created during the batch are registered too, so later ops of the same batch find
    them without a query. The batch runs without autoflush (one flush at its end instead of
    one per query): a query that must see the batch's own changes asks ``read`` for the rows
    the batch has not touched and adds ``touched`` records, whose state in memory is current.
    """

    def __init__(self, agency_id: uuid.UUID) -> None:
        self.agency_id = agency_id
        self.agency: Any = None  # the agency's row, when the batch has read it (a push)
        # model -> id -> record (or _MISSING: looked for, not stored)
        self._records: dict[type, dict[uuid.UUID, Any]] = defaultdict(dict)
        self._officers: dict[uuid.UUID, Officer] | None = None
        self._stored_shas: set[str] = set()
        self._checked_shas: set[str] = set()
        self.numbers = Counters(agency_id)
        # Rows only ever inserted (audit, members, new ledger entries): one executemany each.
        self.rows: dict[type[Any], list[dict[str, Any]]] = defaultdict(list)
        self._memo: dict[Any, Any] = {}
        # Counters the batch may number from, locked when it first numbers.
        self._expected_counters: set[CounterKey] = set()
        # Documents created but not numbered yet, in the order of their ops, and the op
        # results that carry their numbers.
        self._unnumbered: dict[uuid.UUID, tuple[Any, str]] = {}
        self._number_results: dict[uuid.UUID, dict[str, Any]] = {}
        # On a snapshot (see push.py): steps that must write raise NeedsWriter, and what
        # was read of each record (its stamp, None when missing) is kept for ``unchanged``.
        self.optimistic = False
        self._read: dict[type, dict[uuid.UUID, tuple[Any, ...] | None]] = defaultdict(dict)
        # Ids asked of ``taken_elsewhere``, and those of them another agency's records hold.
        self._elsewhere_checked: dict[type[Any], set[uuid.UUID]] = defaultdict(set)
        self._elsewhere: dict[type, set[uuid.UUID]] = defaultdict(set)
        # Records created by the batch and not written yet (of WRITTEN_AS_ROWS), in order.
        self._new: list[Any] = []

    def _stored(
        self, ids: Mapping[type[Any], Iterable[uuid.UUID]]
    ) -> dict[type[Any], dict[uuid.UUID, tuple[Any, ...]]]:
        """Of these ids, the ones stored for the agency, with their (version, updated_at):
        one statement for every model. Ids another agency's records hold are noted for
        ``taken_elsewhere`` on the way."""
        models = tuple(sorted((m for m, wanted in ids.items() if wanted), key=str))
        found: dict[type[Any], dict[uuid.UUID, tuple[Any, ...]]] = {m: {} for m in models}
        if not models:
            return found
        params: dict[str, Any] = {f"ids{n}": list(ids[m]) for n, m in enumerate(models)}
        with db.session.no_autoflush:
            rows = db.session.connection().execute(_stamps(models), params)
            for n, record_id, agency_id, version, updated_at in rows:
                if agency_id == self.agency_id:
                    found[models[n]][record_id] = (version, updated_at)
                else:
                    self._elsewhere[models[n]].add(record_id)
        for n, model in enumerate(models):
            self._elsewhere_checked[model].update(params[f"ids{n}"])
        return found

    def writer_only(self) -> None:
        """Raise NeedsWriter on a snapshot: what follows must see or change current rows."""
        if self.optimistic:
            raise NeedsWriter()

    def unchanged(self) -> bool:
        """Whether every record and attachment the batch read is still as it read them.

        Run as the writer, after applying the batch on a snapshot: when so, the batch
        would have come to the same results applied as the writer."""
        for model, stored in self._stored(self._read).items():
            if {i: stored.get(i) for i in self._read[model]} != self._read[model]:
                return False
        missing = self._checked_shas - self._stored_shas
        if missing:
            if set(attachments.missing_attachments(self.agency_id, sorted(missing))) != missing:
                return False
        return True

    def memo(self, key: Any, compute: Callable[[], _T]) -> _T:
        """A value computed once per batch (settings, policies: nothing the batch changes)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # records ---------------------------------------------------------------------------------

    def preload(self, model: type[Any], ids: Iterable[uuid.UUID], *, lock: bool = False) -> None:
        """Read these records; with ``lock``, ``FOR UPDATE`` in id order (PostgreSQL; SQLite
        runs one writer at a time anyway), so that a concurrent batch changing one of them
        waits for this one and then reads what it wrote."""
        known = self._records[model]
        wanted = {i for i in ids if i not in known}
        if not wanted:
            return
        found = db.session.scalars(_by_ids(model, lock), {"ids": list(wanted)})
        read = self._read[model]
        for record in found:
            known[record.id] = record
            read[record.id] = _stamp(record)
        for missing in wanted:
            if known.setdefault(missing, _MISSING) is _MISSING:
                read[missing] = None

    def preload_many(self, wanted: dict[type, set[uuid.UUID]]) -> None:
        """``preload`` for several models; first one statement finds which of the ids are
        stored at all (and which another agency holds), so a batch of new records reads
        nothing more: one statement for its scans, inspections, hazards and documents."""
        todo = {m: {i for i in ids if i not in self._records[m]} for m, ids in wanted.items()}
        todo = {m: ids for m, ids in todo.items() if ids}
        if todo:
            for model, stored in self._stored(todo).items():
                for missing in todo[model] - stored.keys():
                    self._records[model][missing] = _MISSING
                    self._read[model][missing] = None
                todo[model] = set(stored)
        for model, ids in todo.items():
            self.preload(model, ids)

    def get(self, model: type[Any], record_id: uuid.UUID) -> Any:
        known = self._records[model]
        if record_id not in known:
            with db.session.no_autoflush:
                record = db.session.get(model, record_id)
            known[record_id] = _MISSING if record is None else record
            self._read[model][record_id] = None if record is None else _stamp(record)
        record = known[record_id]
        return None if record is _MISSING else record

    def taken_elsewhere(self, model: type[Any], record_id: uuid.UUID) -> bool:
        """Whether another agency's record of ``model`` has this id (ids are global keys).

        Asked before a create: the first question for a model also asks for every id of it
        the batch looked for and did not find, so a batch of creates costs one query."""
        checked = self._elsewhere_checked[model]
        if record_id not in checked:
            ids = {i for i, r in self._records[model].items() if r is _MISSING} | {record_id}
            ids -= checked
            table = model.__table__
            # By primary key alone (see _stamps), the agency told apart here.
            stmt = _owners(table)
            with db.session.no_autoflush:
                rows = db.session.connection().execute(stmt, {"ids": list(ids)})
                self._elsewhere[model].update(i for i, a in rows if a != self.agency_id)
            checked |= ids
        return record_id in self._elsewhere[model]

    def add(self, record: Any) -> None:
        self._records[type(record)][record.id] = record

    def create(self, record: Any) -> None:
        """A record the batch creates: written as a row with the batch's others when its
        model is one of WRITTEN_AS_ROWS, else added to the session for its flush."""
        if type(record) in WRITTEN_AS_ROWS:
            self._new.append(record)
        else:
            db.session.add(record)
        self.add(record)

    def touched(self, model: type[Any]) -> list[Any]:
        """The records of ``model`` this batch has read or written, as they stand in memory."""
        return [r for r in self._records[model].values() if r is not _MISSING]

    def touched_ids(self, model: type[Any]) -> set[uuid.UUID]:
        return {i for i, r in self._records[model].items() if r is not _MISSING}

    def read(self, model: type[Any], stmt: sa.Select[Any]) -> sa.Result[Any]:
        """Run ``stmt`` (a select of ``model``) on what is stored, leaving out the records this
        batch touched: the caller takes those from ``touched``, so each row counts once and
        in its current state, whether or not it was flushed yet."""
        ids = self.touched_ids(model)
        if ids:
            stmt = stmt.where(model.id.not_in(ids))
        with db.session.no_autoflush:
            return db.session.execute(stmt)

    def snapshot(self) -> tuple[Any, ...]:
        """What ``restore`` needs to forget an op rolled back to a savepoint."""
        return (
            {model: dict(known) for model, known in self._records.items()},
            {model: list(rows) for model, rows in self.rows.items()},
            self.numbers.snapshot(),
            dict(self._unnumbered),
            dict(self._number_results),
            list(self._new),
        )

    def restore(self, state: tuple[Any, ...]) -> None:
        records, rows, numbers, unnumbered, results, new = state
        self._new = list(new)
        self._records = defaultdict(dict, {model: dict(k) for model, k in records.items()})
        self.rows = defaultdict(list, {model: list(r) for model, r in rows.items()})
        self.numbers.restore(numbers)
        self._unnumbered = dict(unnumbered)
        self._number_results = dict(results)

    def write_rows(self) -> None:
        """Number the documents created so far, then insert the collected rows (records they
        refer to are flushed first). The batch's one way to the database before commit."""
        self.writer_only()
        self.number_documents()
        if not any(self.rows.values()) and not self._new:
            return
        self._write_new()  # first: what the session flushes may refer to them
        db.session.flush()
        connection = db.session.connection()
        for model, rows in self.rows.items():
            # The table, not the mapped class: the ORM's bulk path costs more than the rows
            # take to write, and the rows carry column keys already.
            insert_rows(connection, model.__table__, rows)
        self.rows.clear()

    def _write_new(self) -> None:
        """Insert the records created since the last write, a statement a table in foreign
        key order, then hand them to the session as stored: a later change in the batch is
        flushed as an update, and the feed gives them their positions at commit."""
        new, self._new = self._new, []
        if not new:
            return
        check_writes(db.session, new)
        connection = db.session.connection()
        for model in WRITTEN_AS_ROWS:  # in foreign key order: inspections name their scan
            rows = [row_of(r) for r in new if type(r) is model]
            if rows:
                insert_rows(connection, model.__table__, rows)
        for record in new:
            so.make_transient_to_detached(record)
        db.session.add_all(new)
        feed.written(db.session, new)

    # officers --------------------------------------------------------------------------------

    def officers(self) -> dict[uuid.UUID, Officer]:
        if self._officers is None:
            users = db.session.execute(
                sa.select(
                    User.id, User.role, User.cert_no, User.cert_valid_until, User.active
                ).where(User.agency_id == self.agency_id)
            )
            self._officers = {u.id: Officer(*u) for u in users}
        return self._officers

    # attachments -----------------------------------------------------------------------------

    def preload_attachments(self, shas: Iterable[str]) -> None:
        wanted = set(shas) - self._checked_shas
        if not wanted:
            return
        missing = set(attachments.missing_attachments(self.agency_id, sorted(wanted)))
        self._stored_shas |= wanted - missing
        self._checked_shas |= wanted

    def missing_attachments(self, shas: Iterable[str]) -> list[str]:
        shas = list(dict.fromkeys(shas))
        unknown = [s for s in shas if s not in self._checked_shas]
        if unknown:
            # Uploaded since the batch started (or never asked): ask again.
            self._checked_shas.difference_update(unknown)
            self.preload_attachments(unknown)
        return [s for s in shas if s not in self._stored_shas]

    # document counters -----------------------------------------------------------------------

    def expect_counters(self, keys: Iterable[CounterKey]) -> None:
        """Counters the batch may number from: all locked together, in order, when it first
        numbers (see ``number_later``)."""
        self._expected_counters |= set(keys)

    def number_later(self, document: Any, abbr: str) -> None:
        """Give ``document`` its serial and number when the batch is written, not now.

        A counter row stays locked from its first use to the commit, and every batch that
        issues a document of that type and year waits for it; numbered at the end, batches
        run side by side until they write. Documents are numbered in the order they were
        created, so serials follow the ops; one rolled back (a held op that failed) takes
        none."""
        self._unnumbered[document.id] = (document, abbr)

    def carry_number(self, record_id: uuid.UUID, result: dict[str, Any]) -> None:
        """``result`` (an op's answer) shows the number of document ``record_id`` once given."""
        if record_id in self._unnumbered:
            self._number_results[record_id] = result

    def number_documents(self) -> None:
        """Number the documents created so far. Called before each write of the batch: the
        counters it expects are locked then, before the first write, because every writer
        locks in the same order: counters, then hazard counts (at flush), then the feed
        clock (at commit)."""
        self.writer_only()
        pending = list(self._unnumbered.values())
        with db.session.no_autoflush:  # the documents cannot be written before their serials
            self.numbers.lock(self._expected_counters | {(d.type, d.year) for d, _ in pending})
            for document, abbr in pending:
                document.serial = self.next_serial(document.type, document.year)
                document.number = numbering.format_number(
                    abbr, document.type, document.year, document.serial
                )
                result = self._number_results.pop(document.id, None)
                if result is not None:
                    result["number"] = document.number
        self._unnumbered.clear()

    def next_serial(self, doc_type: str, year: int) -> int:
        # A counter not foreseen by the batch's preload is locked out of the sorted order,
        # which a concurrent batch may meet as a deadlock (a 5xx the device retries).
        return self.numbers.next_serial(doc_type, year)

    def write_counters(self) -> None:
        """Store the serials taken; the rows stay locked until the batch commits."""
        self.numbers.write()
