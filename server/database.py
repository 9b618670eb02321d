"""Database engine set-up that differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request

from server.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
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
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for another writer in
    # WAL mode (SQLITE_BUSY at once). Requests that may write, and jobs and commands, take
    # the write lock up front so concurrent writers queue on busy_timeout instead.
    reading = has_request_context() and (
        request.method in READ_METHODS or g.get("reading_only", False)
    )
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)


def without_jit(session: Any) -> None:
    """No JIT compilation for the rest of this transaction (PostgreSQL; a no-op elsewhere).

    A streamed query is costed for all its rows, so PostgreSQL compiles it, which takes
    longer than reading the rows a user waits for first. ``SET LOCAL`` needs no privilege.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))
