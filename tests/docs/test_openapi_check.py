"""Unit tests of tests/openapi_check.py: path matching, status and $ref
resolution, and that it rejects what the document does not allow. No server
is needed: the bodies are made up here, from the document's own examples."""
import copy
import json
import os
import sys

import jsonschema
import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)
import openapi_check  # noqa: E402
from openapi_check import SPEC_PATH, load_spec, validate_response  # noqa: E402

with open(SPEC_PATH, encoding="utf-8") as _f:
    SPEC = json.load(_f)
SCHEMAS = SPEC["components"]["schemas"]
INSIGHT = SCHEMAS["Insight"]["example"]
TAG = SCHEMAS["Tag"]["example"]
CATEGORY = SCHEMAS["Category"]["example"]
PAGE = SCHEMAS["InsightPage"]["example"]
REQUEST_ID = {"X-Request-ID": "0123456789abcdef0123456789abcdef"}


def rejects(*args, match=None, **kw):
    with pytest.raises(AssertionError) as info:
        validate_response(*args, **kw)
    if match:
        assert match in str(info.value), str(info.value)
    return str(info.value)


def test_schemas_are_valid_json_schema():
    for name, schema in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_schema_example_is_valid():
    spec = load_spec()
    for name, schema in SCHEMAS.items():
        if "example" in schema:
            errors = list(spec.validator(schema).iter_errors(schema["example"]))
            assert not errors, f"{name}: {errors[0].message}"


def test_valid_bodies_pass():
    validate_response("GET", "/insights/42", 200, INSIGHT)
    validate_response("POST", "/insights", 201, INSIGHT)
    validate_response("GET", "/insights?page=2&status=draft", 200, PAGE)
    validate_response("GET", "/tags", 200, [TAG, TAG])
    validate_response("GET", "/tags", 200, [])
    validate_response("GET", "/categories/1", 200, CATEGORY)
    validate_response("DELETE", "/tags/3", 204, None)
    validate_response("GET", "/statistics", 200, SCHEMAS["Statistics"]["example"])
    validate_response("GET", "/health", 503, {"status": "unhealthy", "service": "insights",
                                              "version": "1.0.0", "database_connected": False})


def test_trailing_slash_query_and_escapes_are_ignored():
    validate_response("GET", "/insights/", 200, PAGE)
    validate_response("GET", "/insights/42/?x=1", 200, INSIGHT)
    validate_response("GET", "/tags/%31", 200, TAG)


def test_literal_segment_wins_and_method_picks_the_route():
    # POST /insights/search is the search; GET /insights/search is /insights/{insight_id}.
    validate_response("POST", "/insights/search", 200, PAGE)
    path_422 = {"detail": [{"type": "int_parsing", "loc": ["path", "insight_id"],
                            "msg": "Input should be a valid integer, unable to parse string as an integer"}]}
    validate_response("GET", "/insights/search", 422, path_422)
    rejects("GET", "/insights/search", 200, PAGE, match="getInsight")


def test_refs_are_resolved_in_nested_schemas():
    bad = copy.deepcopy(PAGE)
    bad["insights"][0]["tags"][0]["color"] = "blue"  # Insight -> Tag -> color pattern
    msg = rejects("POST", "/insights/search", 200, bad)
    assert "insights/0/tags/0/color" in msg


def test_shapes_are_exact():
    extra = {**INSIGHT, "surprise": 1}
    rejects("GET", "/insights/1", 200, extra, match="surprise")
    missing = {k: v for k, v in INSIGHT.items() if k != "published_at"}
    rejects("GET", "/insights/1", 200, missing, match="published_at")
    rejects("GET", "/insights/1", 200, {**INSIGHT, "priority": "urgent"})
    rejects("GET", "/insights/1", 200, {**INSIGHT, "created_at": "2025-12-23 18:00:00"})
    rejects("GET", "/insights/1", 200, {**INSIGHT, "title": None})
    validate_response("GET", "/insights/1", 200, {**INSIGHT, "content": None, "category": None,
                                                   "category_id": None, "published_at": None})
    # The embedded category has no insight_count; a listed one must have it.
    rejects("GET", "/insights/1", 200, {**INSIGHT, "category": CATEGORY}, match="insight_count")
    rejects("GET", "/categories/1", 200, INSIGHT["category"], match="insight_count")


def test_errors():
    validate_response("GET", "/tags/9", 404, {"detail": "Tag not found"})
    rejects("GET", "/tags/9", 404, {"detail": ""})
    rejects("GET", "/tags/9", 404, {"detail": [{"type": "x", "loc": ["path"], "msg": "m"}]})
    validate_response("POST", "/tags", 422, {"detail": [
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required"},
        {"type": "int_type", "loc": ["body", "tag_ids", 2], "msg": "Input should be a valid integer"}]})
    rejects("POST", "/tags", 422, {"detail": []})
    rejects("POST", "/tags", 422, {"detail": [{"type": "x", "loc": ["cookie", "a"], "msg": "m"}]})
    validate_response("POST", "/tags", 409, {"detail": "Tag with name 'a' already exists"})
    rejects("GET", "/insights", 409, {"detail": "conflict"}, match="not documented")
    rejects("DELETE", "/insights/1", 409, {"detail": "conflict"}, match="not documented")
    validate_response("GET", "/statistics", 503, {"detail": "The database is unavailable"},
                      headers={**REQUEST_ID, "Retry-After": "1"})
    rejects("GET", "/statistics", 503, {"detail": "The database is unavailable"},
            headers=REQUEST_ID, match="Retry-After")


def test_router_answers():
    not_found = {"detail": "Not Found"}
    validate_response("GET", "/nowhere", 404, not_found)
    validate_response("GET", "/insights/1/extra", 404, not_found)
    rejects("GET", "/nowhere", 200, {}, match="no path matching")
    validate_response("PATCH", "/insights", 405, {"detail": "Method Not Allowed"})
    rejects("PATCH", "/insights", 200, INSIGHT, match="405")
    validate_response("GET", "/health", 413, {"detail": "Request body exceeds the limit of 10 bytes"})
    validate_response("OPTIONS", "/insights", 204, None)
    validate_response("OPTIONS", "/insights", 400, {"detail": "Disallowed CORS origin"})
    validate_response("HEAD", "/insights", 200, None)


def test_bodies_of_other_kinds():
    validate_response("GET", "/metrics", 200, "# TYPE x counter\nx 1\n",
                      content_type="text/plain; version=0.0.4; charset=utf-8")
    validate_response("GET", "/docs", 200, b"<!doctype html>", content_type="text/html; charset=utf-8")
    validate_response("GET", "/docs/favicon-32x32.png", 200, b"\x89PNG\r\n", content_type="image/png")
    validate_response("GET", "/tags/1", 200, json.dumps(TAG))  # JSON text is parsed
    rejects("GET", "/tags/1", 200, "{not json", match="not JSON")
    rejects("GET", "/metrics", 200, "x 1", content_type="application/json", match="Content-Type")
    rejects("DELETE", "/tags/1", 204, {"detail": "x"}, match="no body")
    rejects("GET", "/tags/1", 200, None, match="promises a body")


def test_headers():
    version = {**REQUEST_ID, "ETag": '"3"'}
    validate_response("GET", "/tags/1", 200, TAG, headers=version)
    rejects("GET", "/tags/1", 200, TAG, headers={"ETag": '"3"'}, match="X-Request-ID")
    rejects("GET", "/tags/1", 200, TAG, headers={"x-request-id": "bad id", "ETag": '"3"'},
            match="X-Request-ID")
    rejects("GET", "/tags/1", 200, TAG, headers=REQUEST_ID, match="ETag")
    validate_response("GET", "/insights/1", 304, None, headers=version)
    etag = '"' + "ab" * 32 + '"'
    validate_response("GET", "/docs/swagger-ui.css", 304, None,
                      headers={**REQUEST_ID, "ETag": etag, "Cache-Control": "public, max-age=3600"})
    rejects("GET", "/docs/swagger-ui.css", 304, None,
            headers={**REQUEST_ID, "ETag": "W/" + etag, "Cache-Control": "public, max-age=3600"},
            match="ETag")


def test_another_document(tmp_path):
    doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/things/{id}": {"get": {"responses": {"default": {"description": "x", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
           "components": {"schemas": {"Thing": {"type": "object", "required": ["n"],
                                                "properties": {"n": {"type": "integer"}}}}}}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    validate_response("GET", "/things/1", 500, {"n": 1}, spec_path=str(path))
    with pytest.raises(AssertionError):
        validate_response("GET", "/things/1", 200, {"n": "1"}, spec_path=str(path))
    assert openapi_check.load_spec(str(path)) is openapi_check.load_spec(str(path))
