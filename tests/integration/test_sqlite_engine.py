"""SQLite as the service sets it up: writers queue on a lock file beside the database,
released at commit or rollback; the planner is told the agency does not narrow a query."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from flask_migrate import upgrade

from server import create_app
from server.database import (
    NOMINAL_ROWS,
    WAL_PAGES_IN_COMMIT,
    _install_sqlite,
    become_writer,
    snapshot,
)
from server.extensions import db


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    _install_sqlite(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.exec_driver_sql("INSERT INTO n VALUES (1, 0)")
    yield engine
    engine.dispose()


def _free(engine: sa.Engine) -> bool:
    """Whether another writer could take the lock now."""
    fd = os.open(engine.url.database + "-writers.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_the_lock_is_held_from_begin_to_commit(engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        conn.exec_driver_sql("UPDATE n SET v = v + 1")
        assert not _free(engine)
        conn.commit()
        assert _free(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 1


def test_the_lock_is_released_at_rollback(engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        conn.exec_driver_sql("UPDATE n SET v = 99")
        assert not _free(engine)
        conn.rollback()
        assert _free(engine)
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 0


def test_a_connection_given_back_mid_transaction_releases_the_lock(engine) -> None:
    conn = engine.connect()
    conn.begin()
    conn.exec_driver_sql("UPDATE n SET v = 99")
    assert not _free(engine)
    conn.close()  # the pool rolls it back
    assert _free(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 0


def test_a_second_writer_waits_for_the_first_then_writes(engine) -> None:
    first_in = threading.Event()
    order: list[str] = []

    def first() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE n SET v = v + 1")
            first_in.set()
            time.sleep(0.3)
            order.append("first commits")

    def second() -> None:
        first_in.wait()
        with engine.begin() as conn:
            order.append("second begins")
            conn.exec_driver_sql("UPDATE n SET v = v * 10")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["first commits", "second begins"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 10


def test_a_snapshot_refuses_writes_and_takes_no_lock(engine) -> None:
    with Flask(__name__).test_request_context(method="POST"), snapshot():
        session = so.Session(engine)
        assert session.execute(sa.text("SELECT v FROM n")).scalar() == 0
        assert _free(engine)
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            session.execute(sa.text("UPDATE n SET v = 5"))
        session.rollback()
    with engine.begin() as conn:  # a writer afterwards on the same pooled connection
        conn.exec_driver_sql("UPDATE n SET v = 7")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 7


def test_a_snapshot_becomes_the_writer_and_sees_what_was_committed_meanwhile(engine) -> None:
    with Flask(__name__).test_request_context(method="POST"):
        with snapshot():
            session = so.Session(engine)
            assert session.execute(sa.text("SELECT v FROM n")).scalar() == 0
        with engine.begin() as other:  # another writer commits beside the open snapshot
            other.exec_driver_sql("UPDATE n SET v = 3")
        assert session.execute(sa.text("SELECT v FROM n")).scalar() == 0
        become_writer(session)
        assert not _free(engine)
        assert session.execute(sa.text("SELECT v FROM n")).scalar() == 3
        session.execute(sa.text("UPDATE n SET v = v * 10"))
        session.commit()
        assert _free(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM n").scalar() == 30


def test_a_fenced_look_up_by_id_takes_the_primary_key_on_a_fresh_database(tmp_path) -> None:
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
        "SECRET_KEY": "k",
        "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "SCHEDULER_ENABLED": False,
    }
    first = create_app(settings)
    with first.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "server" / "migrations"))
        db.engine.dispose()
    app = create_app(settings)  # as a worker starting on the migrated database
    with app.app_context():
        stats = dict(
            db.session.execute(
                sa.text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'hazards'")
            ).all()
        )
        assert stats["ix_hazards_agency_id"] == f"{NOMINAL_ROWS} {NOMINAL_ROWS} noskipscan"
        # What a fenced look-up of a batch's hazards runs (scoping.py adds the agency).
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM hazards WHERE id IN ("
            + ",".join("?" * 20)
            + ") AND agency_id = ?",
            tuple(uuid.uuid4().hex for _ in range(21)),
        ).all()
        assert "sqlite_autoindex_hazards" in plan[0][3], plan
        db.session.remove()
        db.engine.dispose()


def test_commits_reach_the_database_file_through_the_checkpoint_thread(tmp_path) -> None:
    path = tmp_path / "c.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    _install_sqlite(engine, checkpoint_interval=0.01)
    with engine.begin() as conn:
        # Writers checkpoint inside their commit (with the lock held) only past a large WAL.
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_PAGES_IN_COMMIT
        conn.exec_driver_sql("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.exec_driver_sql("INSERT INTO n VALUES (1, 7)")

    def in_file() -> list[tuple[int, int]]:
        # immutable=1 reads the database file alone, without the WAL.
        reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return reader.execute("SELECT id, v FROM n").fetchall()
        except sqlite3.OperationalError:  # the table is not in the file yet
            return []
        finally:
            reader.close()

    deadline = time.monotonic() + 10
    while in_file() != [(1, 7)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_file() == [(1, 7)]
    engine.dispose()


def test_the_wal_starts_over_under_constant_writing(tmp_path) -> None:
    """40 MiB written commit after commit, past a WAL of 1,000 pages (4 MiB) for the test:
    the WAL is wholly copied back from time to time and starts again, rather than growing by
    all that was written."""
    path = tmp_path / "g.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    _install_sqlite(engine, checkpoint_interval=0.01, wal_pages_in_commit=1000)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)")
    largest = 0
    for _ in range(400):
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO b (v) VALUES (randomblob(100000))")
        largest = max(largest, os.path.getsize(f"{path}-wal"))
    engine.dispose()
    assert largest < 20_000_000, largest
