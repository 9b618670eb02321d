"""client_schema/ is generated from the server's schemas and accepts what the server accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from server.schemas.sync import PAYLOAD_SCHEMAS
from tests.sync_support import document_op, hazard_op, inspection_op, op, scan_op

ROOT = Path(__file__).resolve().parents[2]


def _schema(name: str) -> dict:
    return json.loads((ROOT / "client_schema" / "v1" / f"{name}.json").read_text())


def test_the_checked_in_schemas_match_the_server() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_client_schema.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_there_is_a_create_and_an_edit_schema_per_entity() -> None:
    files = {p.stem for p in (ROOT / "client_schema" / "v1").glob("*.json")}
    assert files == set(PAYLOAD_SCHEMAS) | {f"{e}.edit" for e in PAYLOAD_SCHEMAS}


def test_a_file_the_generator_would_not_write_counts_as_drift(tmp_path) -> None:
    stray = ROOT / "client_schema" / "v1" / "stray.json"
    stray.write_text("{}")
    try:
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "gen_client_schema.py"), "--check"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        stray.unlink()
    assert result.returncode == 1 and "stray.json" in result.stderr


EXAMPLES = {
    "scan": scan_op("https://enforce.example.cn/e/token", ["7d44dc62-8d73-43fd-90a0-7d088267cf0e"]),
    "inspection": inspection_op(
        "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
        ["7d44dc62-8d73-43fd-90a0-7d088267cf0e", "06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11"],
    ),
    "hazard": hazard_op(
        "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
        "06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11",
        photos=["a" * 64],
    ),
    "document": document_op(
        "rectification_order",
        "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
        ["06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11"],
        deadline="2024-05-20",
    ),
    "rectification": op(
        "rectification",
        {
            "hazard_id": "06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11",
            "reported_at": "2024-05-10T09:00:00+08:00",
            "description": "已加锁并张贴警示标识",
            "evidence_attachments": ["b" * 64],
        },
    ),
}


@pytest.mark.parametrize("entity", sorted(EXAMPLES))
def test_example_payloads_pass_both_the_json_schema_and_the_server(entity: str) -> None:
    data = EXAMPLES[entity]["data"]
    jsonschema.validate(data, _schema(entity), format_checker=jsonschema.FormatChecker())
    PAYLOAD_SCHEMAS[entity]().load(data)


@pytest.mark.parametrize(
    ("entity", "change"),
    [
        ("inspection", {"inspector_ids": ["7d44dc62-8d73-43fd-90a0-7d088267cf0e"]}),
        ("inspection", {"kind": "spaceflight"}),
        ("hazard", {"level": "catastrophic"}),
        ("hazard", {"status": "closed"}),
        ("hazard", {"photo_attachments": ["not-a-hash"]}),
        ("scan", {"location": {"lat": 500, "lng": 0}}),
        (
            "scan",
            {"inspector_ids": ["7d44dc62-8d73-43fd-90a0-7d088267cf0e"] * 2},
        ),
        (
            "inspection",
            {
                "inspector_ids": [
                    "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
                    "06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11",
                    "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
                ]
            },
        ),
        ("document", {"hazard_ids": ["06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11"] * 2}),
    ],
)
def test_bad_payloads_fail_both_the_json_schema_and_the_server(entity: str, change: dict) -> None:
    data = {**EXAMPLES[entity]["data"], **change}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _schema(entity), format_checker=jsonschema.FormatChecker())
    with pytest.raises(Exception) as raised:
        PAYLOAD_SCHEMAS[entity]().load(data)
    assert type(raised.value).__name__ == "ValidationError"


def _server_edit(entity: str, data: dict) -> None:
    """What the server checks of an edit's data before it looks at the record."""
    from server.services.sync.handlers import load_payload
    from server.services.sync.records import immutable_fields

    loaded = load_payload(entity, data, base_version=1)
    immutable_fields(loaded, PAYLOAD_SCHEMAS[entity].MUTABLE)


EDITS = [
    ("hazard", {"description": "配电箱已上锁，警示标识未张贴"}),
    ("hazard", {"location": "三号仓库东侧", "photo_attachments": ["c" * 64]}),
    ("hazard", {}),
    ("inspection", {"ended_at": "2024-05-06T18:30:00+08:00"}),
    (
        "inspection",
        {
            "inspector_ids": [
                "7d44dc62-8d73-43fd-90a0-7d088267cf0e",
                "06a0b7c4-1c1e-4d38-9a35-2f1f6f0e3b11",
            ],
            "representative": None,
            "items": [{"item": "消防通道", "result": "ok"}],
        },
    ),
]


@pytest.mark.parametrize(("entity", "data"), EDITS)
def test_example_edits_pass_both_the_edit_schema_and_the_server(entity: str, data: dict) -> None:
    jsonschema.validate(data, _schema(f"{entity}.edit"), format_checker=jsonschema.FormatChecker())
    _server_edit(entity, data)


@pytest.mark.parametrize(
    ("entity", "data"),
    [
        ("hazard", {"status": "closed"}),
        ("hazard", {"inspection_id": "7d44dc62-8d73-43fd-90a0-7d088267cf0e"}),
        ("hazard", {"level": "catastrophic"}),
        # The level changes only through the office's reclassify step.
        ("hazard", {"level": "major"}),
        ("inspection", {"enterprise_id": "7d44dc62-8d73-43fd-90a0-7d088267cf0e"}),
        ("inspection", {"inspector_ids": ["7d44dc62-8d73-43fd-90a0-7d088267cf0e"]}),
        ("inspection", {"ended_at": 20240506}),
        ("document", {"content": "改"}),
        ("scan", {"code": "x"}),
        ("rectification", {}),
    ],
)
def test_bad_edits_fail_both_the_edit_schema_and_the_server(entity: str, data: dict) -> None:
    from server.domain.errors import ValidationFailed

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            data, _schema(f"{entity}.edit"), format_checker=jsonschema.FormatChecker()
        )
    if PAYLOAD_SCHEMAS[entity].MUTABLE:
        with pytest.raises(ValidationFailed):
            _server_edit(entity, data)


@pytest.mark.parametrize("entity", sorted(PAYLOAD_SCHEMAS))
def test_an_edit_schema_requires_nothing_and_knows_only_what_may_change(entity: str) -> None:
    schema = _schema(f"{entity}.edit")
    mutable = PAYLOAD_SCHEMAS[entity].MUTABLE
    assert "required" not in schema
    assert set(schema.get("properties", {})) == set(mutable)
