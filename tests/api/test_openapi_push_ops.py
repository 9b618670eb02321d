"""The OpenAPI document shows what a push op looks like, entity by entity."""

from __future__ import annotations

from server.schemas.sync import PAYLOAD_SCHEMAS


def test_push_ops_are_documented_with_each_entitys_payload(client) -> None:
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    items = schemas["Push"]["properties"]["ops"]["items"]
    refs = [one["$ref"].rsplit("/", 1)[1] for one in items["oneOf"]]
    assert len(refs) == len(PAYLOAD_SCHEMAS)
    entities = []
    for name in refs:
        op = schemas[name]
        assert set(op["required"]) >= {"op_id", "entity", "id", "client_time", "data"}
        (entity,) = op["properties"]["entity"]["enum"]
        entities.append(entity)
        data_ref = op["properties"]["data"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
        assert schemas[data_ref]["properties"], data_ref
    assert entities == list(PAYLOAD_SCHEMAS)
    hazard = schemas["HazardData"]["properties"]
    assert {"inspection_id", "enterprise_id", "level", "description"} <= set(hazard)
