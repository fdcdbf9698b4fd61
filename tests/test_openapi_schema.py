"""Issue 18, item 4: the API docs render.

The docs page (Swagger UI) read ``openapi.json`` with a YAML parser that refuses a
key written twice in one object, and failed with "duplicated mapping key": each
operation's answers held, say, 422 twice (ninja's int key and the common errors'
string key). These tests read the schema as raw text with loaders that refuse
duplicated keys, as the docs page does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


class DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicated key {key!r} in {[k for k, _ in pairs]}")
        seen[key] = value
    return seen


def _schema_text() -> str:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.content.decode()


def test_the_strict_json_loader_refuses_duplicates():
    with pytest.raises(DuplicateKey):
        json.loads('{"responses": {"422": {}, "422": {}}}', object_pairs_hook=_refuse_duplicates)


def test_issue18_openapi_json_has_no_duplicated_key_json():
    schema = json.loads(_schema_text(), object_pairs_hook=_refuse_duplicates)
    assert len(schema["paths"]) > 30
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert all(isinstance(status, str) for status in responses), (method, path)
            # The common errors are still declared, once.
            assert "422" in responses and "503" in responses, (method, path)


def _strict_yaml_loader() -> type:
    yaml = pytest.importorskip("yaml")

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            keys = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in keys:
                    raise DuplicateKey(f"duplicated mapping key {key!r}{key_node.start_mark}")
                keys.add(key)
            return super().construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, StrictLoader.construct_mapping
    )
    return StrictLoader


def test_the_strict_yaml_loader_refuses_duplicates():
    yaml = pytest.importorskip("yaml")
    with pytest.raises(DuplicateKey):
        yaml.load('{"responses": {"422": {}, "422": {}}}', Loader=_strict_yaml_loader())


def test_issue18_openapi_json_has_no_duplicated_key_yaml():
    """JSON is YAML: the docs page's parser (js-yaml) reads it as YAML."""
    yaml = pytest.importorskip("yaml")
    schema = yaml.load(_schema_text(), Loader=_strict_yaml_loader())
    assert schema == json.loads(_schema_text())
