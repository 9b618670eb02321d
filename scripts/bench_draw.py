"""Benchmark of the double-random draw: draw and verify times on synthetic pools.

For each pool size (10,000, 100,000 and 1,000,000 enterprises in five strata, 2,000
inspectors, 5,000 recusal pairs) it times

- draw: what the service does once the pool is loaded: pseudonymize, draw, write the
  public document (canonical JSON, fingerprinted);
- verify: the service's own check of that document (``GET /api/v1/draws/<id>/verify``);
- verify_draw.py: the standalone checker an outsider runs, as a separate process;

and says PASS or FAIL against the targets: under 2 s each at 100,000, and time growing
linearly with the pool (seconds per 100,000 enterprises at 1,000,000 at most twice those
at 100,000).

    python scripts/bench_draw.py                 # 10k, 100k, 1M
    python scripts/bench_draw.py --sizes 2000,20000 --repeat 1    # a quick smoke run
"""

from __future__ import annotations

import argparse
import os
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

# The path above makes the checkout importable.
from server.domain.draw.algorithm import run_draw, verify  # noqa: E402
from server.domain.draw.model import (  # noqa: E402
    DrawInputs,
    DrawParameters,
    DrawResult,
    Enterprise,
    Inspector,
    Pair,
)
from server.domain.draw.pseudonyms import pseudonymize  # noqa: E402

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
TARGET_SECONDS = 2.0
TARGET_AT = 100_000
# "Linear" within a factor: sorting is n log n (log 1M / log 100k = 1.2) and a pool of a
# million no longer fits the processor's caches, which alone costs the same again.
LINEAR_SLACK = 2.0
T = TypeVar("T")


def _uuid(rng: Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_inputs(pool_size: int, inspectors: int, recusals: int, rng: Random) -> DrawInputs:
    """A synthetic pool split over five strata, with some expired and missing certificates."""
    enterprises: list[Enterprise] = []
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
    value: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - start)
    return value, best


def draw_as_the_service_does(inputs: DrawInputs, key: bytes) -> tuple[DrawResult, str]:
    hidden, _ = pseudonymize(inputs, key)
    result = run_draw(hidden, SEED)
    return result, result.to_public_json()


def _script_seconds(path: Path, repeat: int) -> float:
    """Wall time of scripts/verify_draw.py on the document, as an outsider would run it."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-I", str(ROOT / "scripts" / "verify_draw.py"), str(path)],
            capture_output=True,
            check=False,
        )
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"verify_draw.py disagreed: {done.stdout.decode()}")
    return best


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated pool sizes (default 10000,100000,1000000)",
    )
    parser.add_argument("--inspectors", type=int, default=2_000)
    parser.add_argument("--recusals", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N below 1,000,000")
    parser.add_argument(
        "--skip-script", action="store_true", help="do not time scripts/verify_draw.py"
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    rng = Random(20250303)
    key = os.urandom(32)

    print(
        f"pools in 5 strata, {args.inspectors:,} inspectors, {args.recusals:,} recusal pairs; "
        "best of each"
    )
    header = f"{'pool':>10}  {'targets':>7}  {'doc MB':>6}  {'draw s':>7}  {'verify s':>8}"
    if not args.skip_script:
        header += f"  {'script s':>8}"
    print(
        header
        + "   (seconds per 100k: draw / verify"
        + ("" if args.skip_script else " / script")
        + ")"
    )
    per_100k: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            repeat = 1 if size >= 1_000_000 else args.repeat
            inputs = build_inputs(size, args.inspectors, args.recusals, rng)
            (result, public), draw_s = _timed(draw_as_the_service_does, inputs, key, repeat=repeat)
            targets = len(result.assignments)
            # The service verifies in a request of its own, without the pool in memory.
            del inputs, result
            check, verify_s = _timed(verify, public, repeat=repeat)
            if not check.matches:
                print("verification failed:", *check.differences, sep="\n  ", file=sys.stderr)
                return 1
            times = {"draw": draw_s, "verify": verify_s}
            path = Path(tmp) / f"draw-{size}.json"
            path.write_text(public, encoding="utf-8")
            line = (
                f"{size:>10,}  {targets:>7,}  "
                f"{len(public.encode()) / 1e6:>6.1f}  {draw_s:>7.3f}  {verify_s:>8.3f}"
            )
            if not args.skip_script:
                times["script"] = _script_seconds(path, repeat)
                line += f"  {times['script']:>8.3f}"
            path.unlink()
            per_100k[size] = {k: v * 100_000 / size for k, v in times.items()}
            line += "   " + " / ".join(f"{v:.3f}" for v in per_100k[size].values())
            print(line, flush=True)

    print()
    failed = False
    if TARGET_AT in per_100k:
        for what, seconds in per_100k[TARGET_AT].items():
            ok = seconds < TARGET_SECONDS
            failed |= not ok
            limit = f"(< {TARGET_SECONDS} s)"
            print(f"{_verdict(ok)}  {what:<7} at {TARGET_AT:,}: {seconds:.3f} s {limit}")
    else:
        print(f"(no {TARGET_AT:,} pool measured: the {TARGET_SECONDS} s target is not checked)")
    # Growth is measured from 100,000 up (below it the 2,000 inspectors and the start-up of
    # the script weigh more than the pool); without a 100,000 pool, from the smallest one.
    base = TARGET_AT if TARGET_AT in per_100k else sizes[0]
    for size in (s for s in sizes if s > base):
        for what, seconds in per_100k[size].items():
            ratio = seconds / per_100k[base][what]
            ok = ratio <= LINEAR_SLACK
            failed |= not ok
            print(
                f"{_verdict(ok)}  {what:<7} linear: {seconds:.3f} s per 100k at {size:,} is "
                f"{ratio:.2f}x that at {base:,} (<= {LINEAR_SLACK}x)"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
