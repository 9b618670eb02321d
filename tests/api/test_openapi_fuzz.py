"""Schemathesis drives every documented route: no 5xx, every answer as documented.

Each operation is exercised as an inspector and as a manager, with data that follows the
schema (valid USCCs and sha256s included, and the ids of records that exist, so "found"
paths run as well as "not found") and with data that breaks it. Every response must have a
documented status, content type and body; since every operation lists its error statuses
(no catch-all ``default``), an undocumented 4xx fails as surely as a 5xx.

Deterministic by default, for CI. ``FUZZ_EXAMPLES=300`` runs more examples per operation,
mode and role; ``FUZZ_SEED=<n>`` explores with a seed instead of the fixed examples.
"""

from __future__ import annotations

import os
import random
import re
from collections import defaultdict
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from server.services.demo import make_uscc
from tests.agency_rows import make_rows
from tests.conftest import PASSWORD

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SEED = os.environ.get("FUZZ_SEED")

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    # Data that breaks the schema must also be refused with a 4xx.
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}

# Valid codes where the schema asks for a USCC, so that creating an enterprise can succeed.
schemathesis.openapi.format(
    "uscc", st.integers(min_value=0).map(lambda n: make_uscc(random.Random(n)))
)

_PARAMETER = re.compile(r"<(?:[^:>]+:)?(\w+)>")
# Operations whose "found" path the positive examples must reach, or the test proves little.
MUST_SUCCEED = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/enterprises"),
    ("GET", "/api/v1/enterprises/{enterprise_id}"),
    ("PATCH", "/api/v1/enterprises/{enterprise_id}"),
    ("GET", "/api/v1/enterprises/{enterprise_id}/entry-code"),
    ("GET", "/api/v1/hazards/{hazard_id}"),
    ("GET", "/api/v1/documents/{document_id}"),
    ("GET", "/api/v1/sync/ops/{op_id}"),
    ("GET", "/api/v1/attachments/{sha256}"),
    ("PUT", "/api/v1/attachments/{sha256}"),
    ("GET", "/api/v1/draw-plans/{plan_id}"),
    ("GET", "/api/v1/draws/{draw_id}"),
    ("GET", "/api/v1/draws/{draw_id}/verify"),
    ("GET", "/api/v1/cases/{case_id}"),
    ("GET", "/api/v1/penalty-decisions/{decision_id}"),
}


def _documented_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every /api/v1 view method, from the url_map."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        methods = getattr(getattr(view, "view_class", None), "methods", None) or rule.methods
        path = _PARAMETER.sub(r"{\1}", rule.rule)
        routes |= {(m, path) for m in methods if m != "OPTIONS"}
    return routes


def _known_values(rows, operation) -> list[dict[str, Any]]:
    """Path parameters naming existing records (both cases: a decided and an open one)."""
    names = re.findall(r"{(\w+)}", operation.path)
    if not names or not all(n in rows.ids for n in names):
        return []
    known = {n: rows.ids[n] for n in names}
    variants = [known]
    if "case_id" in known:
        variants.append({**known, "case_id": rows.ids["open_case_id"]})
    return variants


def _strategy(operation, mode: GenerationMode, rows, username: str, headers):
    # The token is fixed, never generated: negative data breaks the request, not the login.
    def cases(**fixed: Any):
        return operation.as_strategy(generation_mode=mode, headers=headers, **fixed)

    strategies = [cases()]
    if mode is GenerationMode.POSITIVE:
        strategies += [cases(path_parameters=values) for values in _known_values(rows, operation)]
        key = (operation.method.upper(), operation.path)
        if key == ("POST", "/api/v1/auth/login"):
            body = {"username": username, "password": PASSWORD, "device_id": "fuzz-login"}
            strategies.append(cases(body=body))
        if key == ("PUT", "/api/v1/attachments/{sha256}"):
            strategies.append(
                cases(
                    path_parameters={"sha256": rows.ids["sha256"]},
                    body=rows.photo,
                    media_type="application/octet-stream",
                )
            )
    return st.one_of(strategies)


def _exercise(
    operation, mode: GenerationMode, rows, role: str, headers, username: str, seen: set[int]
) -> str | None:
    """Run one operation; the failure found, as text, or None. Statuses go into ``seen``."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, rows, username, headers))
    def run(case) -> None:
        seen.add(case.call_and_validate(checks=CHECKS[mode]).status_code)

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.path
        return None  # nothing in this request can be made invalid (no parameters, no body)
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a FailureGroup
        where = f"{operation.method.upper()} {operation.path} ({mode.value} data, as {role})"
        return f"{where}: {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_route_fails_or_answers_outside_its_documentation(app, world, client, mode) -> None:
    rows = make_rows(world, client, "nankai", "天津市南开区应急管理局", "南开")
    manager = world.user(agency="nankai", role="manager")
    # The inspector's phone is the device whose id is fed to the revoke route: the inspector
    # runs first and on a phone of its own, so a revocation never cuts the fuzzing short.
    inspector = world.user(agency="nankai", role="inspector", cert_no="nankai-0003")
    # The WSGI client does not decompress: it asks for bodies as they are (the pull is
    # gzipped for clients that accept it).
    plain = {"Accept-Encoding": "identity"}
    roles = [
        ("inspector", inspector.username, {**world.login(inspector.username), **plain}),
        ("manager", manager.username, {**world.login(manager.username), **plain}),
    ]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {(op.method.upper(), op.path) for op in operations}
    assert documented == _documented_routes(app)
    seen: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    failures = [
        failure
        for role, username, headers in roles
        for op in operations
        if (
            failure := _exercise(
                op, mode, rows, role, headers, username, seen[(role, op.method.upper(), op.path)]
            )
        )
    ]
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    if mode is GenerationMode.POSITIVE:
        unreached = sorted(
            key for key in MUST_SUCCEED if not any(s < 300 for s in seen[("manager", *key)])
        )
        assert not unreached, f"valid examples never succeeded on {unreached}"
