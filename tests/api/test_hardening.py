"""A hostile client's attacks, each once a defect: memory amplification by
slow readers, cache keys confused by encoded separators, connections held by
trickling bytes, requests a proxy would read differently, NULs in paths and
queries, lone surrogates, a reserved category name."""
import json
import os
import socket
import time

import pytest
import requests

from harness import REPO
from conftest import BACKEND, BIN, assert_422, assert_detail, run_cli, uid, word

HEAD_408 = b"HTTP/1.1 408"
# Under AddressSanitizer memory is the sanitizer's (quarantined, shadowed):
# RSS says nothing about the service's own bounds there.
def sanitized(path):
    with open(path, "rb") as f:
        return b"AddressSanitizer" in f.read()


SANITIZED = sanitized(BIN)
# Memory is measured on an unsanitized build: the binary under test, or else
# the optimised build of the same tree (make test builds it first), or none.
_RELEASE = os.path.join(REPO, "build", "insights")
MEMORY_BIN = (BIN if not SANITIZED else
              _RELEASE if os.access(_RELEASE, os.X_OK) and not sanitized(_RELEASE) else None)


def rss_mb(pid):
    """The service's own memory: anonymous and shared, not the database file
    it maps (RssFile: pages of the kernel's page cache, counted once per
    SQLite connection that maps them)."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value
    if "RssAnon" not in fields:
        raise AssertionError("no RssAnon")
    return (int(fields["RssAnon"].split()[0]) + int(fields["RssShmem"].split()[0])) / 1024


def raw(port, data, timeout=5.0):
    """Sends raw bytes; returns everything the server answers until it closes
    (or `timeout` passes without a byte: then b"<open>" ends the answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out + b"<open>"
            if not chunk:
                return out
            out += chunk


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else None


def json_detail(answer):
    body = answer.split(b"\r\n\r\n", 1)[1].replace(b"<open>", b"")
    return json.loads(body)["detail"]


# ---------------------------------------------------------------------------
# Memory: slow readers of large pages


def test_content_length_limit_and_slow_readers_stay_bounded(servers):
    """100 insights of the largest content, then slow readers of 100-insight
    pages: answers held for them stay under --response-memory (the rest get
    503), RSS stays bounded, and comes back down after they leave."""
    srv = servers.start(args=["--response-memory", "24M", "--response-cache", "0"],
                        binary=MEMORY_BIN)
    api = srv.api
    author = f"big-{uid()}"
    content = ('"\\' * 32768)  # 65,536 characters, each escaped in JSON: 2 bytes
    for i in range(40):
        api.create_insight(title=f"big {i}", author=author, content=content)
    start = rss_mb(srv.proc.pid)
    socks = []
    for i in range(12):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(f"GET /insights?page_size=100&author={author}&n={i} HTTP/1.1\r\nHost: x\r\n\r\n"
                  .encode())
        socks.append(s)
    time.sleep(2)
    peak = rss_mb(srv.proc.pid)
    statuses = []
    for s in socks:
        s.settimeout(10)
        statuses.append(status_of(s.recv(64)))
        s.close()
    # Each page is about 5.3 MB of JSON: four fit in 24 MB, the rest wait for nothing.
    assert statuses.count(200) >= 2 and statuses.count(503) >= 4, statuses
    assert set(statuses) <= {200, 503}, statuses
    if MEMORY_BIN:
        assert peak - start < 80, f"RSS grew by {peak - start:.0f} MB with 12 slow readers"
        time.sleep(1.5)
        after = rss_mb(srv.proc.pid)
        assert after - start < 20, f"RSS stayed {after - start:.0f} MB above its start after the burst"
    # The server still answers those pages to a client that reads.
    page = api.call("GET", "/insights", params={"page_size": 100, "author": author})
    assert page["total"] == 40 and page["insights"][0]["content"] == content


# ---------------------------------------------------------------------------
# The response cache: one key per distinct request


@pytest.mark.parametrize("tricky,plain", [
    ({"author": "bo&status=draft"}, {"author": "bo", "status": "draft"}),
    ({"author": "x&page_size=1"}, {"author": "x", "page_size": "1"}),
    ({"author": "a=b"}, {"author": "a", "b": ""}),
    ({"author": "50%"}, {"author": "50"}),
])
def test_cache_keys_do_not_confuse_encoded_separators(fresh_api, tricky, plain):
    api = fresh_api
    for author in ("bo", "x", "a", "50"):
        api.create_insight(author=author, status="draft")
        api.create_insight(author=author, status="published")
    first = api.call("GET", "/insights", params=plain)
    again = api.call("GET", "/insights", params=tricky)  # cached answers must not mix
    assert again["total"] == 0, (tricky, again["total"])
    assert first["total"] > 0
    assert api.call("GET", "/insights", params=plain) == first


def test_cache_keys_keep_repeated_and_valueless_parameters_apart(fresh_api):
    api = fresh_api
    api.create_insight(author="alice", status="draft")
    api.create_insight(author="alice", status="published")
    base = fresh_api.base_url + "/insights"
    one = requests.get(base + "?status=draft").json()
    both = requests.get(base + "?status=draft&status=published").json()  # the first counts
    assert one["total"] == both["total"] == 1
    assert requests.get(base + "?author").status_code == 200
    assert requests.get(base + "?author=").json()["total"] == 2


# ---------------------------------------------------------------------------
# Slow clients


def test_a_trickled_request_head_gets_408_and_is_closed(servers):
    srv = servers.start(args=["--head-timeout", "1", "--idle-timeout", "5"])
    with socket.create_connection(("127.0.0.1", srv.port), timeout=1) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        started, answer = time.monotonic(), b""
        while time.monotonic() - started < 8:
            try:
                s.sendall(b"X-Slow: y\r\n")  # a byte every half second resets idle time
            except OSError:
                break
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                break
            answer += chunk
        took = time.monotonic() - started
    assert answer.startswith(HEAD_408), answer[:200]
    assert b"The request head took longer than 1 s" in answer
    assert took < 4, f"closed after {took:.1f} s"
    assert srv.api.call("GET", "/health")["status"] == "healthy"


def test_a_trickled_request_line_is_closed(servers):
    srv = servers.start(args=["--head-timeout", "1", "--idle-timeout", "2"])
    with socket.create_connection(("127.0.0.1", srv.port), timeout=0.5) as s:
        started, answer = time.monotonic(), b""
        while time.monotonic() - started < 10:
            try:
                s.sendall(b"G")
            except OSError:
                break
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                break
            answer += chunk
        took = time.monotonic() - started
    assert answer.startswith(HEAD_408) and took < 6, (took, answer[:100])


def test_a_trickled_body_gets_408(servers):
    srv = servers.start(args=["--body-timeout", "1"])
    body = b'{"name": "n", "slug": "s"}'
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
        time.sleep(0.6)
        s.sendall(body[5:10])  # in time: still read
        time.sleep(0.8)
        s.sendall(body[10:15])  # past the deadline: answered at once
        started = time.monotonic()
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert status_of(answer) == 408, answer[:200]
    assert json_detail(answer) == "The request body took longer than 1 s to arrive"
    assert time.monotonic() - started < 2
    assert srv.api.call("GET", "/tags") == []  # nothing was created


def test_bodies_still_arriving_are_bounded(servers):
    srv = servers.start(args=["--body-memory", "10K", "--max-body", "1M"])
    first = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    first.sendall(b"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n" + b"x" * 8192)
    time.sleep(0.3)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as second:
        # 8 KiB + 4 KiB held would pass 10 KiB: the second body is refused.
        second.sendall(b"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n"
                       + b"y" * 4096)
        answer = second.recv(4096)
    assert status_of(answer) == 503, answer[:200]
    assert json_detail(answer) == "The server is busy receiving other requests; try again"
    first.close()
    time.sleep(0.3)  # the first body's memory is given back when its request ends
    tag = srv.api.create_tag()
    assert tag["id"] > 0


# ---------------------------------------------------------------------------
# Request heads a proxy might read differently


@pytest.mark.parametrize("head,detail", [
    (b"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}",
     "The request has several different Content-Length headers"),
    (b"POST /tags HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}",
     "Transfer-Encoding is not supported: send the body with Content-Length or chunked"),
    (b"POST /tags HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}",
     "The request has both Transfer-Encoding and Content-Length"),
    (b"GET /health HTTP/1.1\r\n\r\n", "An HTTP/1.1 request must have a Host header"),
    (b"GET /insights/1%00junk HTTP/1.1\r\nHost: x\r\n\r\n",
     "The request path or query string holds a NUL character (%00)"),
    (b"GET /insights?author=bob%00zzz HTTP/1.1\r\nHost: x\r\n\r\n",
     "The request path or query string holds a NUL character (%00)"),
    (b"GET /docs/swagger-ui.css%00.png HTTP/1.1\r\nHost: x\r\n\r\n",
     "The request path or query string holds a NUL character (%00)"),
    (b"GET /insights?page%00=2 HTTP/1.1\r\nHost: x\r\n\r\n",
     "The request path or query string holds a NUL character (%00)"),
])
def test_ambiguous_request_heads_get_a_clean_400(server, head, detail):
    answer = raw(server.port, head)
    assert status_of(answer) == 400, answer[:300]
    assert answer.count(b"HTTP/1.1 400") == 1, "one answer, once"
    assert b"Content-Type: application/json" in answer
    assert json_detail(answer) == detail
    assert not answer.endswith(b"<open>"), "the connection must be closed"


def test_identical_content_lengths_are_one(server):
    answer = raw(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200


def test_invalid_content_length_is_400_and_closed(server):
    """libmicrohttpd answers this one itself, before the application sees it."""
    answer = raw(server.port, b"POST /tags HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}")
    assert status_of(answer) == 400
    assert not answer.endswith(b"<open>")


def test_http_1_0_needs_no_host(server):
    answer = raw(server.port, b"GET /health HTTP/1.0\r\n\r\n")
    assert status_of(answer) == 200


# ---------------------------------------------------------------------------
# Text


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\ud800\\u0041", "\\udbff\\udbff"])
def test_lone_surrogates_are_rejected(api, escape):
    body = '{"name": "a%sb", "slug": "s-%s"}' % (escape, uid())
    resp = api.post("/tags", data=body.encode(), headers={"Content-Type": "application/json"})
    items = assert_422(resp, ("string_unicode", ["body", body.index("\\u")]), exact=False)
    assert "surrogate" in items[0]["msg"]


def test_surrogate_pairs_are_characters(api):
    body = '{"name": "smile \\ud83d\\ude00 %s", "slug": "s-%s"}' % (uid(), uid())
    tag = api.call("POST", "/tags", 201, data=body.encode(),
                   headers={"Content-Type": "application/json"})
    assert "\U0001F600" in tag["name"]


# ---------------------------------------------------------------------------
# Housekeeping


def test_uncategorized_is_a_reserved_category_name(api):
    detail = "Category name 'Uncategorized' is reserved for insights without a category"
    assert_detail(api.post("/categories", json={"name": "Uncategorized", "slug": f"u-{uid()}"}),
                  409, detail)
    cat = api.create_category()
    assert_detail(api.put(f"/categories/{cat['id']}", json={"name": "Uncategorized"}), 409, detail)
    assert api.category(cat["id"])["name"] == cat["name"]
    api.create_category(name=f"uncategorized {uid()}")  # only the exact name is reserved


def test_a_postgresql_url_with_an_unencoded_at_is_refused():
    secret = f"pa@{word()}"
    proc = run_cli("migrate", "--database", f"postgresql://u:{secret}@127.0.0.1:1/db")
    assert proc.returncode == 2
    assert "percent-encode '@'" in proc.stderr and "%40" in proc.stderr
    assert secret not in proc.stderr and secret.split("@")[1] not in proc.stderr


@pytest.mark.skipif(BACKEND != "sqlite", reason="one SQLite file, one server")
def test_a_second_server_on_one_sqlite_file_is_refused(servers):
    first = servers.start()
    proc = run_cli("serve", "--port", "0", "--database", first.db.url)
    assert proc.returncode == 1
    assert "another insights server already serves this SQLite file" in proc.stderr
    assert first.api.call("GET", "/health")["status"] == "healthy"
    # Commands that do not serve may still use it.
    assert run_cli("recount-tags", "--database", first.db.url).returncode == 0


def test_writes_carry_their_data_version(fresh_api):
    api = fresh_api
    resp = api.post("/tags", json={"name": f"v-{uid()}", "slug": f"v-{uid()}"})
    assert resp.status_code == 201
    v1 = int(resp.headers["X-Insights-Version"])
    resp = api.put(f"/tags/{resp.json()['id']}", json={"description": "d"})
    v2 = int(resp.headers["X-Insights-Version"])
    assert v2 > v1 > 0
    resp = api.delete(f"/tags/{resp.json()['id']}")
    assert int(resp.headers["X-Insights-Version"]) > v2
    # A read asking for a version this instance has seen is answered as usual.
    resp = api.get("/tags", headers={"X-Insights-Min-Version": str(v2)})
    assert resp.status_code == 200
