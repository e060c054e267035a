"""Transport-level contract: health, routing, methods, body parsing, limits, CORS."""
import http.client
import json
import socket

import pytest

from conftest import assert_422, assert_422_at, assert_detail, servers_in, uid, validation_errors

VALID_INSIGHT = {"title": "t", "description": "", "author": "a"}


def test_health(api):
    body = api.call("GET", "/health")
    assert body["status"] == "healthy"
    assert body["service"] == "insights"
    assert isinstance(body["version"], str) and body["version"]
    assert body["database_connected"] is True
    assert set(body) == {"status", "service", "version", "database_connected"}


@pytest.mark.parametrize("path", ["/web", "/nope", "/insight", "/insights/1/extra", "/tags/1/x",
                                  "/categories/1/2", "/statistics/nope", "/health/x"])
def test_unknown_path_is_json_404(api, path):
    assert_detail(api.get(path), 404, "Not Found")


@pytest.mark.parametrize("method,path,allowed", [
    ("PATCH", "/insights", {"GET", "POST"}),
    ("DELETE", "/insights", {"GET", "POST"}),
    ("PUT", "/insights", {"GET", "POST"}),
    ("POST", "/insights/1", {"GET", "PUT", "DELETE"}),
    ("PATCH", "/insights/1", {"GET", "PUT", "DELETE"}),
    ("DELETE", "/tags", {"GET", "POST"}),
    ("POST", "/tags/1", {"GET", "PUT", "DELETE"}),
    ("PUT", "/categories", {"GET", "POST"}),
    ("POST", "/categories/1", {"GET", "PUT", "DELETE"}),
    ("POST", "/health", {"GET"}),
    ("DELETE", "/statistics", {"GET"}),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    resp = api.request(method, path)
    assert_detail(resp, 405, "Method Not Allowed")
    allow = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= allow, f"Allow: {resp.headers.get('Allow')!r}"
    assert method not in allow


def test_get_insights_search_is_path_422(api):
    assert_422(api.get("/insights/search"), ("int_parsing", ["path", "insight_id"]))


def test_trailing_slash_tolerated(api):
    tag = api.call("POST", "/tags/", 201, json={"name": f"slash-{uid()}", "slug": f"slash-{uid()}"})
    ins = api.call("POST", "/insights/", 201, json={**VALID_INSIGHT, "tag_ids": [tag["id"]]})
    assert api.call("GET", f"/insights/{ins['id']}/") == api.call("GET", f"/insights/{ins['id']}")
    listed = api.call("GET", "/insights/", params={"page_size": 5})
    assert listed == api.call("GET", "/insights", params={"page_size": 5})
    assert api.call("GET", f"/tags/{tag['id']}/")["id"] == tag["id"]
    assert isinstance(api.call("GET", "/tags/"), list)
    assert isinstance(api.call("GET", "/categories/"), list)
    assert api.call("GET", "/health/")["status"] == "healthy"
    assert "total_insights" in api.call("GET", "/statistics/")
    assert "total" in api.call("POST", "/insights/search/", json={})


@pytest.mark.parametrize("body", [
    b"", b"{", b'{"title": "x",}', b"{'title': 'x'}", b"nul", b'{"title": "x"} trailing',
    b'{title: "x"}', b'{"title": "x"} /* comment */', b'{"page": 01}', b'{"page": +1}',
    b'{"page": 0x1}', b'{"tag_ids": [1,]}', b'{"title": "raw\ttab"}', b'{"title": "raw\nnewline"}',
    b'{"title": "x"}{"title": "y"}',
    # What json-c accepts in strict mode (found by tests/fuzz/api/fuzz_body.c).
    b"{'page': 1}", b'{"page": 00}', b'{"page": -01}', b'{"page": 1.}', b'{"page": -.5}',
    b'{"title": "x',
], ids=["empty", "open", "trailing-comma", "single-quotes", "nul", "trailing-text", "bare-key",
        "comment", "leading-zero", "plus-sign", "hex", "list-trailing-comma", "raw-tab",
        "raw-newline", "two-documents", "single-quoted-key", "double-zero",
        "negative-leading-zero", "bare-point", "no-integer-part", "cut-string"])
def test_malformed_json_is_422(api, body):
    for method, path in (("POST", "/insights"), ("POST", "/tags"), ("POST", "/categories"),
                         ("POST", "/insights/search")):
        resp = api.request(method, path, data=body, headers={"Content-Type": "application/json"})
        items = validation_errors(resp)
        assert items[0]["loc"][0] == "body"
        if body:
            assert items[0]["type"] == "json_invalid", items
            assert len(items[0]["loc"]) == 2 and isinstance(items[0]["loc"][1], int), items
            assert 0 <= items[0]["loc"][1] <= len(body), items


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_422(api, token):
    body = '{"title": "t", "description": "", "author": "a", "category_id": %s}' % token
    resp = api.post("/insights", data=body, headers={"Content-Type": "application/json"})
    assert validation_errors(resp)[0]["loc"][0] == "body"


def test_json_invalid_reports_char_offset(api):
    resp = api.post("/insights", data=b'{"title": "x", }', headers={"Content-Type": "application/json"})
    items = validation_errors(resp)
    assert items[0]["type"] == "json_invalid"
    assert items[0]["loc"][0] == "body" and 0 <= items[0]["loc"][1] <= 16


@pytest.mark.parametrize("body", ["[]", "[1, 2]", "5", "1.5", '"a string"', "true", "null", " 7 "])
def test_non_object_json_body_is_422(api, body):
    ins = api.create_insight()
    for method, path in (("POST", "/insights"), ("PUT", f"/insights/{ins['id']}"),
                         ("POST", "/tags"), ("POST", "/categories"), ("POST", "/insights/search")):
        resp = api.request(method, path, data=body, headers={"Content-Type": "application/json"})
        if body == "null":  # FastAPI treats a null body as a missing one
            items = assert_422_at(resp, ["body"])
            assert items[0]["type"] in ("model_attributes_type", "missing")
        else:
            assert_422(resp, ("model_attributes_type", ["body"]))


def test_empty_body_on_put_is_422(api):
    ins = api.create_insight()
    tag = api.create_tag()
    cat = api.create_category()
    for path in (f"/insights/{ins['id']}", f"/tags/{tag['id']}", f"/categories/{cat['id']}"):
        resp = api.put(path, data=b"", headers={"Content-Type": "application/json"})
        assert validation_errors(resp)[0]["loc"][0] == "body"
    assert api.insight(ins["id"]) == ins


@pytest.mark.parametrize("raw", [
    b'{"title": "\xff\xfe", "description": "", "author": "a"}',
    b'{"title": "ok", "description": "\xc3", "author": "a"}',
    b'{"title": "ok", "description": "", "author": "\xc0\xaf"}',  # overlong encoding of "/"
    b'{"title": "\xed\xa0\x80", "description": "", "author": "a"}',  # an encoded surrogate
    b'{"title": "ok", "description": "", "author": "a", "\xff": 1}',  # in a key
], ids=["ff-fe", "truncated", "overlong", "surrogate", "key"])
def test_invalid_utf8_in_json_body_is_422(api, raw):
    before = api.list_insights()["total"]
    resp = api.post("/insights", data=raw, headers={"Content-Type": "application/json"})
    assert validation_errors(resp)[0]["loc"][0] == "body"
    assert api.list_insights()["total"] == before


def test_deeply_nested_json_is_rejected_cleanly(api):
    for body in ("[" * 100000, '{"title": ' + "[" * 50000 + "]" * 50000 + "}"):
        resp = api.post("/insights", data=body, headers={"Content-Type": "application/json"})
        validation_errors(resp)
    assert api.call("GET", "/health")["status"] == "healthy"


def test_invalid_utf8_in_query_is_422(api):
    resp = api.get("/insights?author=%FF%FE")
    assert_422(resp, ("string_unicode", ["query", "author"]))


def test_keep_alive_reuses_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        assert first.status == 200
        first.read()
        sock = conn.sock
        assert sock is not None, "the server closed the connection after one request"
        conn.request("GET", "/insights?page_size=1")
        second = conn.getresponse()
        assert second.status == 200
        json.loads(second.read())
        assert conn.sock is sock
    finally:
        conn.close()


def test_keep_alive_survives_error_answers(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for method, path, body, status in (("GET", "/nope", None, 404),
                                           ("POST", "/insights", b"{", 422),
                                           ("PATCH", "/insights", None, 405),
                                           ("GET", "/health", None, 200)):
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            assert resp.status == status
            json.loads(resp.read())
    finally:
        conn.close()


# -- body size limit ---------------------------------------------------------

def padded_insight(size):
    """A valid insight body of exactly `size` bytes."""
    base = json.dumps({**VALID_INSIGHT, "description": ""}).encode()
    body = json.dumps({**VALID_INSIGHT, "description": "x" * (size - len(base))}).encode()
    assert len(body) == size
    return body


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    """A server that accepts bodies of at most 4096 bytes."""
    with servers_in(tmp_path_factory.mktemp("limited")) as servers:
        yield servers.start(args=["--max-body", "4096"])


def test_body_limit(limited_server):
    api = limited_server.api
    headers = {"Content-Type": "application/json"}
    before = api.list_insights()["total"]

    assert_detail(api.post("/insights", data=padded_insight(10 * 1024), headers=headers), 413)
    assert_detail(api.post("/insights", data=padded_insight(4097), headers=headers), 413)
    assert api.list_insights()["total"] == before

    assert api.post("/insights", data=padded_insight(4000), headers=headers).status_code == 201
    assert api.post("/insights", data=padded_insight(4096), headers=headers).status_code == 201
    assert api.list_insights()["total"] == before + 2


def raw_exchange(port, data, timeout=30):
    """Sends raw bytes on a new connection; returns everything read until the
    server closes the connection or the timeout passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
        return received


def chunked_post(path, body, chunk_size=1000):
    out = [f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()]
    for i in range(0, len(body), chunk_size):
        piece = body[i:i + chunk_size]
        out.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n")[0].decode()
    assert status_line.startswith("HTTP/1."), f"no HTTP response: {raw[:300]!r}"
    return int(status_line.split()[1]), body


def test_body_limit_chunked(limited_server):
    """Without a Content-Length (chunked transfer encoding) the limit holds too."""
    srv = limited_server
    before = srv.api.list_insights()["total"]
    status, body = parse_response(raw_exchange(srv.port, chunked_post("/insights", padded_insight(3000))))
    assert status == 201, body
    status, body = parse_response(raw_exchange(srv.port, chunked_post("/insights", padded_insight(10240))))
    assert status == 413, body
    assert isinstance(json.loads(body)["detail"], str)
    assert srv.api.list_insights()["total"] == before + 1


def test_default_body_limit_is_one_mebibyte(api):
    headers = {"Content-Type": "application/json"}
    assert api.post("/insights", data=padded_insight(1024 * 1024), headers=headers).status_code == 201
    assert_detail(api.post("/insights", data=padded_insight(1024 * 1024 + 1), headers=headers), 413)


# -- CORS ----------------------------------------------------------------------

def preflight(api, origin, method="POST", path="/insights"):
    return api.request("OPTIONS", path, check=False, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type"})


def test_cors_wildcard_default(api):
    resp = api.get("/health", headers={"Origin": "https://x.example"})
    assert resp.status_code == 200
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"
    resp = api.post("/insights", json={}, headers={"Origin": "https://x.example"})
    assert resp.status_code == 422
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"

    for method, path, status in (("GET", "/nope", 404), ("PATCH", "/insights", 405),
                                 ("GET", "/insights/abc", 422), ("DELETE", "/tags/999999999", 404)):
        resp = api.request(method, path, headers={"Origin": "https://x.example"})
        assert resp.status_code == status
        assert resp.headers.get("Access-Control-Allow-Origin") == "*", (method, path)

    pre = preflight(api, "https://x.example")
    assert 200 <= pre.status_code < 300, pre.text
    methods = {m.strip() for m in pre.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert "POST" in methods or "*" in methods, pre.headers


def test_cors_allow_list(servers):
    api = servers.start(args=["--cors-origins", "https://a.example,https://b.example"]).api
    for origin in ("https://a.example", "https://b.example"):
        resp = api.get("/health", headers={"Origin": origin})
        assert resp.status_code == 200
        assert resp.headers.get("Access-Control-Allow-Origin") == origin
        assert "origin" in resp.headers.get("Vary", "").lower()
        pre = preflight(api, origin)
        assert 200 <= pre.status_code < 300, pre.text
        assert pre.headers.get("Access-Control-Allow-Origin") == origin
        assert "POST" in pre.headers.get("Access-Control-Allow-Methods", "")

    resp = api.get("/health", headers={"Origin": "https://evil.example"})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    pre = preflight(api, "https://evil.example")
    assert pre.status_code == 400
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_cors_single_origin(servers):
    api = servers.start(args=["--cors-origins", "https://a.example"]).api
    resp = api.get("/insights", headers={"Origin": "https://a.example"})
    assert resp.headers.get("Access-Control-Allow-Origin") == "https://a.example"
    assert "origin" in resp.headers.get("Vary", "").lower()
    assert "Access-Control-Allow-Origin" not in api.get(
        "/insights", headers={"Origin": "https://a.example.evil"}).headers


def test_env_configuration(servers):
    """DATABASE_URL, INSIGHTS_HOST, INSIGHTS_PORT and INSIGHTS_MAX_BODY configure the server."""
    db = servers.database()
    srv = servers.start(db, env={"INSIGHTS_MAX_BODY": "2048"}, via_env=True)
    headers = {"Content-Type": "application/json"}
    assert_detail(srv.api.post("/insights", data=padded_insight(2049), headers=headers), 413)
    created = srv.api.post("/insights", data=padded_insight(2048), headers=headers)
    assert created.status_code == 201
    srv.stop_and_check()
    again = servers.start(db)  # flags this time: the same database holds the insight
    assert again.api.insight(created.json()["id"]) == created.json()
