"""Document and case numbers: one counter row per agency, document type and year.

A serial is taken from its counter row, locked ``FOR UPDATE`` from its first use to the
commit: two transactions numbering the same type and year take turns, so serials have no
gaps and no repeats. The sync batch (``sync/cache.py``) numbers a batch's documents from one
``Counters``; an office step numbering one document or decision calls ``next_serial``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from server.database import dialect_insert
from server.extensions import db
from server.models import DocumentCounter

_COUNTERS = DocumentCounter.__table__
_COUNTER_KEY = (
    (_COUNTERS.c.agency_id == sa.bindparam("counter_agency"))
    & (_COUNTERS.c.type == sa.bindparam("counter_type"))
    & (_COUNTERS.c.year == sa.bindparam("counter_year"))
)
_COUNTER = sa.select(_COUNTERS.c.last_serial).where(_COUNTER_KEY).with_for_update()
_SET_COUNTER = sa.update(_COUNTERS).where(_COUNTER_KEY).values(last_serial=sa.bindparam("serial"))

CounterKey = tuple[str, int]  # (document type, year)


class Counters:
    """The counters one transaction numbers from, for one agency."""

    def __init__(self, agency_id: uuid.UUID) -> None:
        self.agency_id = agency_id
        self.serials: dict[CounterKey, int] = {}  # the last serial taken, per counter
        self._stored: dict[CounterKey, int] = {}  # the serial each counter row holds

    def lock(self, keys: Iterable[CounterKey]) -> None:
        """Lock the counter rows of ``keys`` not locked yet, in a fixed order: transactions
        that lock several never deadlock on them."""
        for doc_type, year in sorted(set(keys) - set(self.serials)):
            key = {"counter_agency": self.agency_id, "counter_type": doc_type, "counter_year": year}
            row = db.session.execute(_COUNTER, key).first()
            if row is None:
                db.session.execute(
                    dialect_insert(db.session)(_COUNTERS)
                    .values(agency_id=self.agency_id, type=doc_type, year=year, last_serial=0)
                    .on_conflict_do_nothing()
                )
                row = db.session.execute(_COUNTER, key).one()
            self.serials[(doc_type, year)] = self._stored[(doc_type, year)] = int(row[0])

    def next_serial(self, doc_type: str, year: int) -> int:
        """The next serial of ``doc_type`` in ``year``, its counter locked if not yet."""
        self.lock([(doc_type, year)])
        self.serials[(doc_type, year)] += 1
        return self.serials[(doc_type, year)]

    def write(self) -> None:
        """Store the serials taken; the rows stay locked until the transaction commits."""
        changed = {k: s for k, s in self.serials.items() if s != self._stored[k]}
        if changed:
            db.session.connection().execute(
                _SET_COUNTER,
                [
                    {
                        "counter_agency": self.agency_id,
                        "counter_type": doc_type,
                        "counter_year": year,
                        "serial": serial,
                    }
                    for (doc_type, year), serial in changed.items()
                ],
            )
        self._stored.update(changed)

    def snapshot(self) -> tuple[dict[CounterKey, int], dict[CounterKey, int]]:
        """What ``restore`` needs to forget serials taken after a savepoint."""
        return dict(self.serials), dict(self._stored)

    def restore(self, state: tuple[dict[CounterKey, int], dict[CounterKey, int]]) -> None:
        self.serials, self._stored = dict(state[0]), dict(state[1])


def next_serial(agency_id: uuid.UUID, doc_type: str, year: int) -> int:
    """One serial of ``doc_type`` in ``year``, stored at once; its counter stays locked until
    the caller's transaction commits."""
    counters = Counters(agency_id)
    serial = counters.next_serial(doc_type, year)
    counters.write()
    return serial
