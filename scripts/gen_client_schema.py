"""Write client_schema/v<N>/<entity>.json and <entity>.edit.json: op data as JSON Schema.

Generated from the server's marshmallow schemas (server/schemas/sync.py), so a device can
validate an op offline exactly as the server will: ``<entity>.json`` for a create
(``base_version`` null: every field), ``<entity>.edit.json`` for an edit (only the fields that
may change, none required; an entity that is never edited gets a schema nothing passes).
``--check`` exits 1 when the files on disk differ from what would be generated, or when a
file is there that would not be (a test runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.domain.sync import SUPPORTED_SCHEMA_VERSIONS  # noqa: E402
from server.schemas.sync import PAYLOAD_SCHEMAS  # noqa: E402

OUT = ROOT / "client_schema"


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema 2020-12 (``nullable`` becomes a null type)."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in {"nullable", "readOnly"}}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "allOf" in out:
            out = {"anyOf": [*out.pop("allOf"), {"type": "null"}], **out}
    if out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def _document(version: int, name: str, title: str, description: str, body: Any) -> str:
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"client_schema/v{version}/{name}.json",
        "title": title,
        "description": description,
        **body,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def generate() -> dict[Path, str]:
    # A resolver answering None inlines nested schemas (apispec's documented use; its
    # annotation asks for a name).
    plugin = MarshmallowPlugin(
        schema_name_resolver=lambda schema: None  # type: ignore[arg-type,return-value]
    )
    # Registering the plugin with a spec initialises its converter.
    APISpec("client schema", "1", "3.0.3", plugins=[plugin])
    converter = plugin.converter
    assert converter is not None
    files: dict[Path, str] = {}
    for version in SUPPORTED_SCHEMA_VERSIONS:
        for entity, schema_cls in sorted(PAYLOAD_SCHEMAS.items()):
            what = (schema_cls.__doc__ or "").strip()
            body = converter.schema2jsonschema(schema_cls())
            files[OUT / f"v{version}" / f"{entity}.json"] = _document(
                version,
                entity,
                f"{entity} op data, schema version {version}",
                what,
                _to_json_schema(body),
            )
            mutable: frozenset[str] = getattr(schema_cls, "MUTABLE", frozenset())
            if mutable:
                edit = converter.schema2jsonschema(schema_cls(only=sorted(mutable), partial=True))
                edit_body = _to_json_schema(edit)
                edit_description = (
                    f"{what} An edit (base_version set) sends only the fields it changes."
                )
            else:
                edit_body = {"not": {}}
                edit_description = (
                    f"{what} Never edited once stored: the server refuses an edit "
                    "(code immutable_record); send a new record instead."
                )
            files[OUT / f"v{version}" / f"{entity}.edit.json"] = _document(
                version,
                f"{entity}.edit",
                f"{entity} edit op data, schema version {version}",
                edit_description.strip(),
                edit_body,
            )
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    files = generate()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = sorted(set(OUT.glob("v*/*.json")) - set(files))
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        for path in extra:
            print(f"not generated: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale or extra:
            print("run: python scripts/gen_client_schema.py", file=sys.stderr)
        return 1 if stale or extra else 0
    for path in extra:
        path.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} schemas under {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
