"""The domain is plain Python: no module of it imports a web, database or scheduling framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "server" / "domain"
FRAMEWORKS = frozenset({"flask", "sqlalchemy", "apscheduler", "marshmallow", "reportlab"})


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN))
)
def test_no_domain_module_imports_a_framework(path: Path) -> None:
    assert _imported_packages(path) & FRAMEWORKS == set()
