"""Benchmark of the double-random draw: draw and verify times on synthetic pools."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.domain.draw import (  # noqa: E402 - the path above makes the checkout importable
    DrawInputs,
    DrawParameters,
    Enterprise,
    Inspector,
    Pair,
    run_draw,
    verify,
)

# Rates like the ones plans use: every poor-risk enterprise, a fifth of the medium ones, a
# tenth of the credit-B ones, 3 % of the rest.
STRATA = {
    "risk:poor": ("1", 0.01),
    "risk:medium": ("0.2", 0.04),
    "credit:B": ("0.1", 0.10),
    "credit:A": ("0.03", 0.45),
    "risk:good": ("0.03", 0.40),
}
DRAW_DATE = date(2025, 3, 3)
SEED = "5eed" * 16
T = TypeVar("T")


def _uuid(rng: Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_inputs(pool_size: int, inspectors: int, recusals: int, rng: Random) -> DrawInputs:
    """A synthetic pool split over five strata, with some expired and missing certificates."""
    enterprises = []
    keys = list(STRATA)
    weights = [share for _, share in STRATA.values()]
    for key, n in zip(keys, _split(pool_size, weights), strict=True):
        enterprises.extend(Enterprise(id=_uuid(rng), stratum=key) for _ in range(n))
    people = []
    for n in range(inspectors):
        valid_until = DRAW_DATE + timedelta(days=rng.randrange(-30, 1500))
        people.append(
            Inspector(
                id=_uuid(rng),
                certificate_no=None if n % 97 == 0 else f"12{n:08d}",
                certificate_valid_until=valid_until,
            )
        )
    pairs = {Pair(rng.choice(people).id, rng.choice(enterprises).id) for _ in range(recusals)}
    return DrawInputs(
        enterprises=enterprises,
        inspectors=people,
        recusals=pairs,
        parameters=DrawParameters(
            draw_date=DRAW_DATE,
            team_size=2,
            rates={k: rate for k, (rate, _) in STRATA.items()},
        ),
    )


def _split(total: int, weights: list[float]) -> list[int]:
    counts = [int(total * w) for w in weights]
    counts[-1] += total - sum(counts)
    return counts


def _timed(fn: Callable[..., T], *args: Any, repeat: int = 1) -> tuple[T, float]:
    """The value and the best of ``repeat`` wall times: the least disturbed by other work."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - start)
    return value, best


def _script_seconds(public: str) -> float:
    """Wall time of scripts/verify_draw.py on the document, as an outsider would run it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "draw.json"
        path.write_text(public, encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-I", str(ROOT / "scripts" / "verify_draw.py"), str(path)],
            capture_output=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"verify_draw.py disagreed: {done.stdout.decode()}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-1m", action="store_true", help="leave out the 1,000,000 pool")
    parser.add_argument(
        "--skip-script", action="store_true", help="do not time scripts/verify_draw.py"
    )
    args = parser.parse_args(argv)
    rng = Random(20250303)

    inputs = build_inputs(100_000, 2_000, 5_000, rng)
    result, draw_s = _timed(run_draw, inputs, SEED, repeat=3)
    public = result.to_public_json()
    check, verify_s = _timed(verify, public, repeat=3)
    if not check.matches:
        print("verification failed:", *check.differences, sep="\n  ", file=sys.stderr)
        return 1
    loads: dict[str, int] = {}
    for a in result.assignments:
        for i in a.inspector_ids:
            loads[i] = loads.get(i, 0) + 1
    print("pool 100,000 enterprises / 5 strata, 2,000 inspectors, 5,000 recusal pairs")
    print(f"  targets drawn      {len(result.assignments):>10,}")
    print(f"  inspector load     {min(loads.values())}..{max(loads.values())}")
    print(f"  public JSON        {len(public.encode()) / 1e6:>9.1f} MB")
    print(f"  draw               {draw_s:>9.3f} s  (best of 3)")
    print(f"  verify             {verify_s:>9.3f} s  (best of 3: parse, recompute, compare)")
    if not args.skip_script:
        script_s = _script_seconds(public)
        print(
            f"  verify_draw.py     {script_s:>9.3f} s  (standalone, plain O(targets x inspectors))"
        )
    print()
    print(f"{'pool':>10}  {'targets':>8}  {'draw s':>8}  {'s per 100k':>10}")
    sizes = [10_000, 100_000] + ([] if args.skip_1m else [1_000_000])
    for size in sizes:
        sized = build_inputs(size, 2_000, 5_000, rng)
        drawn, seconds = _timed(run_draw, sized, SEED, repeat=1 if size > 100_000 else 3)
        print(
            f"{size:>10,}  {len(drawn.assignments):>8,}  {seconds:>8.3f}  "
            f"{seconds * 100_000 / size:>10.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
