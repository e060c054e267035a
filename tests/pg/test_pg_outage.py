"""PostgreSQL going away under a running service: every call answers 503
quickly, nothing crashes, and the service recovers by itself when the
database is back."""
import os
import signal
import time

import requests

from conftest import run_cli, timed, uid

# Reads and writes of every kind, as (method, path, body); {i}, {t} and {c}
# are an insight, a tag and a category created before the outage.
CALLS = [
    ("GET", "/insights", None),
    ("GET", "/insights/{i}", None),
    ("POST", "/insights/search", {"query": "outage"}),
    ("POST", "/insights", {"title": "during", "description": "d", "author": "a"}),
    ("PUT", "/insights/{i}", {"title": "changed"}),
    ("GET", "/tags", None),
    ("GET", "/tags/{t}", None),
    ("POST", "/tags", {"name": "down-{u}", "slug": "down-{u}"}),
    ("DELETE", "/tags/{t}", None),
    ("GET", "/categories/{c}", None),
    ("GET", "/statistics", None),
]


def call(base, method, path, body, ids):
    path = path.format(**ids)
    if body:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    return requests.request(method, base + path, json=body, timeout=30)


def make_data(base):
    cat = requests.post(base + "/categories", json={"name": f"c-{uid()}", "slug": f"c-{uid()}"}).json()
    tag = requests.post(base + "/tags", json={"name": f"t-{uid()}", "slug": f"t-{uid()}"}).json()
    ins = requests.post(base + "/insights", json={"title": "outage notes", "description": "d", "author": "a",
                                                  "category_id": cat["id"], "tag_ids": [tag["id"]]}).json()
    return {"i": ins["id"], "t": tag["id"], "c": cat["id"], "u": uid()}, ins


def assert_unavailable(base, ids, limit, calls=CALLS):
    with timed(limit):
        health = requests.get(base + "/health", timeout=30)
    assert health.status_code == 503
    assert health.json()["database_connected"] is False
    assert health.json()["status"] == "unhealthy"
    for method, path, body in calls:
        with timed(limit):
            r = call(base, method, path, body, ids)
        assert r.status_code == 503, (method, path, r.status_code, r.text)
        assert list(r.json()) == ["detail"] and isinstance(r.json()["detail"], str)
        assert r.headers.get("Retry-After") == "1"


def wait_healthy(base, limit=15):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if requests.get(base + "/health", timeout=30).status_code == 200:
            return
        time.sleep(0.1)
    raise AssertionError("the service did not recover")


def assert_recovered(base, ids, before):
    wait_healthy(base)
    assert requests.get(f"{base}/insights/{ids['i']}").json() == before
    for method, path, body in CALLS:
        r = call(base, method, path, body, ids)
        assert r.status_code in (200, 201, 204), (method, path, r.status_code, r.text)


def test_stopping_and_starting_postgresql(servers, database, cluster):
    srv = servers.start(database.url)
    ids, before = make_data(srv.url)
    cluster.down()
    try:
        for _ in range(3):
            assert_unavailable(srv.url, ids, limit=2)
    finally:
        cluster.up()
    assert_recovered(srv.url, ids, before)
    assert "database unavailable" in srv.log() or "cannot connect" in srv.log()


def test_a_stalled_database_costs_one_query_timeout(servers, database, cluster):
    """A server that stops answering (a hung host, a partition) is given up on
    after the query timeout, and its connections are replaced."""
    srv = servers.start(database.url, "--query-timeout", "1000")
    ids, before = make_data(srv.url)
    pids = cluster.pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        # The query timeout, the client's grace second, and a sanitizer build's slowness.
        assert_unavailable(srv.url, ids, limit=4, calls=CALLS[1:5] + CALLS[-1:])
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert_recovered(srv.url, ids, before)


def test_serve_waits_for_a_database_that_starts_later(servers, database, cluster):
    """In a cluster the database often starts after the service: serve tries
    again until --startup-timeout, then serves."""
    cluster.down()
    try:
        srv = servers.new(database.url, "--startup-timeout", "30").launch()
        time.sleep(2)
        assert srv.proc.poll() is None, "serve gave up while waiting"
    finally:
        cluster.up()
    srv.wait_healthy(timeout=20)
    assert "not reachable yet" in srv.log()
    assert requests.post(srv.url + "/tags", json={"name": f"late-{uid()}",
                                                  "slug": f"late-{uid()}"}).status_code == 201


def test_serve_gives_up_at_the_startup_timeout(database, cluster):
    cluster.down()
    try:
        with timed(10):
            proc = run_cli("serve", "--port", "0", "--database", database.url,
                           "--startup-timeout", "2", "--log-format", "text")
    finally:
        cluster.up()
    assert proc.returncode == 1
    assert proc.stderr.count("not reachable yet") >= 2, proc.stderr
