"""Guards: one test (at least) behind each promise of the README that a
plausible bug could break while every other test stays green.

Each test is named after the promise it guards and was checked against a
deliberate bug planted in the C code (the mutation named in its docstring):
with the bug the test fails, without it the test passes.

Several tests hold the server at a chosen point with the test build's fault
injection (src/lib/fault.h): the server is started with INSIGHTS_FAULTS_FILE
naming a file, and each line of that file arms a point ("store.statistics.
after_ms 600"); the file is replaced atomically to arm or disarm while the
server runs. Binaries built without FAULTS=1 skip those tests.
"""
import os
import signal
import socket
import threading
import time

import pytest
import requests

from conftest import BACKEND, BIN, Client, assert_detail, run_cli, uid, word

# ---------------------------------------------------------------------------
# Helpers local to these tests

CALL_TIMEOUT = 30  # seconds for one HTTP call (sanitizer builds are slow)


def _has_faults():
    """Whether the binary under test was built with the fault injection points."""
    with open(BIN, "rb") as f:
        return b"INSIGHTS_FAULTS_FILE" in f.read()


needs_faults = pytest.mark.skipif(not _has_faults(),
                                  reason="the binary was built without FAULTS=1 (lib/fault.h)")
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="a promise of the SQLite driver")


class Faults:
    """The fault file of one server: arm() replaces its whole content atomically."""

    def __init__(self, directory):
        self.path = os.path.join(str(directory), f"faults-{uid()}")
        self.arm()

    @property
    def env(self):
        return {"INSIGHTS_FAULTS_FILE": self.path}

    def arm(self, *points):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(p + "\n" for p in points))
        os.replace(tmp, self.path)

    def disarm(self):
        self.arm()


class Background:
    """Runs fn() in a thread; join() returns its result or raises its exception."""

    def __init__(self, fn):
        self.result = self.error = None
        self.done_at = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn):
        try:
            self.result = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by join()
            self.error = exc
        self.done_at = time.monotonic()

    def running(self):
        return self.thread.is_alive()

    def join(self, timeout=CALL_TIMEOUT + 5):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "a background request hung"
        if self.error is not None:
            raise self.error
        return self.result


def connect(server, timeout=5):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def closed_within(sock, seconds):
    """Waits up to `seconds` for the peer to close `sock` (EOF or reset) without
    sending anything; returns the seconds it took, or None if still open.
    Fails if the server sent bytes."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return time.monotonic() - start
    assert data == b"", f"the server sent {data[:200]!r} on a connection it should close"
    return time.monotonic() - start


def raw_get(sock, path="/health"):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())


def read_response(sock, buf=b""):
    """Reads one HTTP/1.1 response (Content-Length framed) from `sock`.
    Returns (status, body, rest of buffer); status None when the peer closed first."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b"", buf
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b"", buf
        buf += chunk
    return status, buf[:length], buf[length:]


def recv_exactly(sock, n):
    """The next n bytes from `sock` (fewer only if the peer closed)."""
    data = bytearray(n)
    view, got = memoryview(data), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            break
        got += k
    return bytes(data[:got])


def answer_size(sock, request, expect):
    """Sends `request` alone and reads its answer, which must have status
    `expect`; returns the answer's size in bytes, headers included."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    status, body, rest = read_response(sock, data)
    assert status == expect and rest == b"", (status, body, rest)
    head = data.split(b"\r\n\r\n", 1)[0]
    return len(head) + 4 + len(body)


# ---------------------------------------------------------------------------
# 1. The response cache: "no answer older than a write this instance acknowledged"

SLOW_READ_MS = 700


def read_overlapping_a_write(srv, faults, point, read, count, **fields):
    """Holds one read at `point` (after its data was computed) while an insight is
    created and acknowledged, then reads again: the second read must count the
    new insight. `read(client)` returns the response; `count(json)` the insights
    it counts. The read runs on an event loop; if the write's connection lands
    on the same loop it waits for the read and proves nothing, so the attempt is
    repeated on a new connection (three in four land elsewhere with 4 loops)."""
    api = srv.api
    for _ in range(8):
        # With one more insight, so that the held read misses the cache and computes.
        before = count(read(api).json()) + 1
        api.create_insight(**fields)
        faults.arm(f"{point} {SLOW_READ_MS}")
        reader_client = Client(srv.url)

        def reader():
            resp = read(reader_client)
            # What the held read saw: computed before the write below was sent.
            assert resp.status_code == 200, resp.text[:500]
            got = count(resp.json())
            assert got == before, f"the held read counted {got}, expected {before}"
            return got

        held = Background(reader)
        time.sleep(0.2)  # the read has computed its answer and sleeps at `point`
        sent = time.monotonic()
        Client(srv.url).create_insight(**fields)  # on a new connection
        acknowledged = time.monotonic()
        faults.disarm()
        still_held = held.running()
        held.join()
        if not still_held or acknowledged - sent > SLOW_READ_MS / 1000:
            continue  # the write waited for the read's event loop: try again
        after = read(api)
        assert after.status_code == 200
        assert count(after.json()) == before + 1, \
            f"a read after an acknowledged write counted {count(after.json())}, expected {before + 1}"
        return
    pytest.fail("no write could be acknowledged while the read was held (8 attempts)")


@needs_faults
@pytest.mark.parametrize("what", ["statistics", "list", "search"])
def test_cache_never_serves_an_answer_older_than_an_acknowledged_write(servers, tmp_path, what):
    """Mutation: api/ops.c's cache_store tags the entry with the data version
    read when storing (after the write) instead of the one read in
    cache_lookup before computing."""
    faults = Faults(tmp_path)
    srv = servers.start(args=["--threads", "4"], env=faults.env)
    marker = word()
    if what == "statistics":
        read_overlapping_a_write(
            srv, faults, "store.statistics.after_ms",
            lambda c: c.get("/statistics"), lambda j: j["total_insights"])
    elif what == "list":
        read_overlapping_a_write(
            srv, faults, "store.insight_find.after_ms",
            lambda c: c.get("/insights", params={"page_size": 100}), lambda j: j["total"])
    else:
        # Searches run on the worker pool: the write never waits for their loop.
        read_overlapping_a_write(
            srv, faults, "store.insight_find.after_ms",
            lambda c: c.post("/insights/search", json={"query": marker}), lambda j: j["total"],
            description=f"cache {marker}")


# ---------------------------------------------------------------------------
# 2. /health makes a real round trip to the database

@needs_faults
@sqlite_only
def test_health_reports_a_failing_sqlite_database(servers, tmp_path):
    """Mutations: api_health (api/stats.c) answers 200 without asking the
    service; the SQLite driver's ping (sq_ping) returns OK without running its
    statement. (On PostgreSQL, tests/pg/test_pg_outage.py stops the cluster.)"""
    faults = Faults(tmp_path)
    srv = servers.start(env=faults.env)
    api = srv.api
    body = api.call("GET", "/health")
    assert body["status"] == "healthy" and body["database_connected"] is True
    faults.arm("sqlite.io")
    try:
        for _ in range(3):
            resp = api.get("/health")
            assert resp.status_code == 503, resp.text
            body = resp.json()
            assert body["status"] == "unhealthy" and body["database_connected"] is False, body
            assert body["service"] == "insights"
    finally:
        faults.disarm()
    body = api.call("GET", "/health")
    assert body["status"] == "healthy" and body["database_connected"] is True


# ---------------------------------------------------------------------------
# 3. Search ranking: title counts most, then description, then content

def test_search_ranks_title_above_description_above_content(fresh_api):
    """Mutation: the SQLite bm25 weights swapped (store/sqlite/find.c), e.g.
    bm25(insights_fts, 1.0, 5.0, 10.0); on PostgreSQL, PG_RANK_WEIGHTS
    (store/pg/pg.h). Every field of every insight has five words, so only the
    weights tell the three insights apart; created in both orders, so that
    neither newest-first nor the id can pass for the ranking."""
    api = fresh_api
    filler = "bravo charlie delta echo"

    for order in (("content", "description", "title"), ("title", "description", "content")):
        w = word()
        made = {}
        for where in order:
            fields = {f: (w if f == where else "alpha") + " " + filler
                      for f in ("title", "description", "content")}
            made[where] = api.create_insight(author=f"rank-{uid()}", **fields)["id"]
        page = api.search(query=w)
        assert page["total"] == 3
        assert [i["id"] for i in page["insights"]] == \
            [made["title"], made["description"], made["content"]], \
            "ranking must be title, then description, then content"


# ---------------------------------------------------------------------------
# 4. A write that fails halfway leaves nothing behind

def snapshot(api, tag_ids, category_ids, insight_id, author):
    """Everything a half-done write could have touched, as raw bytes or values."""
    return {
        "tags": [api.tag(t)["usage_count"] for t in tag_ids],
        "categories": [api.category(c)["insight_count"] for c in category_ids],
        "statistics": api.get("/statistics").content,
        "insight": api.get(f"/insights/{insight_id}").content,
        "by_author": api.list_insights(author=author)["total"],
        "list": api.get("/insights", params={"page_size": 100}).content,
    }


@needs_faults
@pytest.mark.parametrize("write", ["create", "update"])
def test_a_write_failing_halfway_leaves_nothing(servers, tmp_path, write):
    """Mutations: store/sqlite/txn.c's sq_txn_end RELEASEs the savepoint of a
    failed write instead of rolling back to it; store/pg/run.c's pg_run
    COMMITs a failed body instead of rolling it back. Without the response
    cache, so that every read below goes to the database."""
    faults = Faults(tmp_path)
    srv = servers.start(args=["--response-cache", "0"], env=faults.env)
    api = srv.api
    tag_a, tag_b = api.create_tag()["id"], api.create_tag()["id"]
    cat_a, cat_b = api.create_category()["id"], api.create_category()["id"]
    author = f"halfway-{uid()}"
    marker, lost = word(), word()
    existing = api.create_insight(title=f"kept {marker}", author=author, category_id=cat_a,
                                  tag_ids=[tag_a])
    before = snapshot(api, [tag_a, tag_b], [cat_a, cat_b], existing["id"], author)
    assert before["tags"] == [1, 0] and before["categories"] == [1, 0]
    assert before["by_author"] == 1

    faults.arm("store.write.halfway")
    try:
        if write == "create":
            resp = api.post("/insights", json={
                "title": f"never {lost}", "description": lost, "author": author,
                "category_id": cat_b, "tag_ids": [tag_a, tag_b], "priority": "critical"})
        else:
            resp = api.put(f"/insights/{existing['id']}", json={
                "title": f"changed {lost}", "tag_ids": [tag_b], "category_id": cat_b,
                "status": "published"})
        assert_detail(resp, 503)
        after = snapshot(api, [tag_a, tag_b], [cat_a, cat_b], existing["id"], author)
        assert after == before, f"an {write} that failed halfway left changes behind"
        assert api.search(query=lost)["total"] == 0
        assert api.search(query=marker)["total"] == 1
    finally:
        faults.disarm()

    # Writes work again, and move exactly what they should.
    made = api.create_insight(author=author, category_id=cat_b, tag_ids=[tag_b])
    changed = api.call("PUT", f"/insights/{existing['id']}", json={"tag_ids": [tag_b]})
    assert [t["id"] for t in changed["tags"]] == [tag_b]
    assert [api.tag(tag_a)["usage_count"], api.tag(tag_b)["usage_count"]] == [0, 2]
    assert [api.category(c)["insight_count"] for c in (cat_a, cat_b)] == [1, 1]
    assert api.list_insights(author=author)["total"] == 2
    assert api.call("GET", "/statistics")["total_insights"] == 2
    assert made["id"] != existing["id"]


# ---------------------------------------------------------------------------
# 5. The request counter is exact under concurrency

def test_request_counter_is_exact_under_concurrency(servers):
    """Mutation: metrics/metrics.c adds to a status count with a load and a
    store instead of one atomic add. Sixteen event loops answer a cheap route
    (422 before any database work) on 32 keep-alive connections, each sent its
    requests pipelined in large writes so that the loops stay busy: 144,000
    requests in about 3 s, of which the racy counter lost between 4 and 4,000
    in each of 15 runs on 2 CPUs. The counter must equal what was sent. Request log lines are off: the loops
    would spend their time writing them rather than counting."""
    srv = servers.start(args=["--threads", "16", "--log-level", "warn"])
    connections, per_connection, batch = 32, 4500, 250
    request = b"GET /insights/not-a-number HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    errors = []
    barrier = threading.Barrier(connections)

    def client():
        try:
            with connect(srv, timeout=CALL_TIMEOUT) as sock:
                # The first answer gives the size of all (same headers, same body).
                size = answer_size(sock, request, 422)
                barrier.wait(timeout=30)
                for _ in range(per_connection // batch):
                    sock.sendall(request * batch)
                    data = recv_exactly(sock, size * batch)
                    if len(data) != size * batch or data.count(b"HTTP/1.1 422 ") != batch:
                        errors.append(f"{len(data)} bytes for {batch} answers of {size}")
                        return
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a client hung"
    assert not errors, errors[:5]
    sent = connections * (per_connection + 1)
    lines = requests.get(srv.url + "/metrics", timeout=CALL_TIMEOUT).text.splitlines()
    counter = 'api_requests_total{method="GET",endpoint="/insights/{insight_id}",status="422"}'
    assert f"{counter} {sent}" in lines, [l for l in lines if l.startswith(counter)]
    count = 'request_duration_seconds_count{method="GET",endpoint="/insights/{insight_id}"}'
    assert f"{count} {sent}" in lines, [l for l in lines if l.startswith(count)]


# ---------------------------------------------------------------------------
# 6. --idle-timeout closes a connection that sends nothing

def test_idle_connections_are_closed_after_the_idle_timeout(servers):
    """Mutation: http/server.c gives libmicrohttpd a constant timeout (30 s)
    instead of --idle-timeout."""
    srv = servers.start(args=["--idle-timeout", "1"])
    with connect(srv) as quiet, connect(srv) as busy:
        # A connection that sends a request and then nothing is closed too.
        raw_get(busy)
        status, _, _ = read_response(busy)
        assert status == 200
        assert closed_within(quiet, 0.3) is None, "closed long before the idle timeout"
        took = closed_within(quiet, 3.0)
        assert took is not None, "an idle connection was still open 3 s after an idle timeout of 1 s"
        assert closed_within(busy, 2.5) is not None, "an idle keep-alive connection stayed open"
    # The server still answers.
    assert srv.api.call("GET", "/health")["status"] == "healthy"


# ---------------------------------------------------------------------------
# 7. --max-connections bounds simultaneous connections

def test_connections_beyond_the_limit_are_refused(servers):
    """Mutation: http/server.c ignores --max-connections (a large constant
    limit). One event loop, so that the limit is exactly 4 connections (it is
    split between the loops). A connection beyond it is not answered: it
    waits in the listen backlog until a slot frees (or is closed)."""
    srv = servers.start(args=["--threads", "1", "--max-connections", "4"])
    held = []
    try:
        for _ in range(4):
            sock = connect(srv)
            raw_get(sock)  # each one answered: it is really held by the server
            status, _, _ = read_response(sock)
            assert status == 200
            held.append(sock)
        with connect(srv) as fifth:
            try:
                raw_get(fifth)
                fifth.settimeout(1.0)
                status, _, _ = read_response(fifth)
            except socket.timeout:
                status = "no answer"
            except (ConnectionResetError, BrokenPipeError):
                status = None
            assert status in (None, "no answer"), f"a fifth connection was answered {status}"
        held.pop().close()
        time.sleep(0.2)
        with connect(srv) as again:
            raw_get(again)
            again.settimeout(5)
            status, _, _ = read_response(again)
            assert status == 200, "a connection after one of the four closed was not answered"
    finally:
        for sock in held:
            sock.close()


# ---------------------------------------------------------------------------
# 8. SQLite --query-timeout abandons a slow read

@sqlite_only
def test_a_read_slower_than_the_query_timeout_gets_503(servers):
    """Mutation: store/sqlite/conn.c's sq_read_deadline returns 0 (no deadline
    for the progress handler). A ranked search of eight of the most common
    words over 5,000 seeded insights, without the search window, takes tens of
    milliseconds: more than a timeout of 10 ms."""
    db = servers.database()
    seeded = run_cli("seed", "--database", db.url, "--count", "5000", "--log-level", "warn")
    assert seeded.returncode == 0, seeded.stderr
    query = {"query": "the and to of a in we for", "page_size": 1}
    strict = servers.start(db, args=["--query-timeout", "10", "--search-window", "0",
                                     "--response-cache", "0"])
    for _ in range(2):
        resp = strict.api.post("/insights/search", json=query)
        assert_detail(resp, 503, "The request took longer than the query timeout")
        assert resp.headers.get("Retry-After") == "1"
    # Fast reads still fit in the same timeout.
    assert strict.api.call("GET", "/health")["database_connected"] is True
    strict.stop_and_check()  # one server per SQLite file
    patient = servers.start(db, args=["--query-timeout", "60000", "--search-window", "0",
                                      "--response-cache", "0"])
    page = patient.api.search(**query)
    assert page["total"] > 1000 and len(page["insights"]) == 1


@needs_faults
def test_searches_waiting_longer_than_the_query_timeout_get_503(servers, tmp_path):
    """Mutation: core/service.c's search_slot_take waits without a bound. The
    ranked searches that may run at once (two per CPU) are held by a fault
    in the store for 3 s each; searches beyond them wait at most the query
    timeout (400 ms) for a slot, then get 503 with Retry-After, instead of
    queueing behind the others (the soak's 10 to 23 s waits)."""
    faults = Faults(tmp_path)
    srv = servers.start(args=["--query-timeout", "400", "--response-cache", "0",
                              "--workers", "32"], env=faults.env)
    faults.arm("store.insight_find.before_ms 3000")
    answers = []
    lock = threading.Lock()

    def search(i):
        r = requests.post(srv.url + "/insights/search", json={"query": f"word{i}"},
                          timeout=CALL_TIMEOUT)
        with lock:
            answers.append((r.status_code, r.headers.get("Retry-After"), r.json()))

    threads = [threading.Thread(target=search, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CALL_TIMEOUT)
    faults.disarm()
    refused = [a for a in answers if a[0] == 503]
    served = [a for a in answers if a[0] == 200]
    assert len(answers) == 16
    assert refused and served, [a[0] for a in answers]
    for status, retry, body in refused:
        assert retry == "1" and body == {"detail": "Too many searches are running: try again shortly"}


@needs_faults
def test_a_slow_list_does_not_hold_the_event_loop(servers, tmp_path):
    """Mutation: api/routes.c runs GET /insights on the event loop (without
    HTTP_ROUTE_OFFLOAD). A list filtered by author scans every insight; held
    here for 3 s by a fault, it must not keep the loop (one, with --threads
    1) from answering a point read meanwhile: the read completes first."""
    faults = Faults(tmp_path)
    srv = servers.start(args=["--threads", "1", "--response-cache", "0"], env=faults.env)
    ins = srv.api.create_insight()
    faults.arm("store.insight_find.before_ms 3000")
    order = []
    lst = threading.Thread(target=lambda: order.append(
        ("list", requests.get(srv.url + "/insights", params={"author": "x"},
                              timeout=CALL_TIMEOUT).status_code)))
    lst.start()
    time.sleep(0.5)  # the list is in the store by now
    r = requests.get(srv.url + f"/insights/{ins['id']}", timeout=CALL_TIMEOUT)
    order.append(("get", r.status_code))
    lst.join(CALL_TIMEOUT)
    faults.disarm()
    assert order == [("get", 200), ("list", 200)]


# ---------------------------------------------------------------------------
# 9. --shutdown-grace lets a request in flight at SIGTERM finish

@needs_faults
@pytest.mark.parametrize("where", ["worker", "event loop"])
def test_a_request_in_flight_at_sigterm_completes(servers, tmp_path, where):
    """Mutation: main.c stops the HTTP server with a grace of 0. A write runs on
    the worker pool, which drains before the server stops whatever the grace;
    a single-row read runs on its event loop, which only the grace waits for."""
    faults = Faults(tmp_path)
    srv = servers.start(env=faults.env)
    client = Client(srv.url)
    title = f"in flight {word()}"
    if where == "worker":
        faults.arm("store.insight_create.before_ms 1500")
        call = Background(lambda: client.post("/insights", json={
            "title": title, "description": "d", "author": "sigterm"}))
    else:
        existing = srv.api.create_insight(title=title, author="sigterm")
        faults.arm("store.insight_get.after_ms 1500")
        call = Background(lambda: client.get(f"/insights/{existing['id']}"))
    time.sleep(0.5)  # the request is held at its fault point
    assert call.running()
    srv.proc.send_signal(signal.SIGTERM)
    resp = call.join()
    assert resp.status_code == (201 if where == "worker" else 200), \
        f"the request in flight got {resp.status_code}: {resp.text[:300]}"
    answered = resp.json()
    assert answered["title"] == title
    assert srv.stop() == 0, srv.log_tail()
    faults.disarm()

    again = servers.start(srv.db, env=faults.env)
    assert again.api.insight(answered["id"]) == answered
    assert [i["id"] for i in again.api.list_insights(author="sigterm")["insights"]] == [answered["id"]]
