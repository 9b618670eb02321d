"""scripts/bench_report.py still loads what the schema takes and times the report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_report.py"


def test_the_report_benchmark_runs_on_a_small_sqlite_agency() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--database", "sqlite", "--scale", "0.02"]
        + ["--years", "2", "--runs", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "sqlite     report service" in done.stdout
    assert "PASS: every p95 < 1 s" in done.stdout
