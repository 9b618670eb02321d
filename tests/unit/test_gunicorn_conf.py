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
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
