"""Database engine set-up that differs between SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol, cast

import orjson
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, g, has_request_context, request

from server.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# WAL pages (of 4 KiB) past which a committing writer checkpoints itself (_sqlite_connect).
WAL_PAGES_IN_COMMIT = 16000
log = logging.getLogger(__name__)


def _sqlite_connect(
    dbapi_connection: Any, connection_record: Any, wal_pages_in_commit: int = WAL_PAGES_IN_COMMIT
) -> None:
    # Take transaction control from the sqlite3 module (it would otherwise defer BEGIN and
    # break SAVEPOINTs); _sqlite_begin emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while a device sync writes; busy_timeout makes writers queue
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Reads of a large history touch pages all over the record tables: a 64 MiB page cache
    # and memory-mapped reads keep their cost from growing with the file.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    # SQLite copies the WAL back into the database inside the commit that takes it past
    # wal_autocheckpoint pages, with the writer lock held. A Checkpointer does most of it
    # beside the writers; the commit that takes the WAL past 16,000 pages (64 MiB) copies what
    # is left, so the WAL is wholly copied at some moment and the next writer starts it
    # again from the beginning (under constant writing a checkpoint beside the writers never
    # catches up: alone, the WAL would grow without end). The file is cut back to 64 MiB.
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal_pages_in_commit)}")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


class WriterQueue:
    """The writers of one SQLite file, queued on an ``flock`` of a file beside it.

    SQLite has one writer at a time; a writer that finds the lock taken polls for it
    (``busy_timeout``), sleeping up to 100 ms between tries, so under load the lock sits
    free while the next writer sleeps. Writers of this service (every process: gunicorn
    workers, the scheduler, commands) take the flock before ``BEGIN IMMEDIATE`` and drop it
    after ``COMMIT`` or ``ROLLBACK``: the kernel wakes the next one at once. Each pooled
    connection has its own descriptor, so threads of one process queue too. Another program
    writing the file still meets ``busy_timeout``.
    """

    def __init__(self, path: str) -> None:
        self.path = path + "-writers.lock"

    def acquire(self, info: dict[str, Any]) -> None:
        fd = info.get(_LOCK_FD)
        if fd is None:
            fd = info[_LOCK_FD] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        info[_LOCK_HELD] = True

    @staticmethod
    def release(info: dict[str, Any]) -> None:
        if info.pop(_LOCK_HELD, False):
            fcntl.flock(info[_LOCK_FD], fcntl.LOCK_UN)

    @staticmethod
    def close(info: dict[str, Any]) -> None:
        fd = info.pop(_LOCK_FD, None)
        info.pop(_LOCK_HELD, None)
        if fd is not None:
            os.close(fd)  # also drops a flock still held


_LOCK_FD = "writer_lock_fd"
_LOCK_HELD = "writer_lock_held"
# The connection's writer queue (None for an in-memory database), and whether its open
# transaction is a read-only snapshot (see ``snapshot``).
_QUEUE = "writer_queue"
_QUERY_ONLY = "query_only"


def _take_writer_lock(
    info: dict[str, Any], dbapi_connection: Any, queue: WriterQueue | None
) -> None:
    if queue is not None:
        queue.acquire(info)
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except BaseException:
        WriterQueue.release(info)
        raise


# Seconds between a process's WAL checkpoints (taken after a commit, outside the lock).
CHECKPOINT_INTERVAL = 0.5
# Seconds without a write after which the checkpoint thread ends.
CHECKPOINT_IDLE_EXIT = 60.0


class Checkpointer:
    """Copies committed WAL frames back into the database file from a thread of its own.

    Left to SQLite, the commit that takes the WAL past 1,000 pages copies them, with the
    writer lock held and the request waiting. Here a write commit wakes this thread (after
    its writer lock is released), which checkpoints at most once an ``interval`` on its own
    connection: the copying overlaps the next writer and delays no answer. A commit past
    ``WAL_PAGES_IN_COMMIT`` pages still copies the few frames left, which lets the WAL start
    again from the beginning.
    ``PASSIVE`` waits for nobody; frames a reader still needs are copied next time. The
    thread starts with the first commit of each process (gunicorn forks workers)."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._due = threading.Event()
        self._pid: int | None = None
        self._start = threading.Lock()

    def after_commit(self) -> None:
        with self._start:
            if self._pid != os.getpid():
                self._due = threading.Event()
                threading.Thread(target=self._run, name="wal-checkpoint", daemon=True).start()
                self._pid = os.getpid()
            self._due.set()

    def _run(self) -> None:
        due = self._due
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                if not due.wait(CHECKPOINT_IDLE_EXIT):
                    with self._start:  # idle: end; the next commit starts another
                        if not due.is_set():
                            self._pid = None
                            return
                due.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; the next commit tries again", exc_info=True)
                time.sleep(self.interval)
        finally:
            connection.close()


@contextmanager
def snapshot() -> Iterator[None]:
    """Queries in here that start a transaction start a read-only one (SQLite: a deferred
    ``BEGIN`` under ``query_only``), which takes no writer lock; the caller ends it, with
    ``commit`` or with ``become_writer``. A write attempted in it fails instead of taking
    SQLite's lock behind the writer queue."""
    before = g.get("reading_only", False)
    g.reading_only = True
    try:
        yield
    finally:
        g.reading_only = before


@contextmanager
def read_phase() -> Iterator[None]:
    """Reads of a request that writes later, in a transaction of their own, ended here.

    On SQLite a request that may write takes the writer lock at its first query; reads done
    in here take a shared snapshot instead and let other writers run meanwhile. What is read
    is not locked: use it for what may be a moment old (as a concurrent batch on PostgreSQL
    sees it), never for what the request goes on to change.

    Elsewhere the transaction goes on: every statement of a read-committed transaction reads
    what is committed when it runs, so ending it would only cost a commit and a begin."""
    with snapshot():
        yield
        if db.session.get_bind().dialect.name == "sqlite":
            db.session.commit()


def become_writer(session: Any) -> None:
    """Turn the session's read-only snapshot into a write transaction, keeping the session's
    objects (loaded and pending) as they are; SQLite only, a no-op elsewhere or when the
    session already writes.

    The snapshot ends and the writer lock is queued for; what was read may have changed
    meanwhile, so the caller checks what it relies on before writing (see
    ``services/sync/push.py``)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    info = conn.connection.info
    if info.get(_LOCK_HELD) or not info.get(_QUERY_ONLY):
        return
    dbapi_connection = conn.connection.dbapi_connection
    dbapi_connection.execute("COMMIT")  # the snapshot wrote nothing
    dbapi_connection.execute("PRAGMA query_only=0")
    info.pop(_QUERY_ONLY)
    _take_writer_lock(info, dbapi_connection, info.get(_QUEUE))


def _reading() -> bool:
    return has_request_context() and (
        request.method in READ_METHODS or g.get("reading_only", False)
    )


def _install_sqlite(
    engine: sa.Engine,
    checkpoint_interval: float = CHECKPOINT_INTERVAL,
    wal_pages_in_commit: int = WAL_PAGES_IN_COMMIT,
) -> None:
    path = engine.url.database or ""
    on_disk = bool(path) and path != ":memory:" and "mode=memory" not in path
    queue = WriterQueue(path) if on_disk else None
    checkpointer = Checkpointer(path, checkpoint_interval) if on_disk else None

    def begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for another writer
        # in WAL mode (SQLITE_BUSY at once). Requests that may write, and jobs and commands,
        # take the write lock up front, queued on the writer lock.
        info = conn.connection.info
        info[_QUEUE] = queue
        if _reading():
            conn.exec_driver_sql("BEGIN")
            if g.get("reading_only", False):
                conn.exec_driver_sql("PRAGMA query_only=1")
                info[_QUERY_ONLY] = True
            return
        if info.pop(_QUERY_ONLY, False):
            conn.exec_driver_sql("PRAGMA query_only=0")
        _take_writer_lock(info, conn.connection.dbapi_connection, queue)

    def end(conn: sa.Connection, finish: str) -> None:
        # These events come just before SQLAlchemy ends the transaction: end it here, so the
        # next writer is woken once the file is free (SQLAlchemy's own call then finds no
        # transaction open, which sqlite3 takes as nothing to do).
        info = conn.connection.info
        if not info.get(_LOCK_HELD):
            return
        try:
            getattr(conn.connection.dbapi_connection, finish)()
        finally:
            WriterQueue.release(info)
        if finish == "commit" and checkpointer is not None:
            checkpointer.after_commit()

    def reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        # A connection going back to the pool is rolled back by the pool itself.
        if record.info.get(_LOCK_HELD):
            dbapi_connection.rollback()
            WriterQueue.release(record.info)

    def closed(dbapi_connection: Any, record: Any) -> None:
        WriterQueue.close(record.info)

    connect = functools.partial(_sqlite_connect, wal_pages_in_commit=wal_pages_in_commit)
    sa.event.listen(engine, "connect", connect)
    sa.event.listen(engine, "begin", begin)
    sa.event.listen(engine, "commit", lambda conn: end(conn, "commit"))
    sa.event.listen(engine, "rollback", lambda conn: end(conn, "rollback"))
    sa.event.listen(engine.pool, "reset", reset)
    sa.event.listen(engine.pool, "close", closed)
    sa.event.listen(engine.pool, "invalidate", lambda c, r, e: WriterQueue.close(r.info))


# What SQLite's planner is told an agency's table holds (see planner_hints).
NOMINAL_ROWS = 1_000_000


def _hint(columns: int, unique: bool) -> str:
    """sqlite_stat1's ``stat`` of an index led by ``agency_id``: the rows of the index, then
    the rows matching each prefix of its columns. The agency alone matches them all; the
    columns after it narrow as SQLite assumes of an index it knows nothing about (10, 9,
    8... rows; 1 for a unique one). The agency being always given, there is nothing to skip
    over: no skip-scan."""
    counts = [NOMINAL_ROWS, NOMINAL_ROWS] + [max(1, 10 - k) for k in range(columns - 1)]
    if unique:
        counts[-1] = 1
    return " ".join(map(str, counts)) + " noskipscan"


def planner_hints(conn: sa.Connection) -> int:
    """Tell SQLite's planner that ``agency_id`` does not narrow a query; returns the rows
    written to ``sqlite_stat1``.

    Without statistics SQLite guesses ten rows for any equality, so ``id IN (...20 ids...)
    AND agency_id = ?`` (every fenced look-up; scoping.py adds the agency) was read through
    the agency's index: all of the agency's rows, a cost growing with the history. An index
    led by ``agency_id`` gets a row saying the agency matches every row, unless it has one
    already (from ANALYZE, which measures the same on a one-agency database), so the planner
    takes the primary key or the enterprise's index. Written after migrations and when the
    app starts; idempotent."""
    names = conn.exec_driver_sql(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalars()
    tables = [t for t in names if t != "alembic_version"]
    if "agencies" not in tables:
        return 0
    has_stats = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'"
    ).first()
    if not has_stats:
        conn.exec_driver_sql("ANALYZE agencies")  # creates sqlite_stat1 (a handful of rows)
    known = {(t, i) for t, i in conn.exec_driver_sql("SELECT tbl, idx FROM sqlite_stat1").all()}
    written = 0
    for table in tables:
        for index in conn.exec_driver_sql(f'PRAGMA index_list("{table}")').mappings():
            name = index["name"]
            columns = [
                row["name"]
                for row in conn.exec_driver_sql(f'PRAGMA index_info("{name}")').mappings()
            ]
            if not columns or columns[0] != "agency_id" or (table, name) in known:
                continue
            conn.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                (table, name, _hint(len(columns), bool(index["unique"]))),
            )
            written += 1
    if written:
        conn.exec_driver_sql("ANALYZE sqlite_schema")  # this connection reloads them
    return written


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _install_sqlite(engine)
            with engine.begin() as conn:
                planner_hints(conn)


def without_jit(session: Any) -> None:
    """No JIT compilation for the rest of this transaction (PostgreSQL; a no-op elsewhere).

    A streamed query is costed for all its rows, so PostgreSQL compiles it, which takes
    longer than reading the rows a user waits for first. ``SET LOCAL`` needs no privilege.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))


# SQLite's extended result codes of a unique or primary key clash; PostgreSQL's SQLSTATE.
_SQLITE_UNIQUE = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})
_PG_UNIQUE = "23505"


def is_unique_violation(exc: BaseException) -> bool:
    """Whether ``exc`` is a unique or primary key clash, on either database: what a request
    meets when a concurrent one inserted the same key first and committed."""
    if not isinstance(exc, sa.exc.IntegrityError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.IntegrityError):
        return getattr(orig, "sqlite_errorcode", None) in _SQLITE_UNIQUE
    return getattr(orig, "sqlstate", None) == _PG_UNIQUE


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks, one per lock name."""
    digest = hashlib.sha256(f"fieldenforce:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def named_lock(name: str) -> Iterator[bool]:
    """Hold the lock called ``name`` while the block runs, if it is free; yields whether it
    was. Never waits, and never holds a transaction open.

    Every process of the deployment meets the same lock: on PostgreSQL a session advisory
    lock on a connection of its own (the server drops it if the process dies); on SQLite,
    whose processes all share one host, an ``flock`` on a file in a folder beside the
    database (dropped with the process too)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        key = _lock_key(name)
        with engine.connect() as conn:
            taken = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            got = bool(taken.scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = engine.url.database or ""
    if not path or path == ":memory:":
        yield True  # one process owns an in-memory database
        return
    folder = f"{path}-locks"
    os.makedirs(folder, exist_ok=True)
    lock_file = os.path.join(folder, hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock")
    fd = _flock_free(lock_file)
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        # Removed while held, so the next holder makes a new file; one that opened this file
        # meanwhile finds it gone once it has the lock, and tries again (_flock_free).
        with suppress(FileNotFoundError):
            os.unlink(lock_file)
        os.close(fd)


def _flock_free(lock_file: str) -> int | None:
    """An open, flocked descriptor of ``lock_file``; ``None`` when another holds it."""
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(lock_file).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            return fd
        os.close(fd)  # the previous holder removed the file we opened


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Scheduled job ``name``'s lock: two scheduler processes (a second host, or one
    started by mistake) never run the same job at once."""
    with named_lock(f"job:{name}") as got:
        yield got


# --- what differs between the databases, asked in one place ---------------------------------


def _dialect(bind: Any) -> str:
    """The dialect name of a session (or ``db.session``) or a connection."""
    if isinstance(bind, sa.Connection):
        return bind.dialect.name
    return str(bind.get_bind().dialect.name)


def on_postgresql(bind: Any = None) -> bool:
    """Whether ``bind`` (a session or connection; ``db.session`` by default) is on
    PostgreSQL: the production database, with row locks and concurrent writers."""
    return _dialect(db.session if bind is None else bind) == "postgresql"


def one_writer_at_a_time(bind: Any = None) -> bool:
    """Whether the database has one writer at a time (SQLite): a push may then apply a
    batch on a snapshot before it takes the writer lock (``sync/push.py``)."""
    return _dialect(db.session if bind is None else bind) == "sqlite"


def dialect_insert(bind: Any) -> Any:
    """The INSERT construct of a session's or connection's database, which has
    ``on_conflict_do_*``."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if _dialect(bind) == "postgresql" else sqlite.insert


def for_update(stmt: Any, bind: Any = None) -> Any:
    """``stmt`` locking the rows it reads until the commit, on PostgreSQL; SQLite's one
    writer at a time needs no row locks."""
    return stmt.with_for_update() if on_postgresql(bind) else stmt


def any_of(column: Any, ids: list[Any], bind: Any = None) -> Any:
    """``column IN ids``: one array parameter on PostgreSQL (thousands of parameters cost
    more to send than the look-ups), a plain list elsewhere."""
    return in_list(column, None, postgresql=on_postgresql(bind), value=ids)


_UNSET: Any = object()


def in_list(column: Any, name: str | None, *, postgresql: bool, value: Any = _UNSET) -> Any:
    """``column IN :name``, the list given when the statement runs (or ``value`` now): on
    PostgreSQL one array parameter, so that the statement's text is the same for any length
    of list (compiled once, and prepared by the driver once it repeats); an expanding list
    elsewhere. For statements built once and kept: ``postgresql`` is ``on_postgresql()`` of
    where they run."""
    given = {} if value is _UNSET else {"value": value}
    if postgresql:
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type), **given))
    return column.in_(sa.bindparam(name, expanding=True, **given))


_INSERTS: dict[tuple[sa.Table, frozenset[str]], Any] = {}
_FROM_JSON: dict[tuple[Any, ...], Any] = {}
_ROW_COLUMNS: dict[type, list[tuple[str, str, Any]]] = {}


def row_of(obj: Any) -> dict[str, Any]:
    """The row the ORM would insert for the new object ``obj``, for ``insert_rows``: each
    column of its table by key, with the object's value, else the column's Python default,
    which is set on the object too (so that object and row agree once the object is handed
    to a session as stored)."""
    columns = _ROW_COLUMNS.get(type(obj))
    if columns is None:
        columns = _ROW_COLUMNS[type(obj)] = _row_columns(type(obj))
    values = obj.__dict__
    row: dict[str, Any] = {}
    for attr, key, default in columns:
        if attr in values:
            row[key] = values[attr]
        elif default is _KEY:
            raise ValueError(f"a new {type(obj).__name__} written as a row needs its {key}")
        else:
            value = None if default is None else default.arg(None)
            setattr(obj, attr, value)
            row[key] = value
    return row


_KEY = object()  # a primary key column without a default: the object must have its value


def _row_columns(model: type) -> list[tuple[str, str, Any]]:
    columns: list[tuple[str, str, Any]] = []
    mapper: so.Mapper[Any] = sa.inspect(model)
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        default = column.default
        if default is not None and not (default.is_callable or default.is_scalar):
            raise TypeError(f"{column} has a default only the ORM's flush can give")
        if default is None and column.server_default is not None:
            raise TypeError(f"{column} has a server default only the ORM's flush can give")
        if default is not None and default.is_scalar:
            scalar = default.arg
            default = sa.ColumnDefault(lambda _ctx, v=scalar: v)
        if default is None and column.primary_key:
            default = _KEY
        columns.append((prop.key, column.key, default))
    return columns


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    upsert: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    fallback: Any = None,
) -> None:
    """Insert ``rows`` (dicts of column keys, each naming the same columns) into ``table``.

    On PostgreSQL the rows go as one JSON document, expanded by the server
    (``INSERT ... SELECT ... FROM json_populate_recordset``): one statement and one
    parameter for a batch's rows instead of a statement a row, which costs the driver and
    the server less than a pipelined executemany. Values orjson cannot encode (integers
    wider than 64 bits) and other databases take the executemany of ``fallback`` (a plain
    INSERT when not given).

    ``upsert`` = (conflict columns, columns to update): a row whose conflict columns match a
    stored one updates it instead, as ``fallback``'s ON CONFLICT DO UPDATE does; of rows of
    the batch with the same conflict columns the last one stands, as in an executemany."""
    if not rows:
        return
    keys = tuple(rows[0])
    if connection.dialect.name == "postgresql" and len(rows) > 1:
        if upsert is not None:
            rows = list({tuple(row[k] for k in upsert[0]): row for row in rows}.values())
        _check_bound(table, keys, rows)
        document = _rows_document(rows, set(keys))
        if document is not None:
            stmt = _from_json(connection, table, keys, upsert)
            connection.execute(stmt, {"rows": document})
            return
    connection.execute(fallback if fallback is not None else _insert(table, frozenset(keys)), rows)


_DECORATED: dict[tuple[sa.Table, tuple[str, ...]], list[tuple[str, Any]]] = {}


class _JsonChecked(Protocol):
    def check_json_value(self, value: Any) -> None: ...


def _check_bound(table: sa.Table, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Refuse what the driver's path refuses of decorated column types (a naive datetime
    for an aware UTC column): the JSON document passes no type's processing otherwise.
    Each such type says how (``check_json_value``); one that cannot is a bug here."""
    checks = _DECORATED.get((table, keys))
    if checks is None:
        checks = _DECORATED[(table, keys)] = [
            (k, cast(_JsonChecked, table.c[k].type).check_json_value)
            for k in keys
            if isinstance(table.c[k].type, sa.types.TypeDecorator)
        ]
    for key, check in checks:
        for row in rows:
            check(row[key])


def _rows_document(rows: list[dict[str, Any]], keys: set[str]) -> str | None:
    if any(row.keys() != keys for row in rows):
        return None
    try:
        return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC).decode()
    except TypeError:  # orjson.JSONEncodeError included
        return None


def _from_json(
    connection: sa.Connection,
    table: sa.Table,
    keys: tuple[str, ...],
    upsert: tuple[tuple[str, ...], tuple[str, ...]] | None,
) -> Any:
    stmt = _FROM_JSON.get((table, keys, upsert))
    if stmt is None:
        quote = connection.dialect.identifier_preparer

        def names(columns: tuple[str, ...]) -> list[str]:
            return [quote.quote(table.c[k].name) for k in columns]

        name = quote.format_table(table)
        listed = ", ".join(names(keys))
        sql = (
            f"INSERT INTO {name} ({listed}) SELECT {listed} "
            f"FROM json_populate_recordset(NULL::{name}, CAST(:rows AS json))"
        )
        if upsert is not None:
            updates = ", ".join(f"{c} = excluded.{c}" for c in names(upsert[1]))
            sql += f" ON CONFLICT ({', '.join(names(upsert[0]))}) DO UPDATE SET {updates}"
        stmt = _FROM_JSON[(table, keys, upsert)] = sa.text(sql)
    return stmt


def _insert(table: sa.Table, keys: frozenset[str]) -> Any:
    stmt = _INSERTS.get((table, keys))
    if stmt is None:
        stmt = _INSERTS[(table, keys)] = sa.insert(table)
    return stmt
