"""scripts/verify_draw.py, an independent re-implementation, agrees with server.domain.draw."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest

from server.domain.draw.algorithm import run_draw, verify
from server.domain.draw.model import (
    DrawInputs,
    DrawParameters,
    Enterprise,
    Inspector,
    OutsideInspector,
    Pair,
)
from server.domain.errors import ValidationFailed

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_draw.py"
DRAW_DATE = date(2025, 3, 3)
STRATA = ["risk:poor", "risk:medium", "credit:B", "credit:A", "industry:冶金"]


def random_inputs(rng: Random) -> DrawInputs:
    """A random feasible draw: many inspectors, few recusals, every knob turned somewhere."""
    enterprises = [
        Enterprise(f"{rng.getrandbits(64):016x}", rng.choice(STRATA), rng.choice([None, "机械"]))
        for _ in range(rng.randrange(40, 120))
    ]
    inspectors = [
        Inspector(
            f"i-{rng.getrandbits(48):012x}",
            rng.choice([f"1200{n:04d}"] * 8 + [None]),
            rng.choice([None, DRAW_DATE + timedelta(days=rng.randrange(-20, 900))]),
        )
        for n in range(rng.randrange(12, 30))
    ]
    outside = [
        OutsideInspector(f"o-{n}", rng.choice(["市场监管", "税务"]), f"W{n}", None)
        for n in range(rng.randrange(0, 4))
    ]
    ids = [e.id for e in enterprises]
    people = [i.id for i in inspectors] + [o.id for o in outside]
    pairs = [Pair(rng.choice(people), rng.choice(ids)) for _ in range(rng.randrange(0, 30))]
    previous = [Pair(rng.choice(people), rng.choice(ids)) for _ in range(rng.randrange(0, 60))]
    low = rng.choice([None, 5, 15])
    return DrawInputs(
        enterprises=enterprises,
        inspectors=inspectors,
        outside_inspectors=outside,
        recusals=pairs,
        previous_assignments=previous,
        parameters=DrawParameters(
            draw_date=DRAW_DATE,
            team_size=rng.choice([2, 2, 3]),
            rates={s: rng.choice(["0.05", "0.1", "0.33", "1"]) for s in STRATA[:3]},
            default_rate=rng.choice(["0", "0.2"]),
            min_targets=low,
            max_targets=rng.choice([None, 12, 40]) if low != 15 else None,
            outside_per_team=min(len(outside), rng.choice([0, 1])),
        ),
    )


def published(seed_number: int) -> dict[str, Any]:
    rng = Random(seed_number)
    result = run_draw(random_inputs(rng), f"{rng.getrandbits(256):064x}")
    assert result.assignments
    return json.loads(result.to_public_json())


def run_script(document: str | bytes, tmp_path: Path, *, stdin: bool = False) -> int:
    raw = document.encode() if isinstance(document, str) else document
    if stdin:
        args, given = ["-"], raw
    else:
        path = tmp_path / "draw.json"
        path.write_bytes(raw)
        args, given = [str(path)], None
    # Isolated mode from an empty directory: the script cannot import the service's code.
    completed = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        input=given,
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    return completed.returncode


def test_the_script_uses_only_the_standard_library() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


@pytest.mark.parametrize("seed_number", range(8))
def test_the_script_confirms_a_draw_made_by_the_service(seed_number: int, tmp_path: Path) -> None:
    doc = published(seed_number)
    assert run_script(json.dumps(doc, ensure_ascii=False), tmp_path) == 0


def test_the_script_reads_the_document_from_stdin(tmp_path: Path) -> None:
    doc = published(100)
    assert run_script(json.dumps(doc), tmp_path, stdin=True) == 0


def test_the_script_confirms_a_document_reformatted_with_indentation(tmp_path: Path) -> None:
    doc = published(101)
    assert run_script(json.dumps(doc, indent=2, ensure_ascii=True), tmp_path) == 0


def tamper_seed(doc: dict[str, Any]) -> None:
    doc["seed"] = "ab" * 32


def tamper_seed_and_commitment(doc: dict[str, Any]) -> None:
    import hashlib

    doc["seed"] = "ab" * 32
    doc["seed_commitment"] = hashlib.sha256(bytes.fromhex(doc["seed"])).hexdigest()


def tamper_swap_inspector(doc: dict[str, Any]) -> None:
    team = doc["result"]["assignments"][0]["inspectors"]
    others = [i for i in doc["inputs"]["inspectors"] if i not in team]
    team[0] = others[0]
    team.sort()


def tamper_swap_teams(doc: dict[str, Any]) -> None:
    first, *_, last = doc["result"]["assignments"]
    first["inspectors"], last["inspectors"] = last["inspectors"], first["inspectors"]


def tamper_remove_drawn_enterprise(doc: dict[str, Any]) -> None:
    del doc["result"]["assignments"][0]


def tamper_remove_pool_enterprise(doc: dict[str, Any]) -> None:
    drawn = {a["enterprise_id"] for a in doc["result"]["assignments"]}
    for ids in doc["inputs"]["enterprises"].values():
        undrawn = [e for e in ids if e not in drawn]
        if undrawn:
            ids.remove(undrawn[0])
            return


def tamper_rate(doc: dict[str, Any]) -> None:
    doc["inputs"]["parameters"]["rates"]["risk:poor"] = "0.9"


def tamper_add_recusal(doc: dict[str, Any]) -> None:
    doc["inputs"]["recusals"].append(
        ["i-intruder", doc["result"]["assignments"][0]["enterprise_id"]]
    )


def tamper_hide_a_certified_inspector(doc: dict[str, Any]) -> None:
    drawn = doc["result"]["assignments"][0]["inspectors"][0]
    doc["inputs"]["inspectors"].remove(drawn)


TAMPERINGS = [
    tamper_seed,
    tamper_seed_and_commitment,
    tamper_swap_inspector,
    tamper_swap_teams,
    tamper_remove_drawn_enterprise,
    tamper_remove_pool_enterprise,
    tamper_rate,
    tamper_add_recusal,
    tamper_hide_a_certified_inspector,
]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed_number", [1, 2])
def test_the_script_and_the_service_both_reject_a_tampered_draw(
    tamper: Any, seed_number: int, tmp_path: Path
) -> None:
    doc = published(seed_number)
    tamper(doc)
    assert not verify(doc).matches
    assert run_script(json.dumps(doc), tmp_path) == 1


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        json.dumps({"format": "sr-draw-public/1", "algorithm": "sr-draw/1"}).encode(),
        json.dumps({"format": "sr-draw-public/2", "algorithm": "sr-draw/2"}).encode(),
        json.dumps({"format": "sr-draw-public/1", "algorithm": "sr-draw/2"}).encode(),
        json.dumps({"format": "something-else"}).encode(),
    ],
)
def test_the_script_reports_a_document_it_cannot_read(document: bytes, tmp_path: Path) -> None:
    assert run_script(document, tmp_path) == 2


def test_the_script_reports_a_missing_file(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(tmp_path / "absent.json")],
        capture_output=True,
        timeout=60,
    )
    assert completed.returncode == 2


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sr-draw-1"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_the_script_still_confirms_draws_published_as_sr_draw_1(name: str, tmp_path: Path) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert run_script(raw, tmp_path) == 0
    doc = json.loads(raw)
    tamper_swap_teams(doc) if len(doc["result"]["assignments"]) > 1 else tamper_seed(doc)
    assert run_script(json.dumps(doc), tmp_path) == 1


def test_the_script_checks_that_the_commitment_preceded_the_draw(tmp_path: Path) -> None:
    doc = published(102)
    doc["publication"] = {
        "seed_commitment": doc["seed_commitment"],
        "committed_at": "2024-01-10T10:00:00+08:00",
        "drawn_at": "2024-02-01T09:00:20.123456+08:00",
    }
    assert run_script(json.dumps(doc), tmp_path) == 0
    doc["publication"]["committed_at"] = "2024-02-01T01:30:00+00:00"
    assert run_script(json.dumps(doc), tmp_path) == 1
    doc["publication"]["committed_at"] = None
    assert run_script(json.dumps(doc), tmp_path) == 0


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("verify_draw_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LiteralLoads:
    """Section 8 read literally: one pass over every candidate per member picked."""

    def __init__(self, ids: list[str]) -> None:
        self.pool = sorted(ids)
        self.load = dict.fromkeys(ids, 0)

    def choose(self, stream: Any, recused: set, been: set, team: list) -> str:
        best, ties = None, []
        for i in self.pool:
            if i in recused or i in team:
                continue
            key = (1 if i in been else 0, self.load[i])
            if best is None or key < best:
                best, ties = key, [i]
            elif key == best:
                ties.append(i)
        return ties[stream.below(len(ties))]

    def add(self, team: list) -> None:
        for i in team:
            self.load[i] += 1


@pytest.mark.parametrize("seed_number", range(200, 230))
def test_the_scripts_grouped_picks_equal_a_literal_reading_of_the_spec(
    seed_number: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _load_script()
    rng = Random(seed_number)
    doc = None
    while doc is None:
        inputs = random_inputs(rng)
        # Crowd the pool with recusals and previous visits, where shortcuts would go wrong.
        ids = [e.id for e in inputs.enterprises]
        people = [i.id for i in inputs.inspectors]
        crowded = replace(
            inputs,
            recusals=[Pair(rng.choice(people), rng.choice(ids)) for _ in range(len(ids))],
            previous_assignments=[
                Pair(rng.choice(people), rng.choice(ids)) for _ in range(3 * len(ids))
            ],
        )
        try:
            doc = json.loads(run_draw(crowded, f"{rng.getrandbits(256):064x}").to_public_json())
        except ValidationFailed:
            continue  # this random pool cannot be drawn; take the next
    assert doc["result"]["assignments"]
    assert script.check(doc) == []
    monkeypatch.setattr(script, "Loads", LiteralLoads)
    assert script.check(doc) == []


def test_the_benchmark_runs_draw_verify_and_the_script_on_a_small_pool(capsys) -> None:
    bench_path = SCRIPT.with_name("bench_draw.py")
    spec = importlib.util.spec_from_file_location("bench_draw_under_test", bench_path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    assert bench.main(["--sizes", "400", "--inspectors", "30", "--recusals", "50"]) == 0

    out = capsys.readouterr().out
    assert "draw s" in out and "verify s" in out and "script s" in out
    assert "       400" in out
    assert "target is not checked" in out
