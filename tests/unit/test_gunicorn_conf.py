"""The gunicorn settings the README, the Dockerfile and scripts/serve run with."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_what_the_app_holds_for_life() -> None:
    settings = runpy.run_path(str(CONF))
    assert settings["raw_env"] == ["SCHEDULER_ENABLED=0"]  # jobs run in their own process
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > threshold[0]  # fewer passes over a push's garbage
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_workers_follow_the_cores_and_the_database(monkeypatch) -> None:
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 4)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert runpy.run_path(str(CONF))["workers"] == 5  # SQLite, the default
    monkeypatch.setenv("DATABASE_URL", "sqlite:////srv/fe.db")
    assert runpy.run_path(str(CONF))["workers"] == 5
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.internal:5432/fe")
    assert runpy.run_path(str(CONF))["workers"] == 9  # the database has cores of its own
    for here in ("127.0.0.1:5432", "localhost", "[::1]:5432", ""):
        monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://{here}/fe")
        assert runpy.run_path(str(CONF))["workers"] == 5, here  # it shares these cores
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(str(CONF))["workers"] == 3
