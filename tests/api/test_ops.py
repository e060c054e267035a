"""What operators rely on: /metrics, the request log lines and X-Request-ID."""
import json
import re
import shutil
import subprocess
import threading
import time
import types
import urllib.parse

import pytest

from conftest import BACKEND, free_port, run_cli, uid, word

LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[^"}]|"[^"]*")*)\})? (\S+)$')
RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def scrape(api):
    resp = api.session.get(api.base_url + "/metrics", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return resp.text


def samples(text):
    """{(name, frozenset(labels)): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    """A sample's value; a missing sample fails (reading it as 0 would hide it)."""
    key = (name, frozenset(labels.items()))
    assert key in s, f"no sample {name} {labels or ''} in /metrics"
    return s[key]


def test_metrics_pass_promtool(fresh_api):
    fresh_api.create_insight()
    fresh_api.get("/insights/999999")
    text = scrape(fresh_api)
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_counters_follow_a_known_sequence(fresh_api):
    api = fresh_api
    a, b, c = (api.create_insight() for _ in range(3))
    api.post("/insights", json={"title": ""})                      # 422
    api.call("PUT", f"/insights/{a['id']}", json={"priority": "high"})
    api.call("PUT", f"/insights/{b['id']}", json={"status": "published"})
    api.put("/insights/999999", json={"priority": "low"})          # 404: not an update
    api.call("DELETE", f"/insights/{c['id']}", 204)
    api.insight(a["id"])
    api.insight(b["id"])
    api.get(f"/insights/{c['id']}")                                # 404
    api.get("/insights/abc")                                       # 422
    api.request("PATCH", "/tags")                                  # 405
    api.get("/no/such/path")                                       # 404, unmatched
    s = samples(scrape(api))

    assert value(s, "insights_created_total") == 3
    assert value(s, "insights_updated_total") == 2
    assert value(s, "insights_deleted_total") == 1
    req = "api_requests_total"
    assert value(s, req, method="POST", endpoint="/insights", status="201") == 3
    assert value(s, req, method="POST", endpoint="/insights", status="422") == 1
    assert value(s, req, method="PUT", endpoint="/insights/{insight_id}", status="200") == 2
    assert value(s, req, method="PUT", endpoint="/insights/{insight_id}", status="404") == 1
    assert value(s, req, method="DELETE", endpoint="/insights/{insight_id}", status="204") == 1
    assert value(s, req, method="GET", endpoint="/insights/{insight_id}", status="200") == 2
    assert value(s, req, method="GET", endpoint="/insights/{insight_id}", status="404") == 1
    assert value(s, req, method="GET", endpoint="/insights/{insight_id}", status="422") == 1
    assert value(s, req, method="PATCH", endpoint="/tags", status="405") == 1
    assert value(s, req, method="GET", endpoint="unmatched", status="404") == 1
    # Endpoints are route templates: no concrete path ever becomes a label.
    assert not any("endpoint" in dict(labels) and re.search(r"/\d", dict(labels)["endpoint"])
                   for _, labels in s)

    # The histogram agrees with the counters and is cumulative.
    hist = "request_duration_seconds"
    assert value(s, hist + "_count", method="POST", endpoint="/insights") == 4
    buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in s.items()
                      if n == hist + "_bucket" and dict(l).get("endpoint") == "/insights"
                      and dict(l)["method"] == "POST"), key=lambda x: x[0])
    les = [le for le, _ in buckets]
    assert les[0] == 0.0005 and les[-2] == 10 and les[-1] == float("inf")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and counts[-1] == 4
    assert value(s, hist + "_sum", method="POST", endpoint="/insights") > 0


def test_counters_are_exact_under_concurrency(fresh_api):
    api = fresh_api
    per_thread, threads = 25, 8
    failures = []

    def work():
        try:
            for _ in range(per_thread):
                api.create_insight()
        except Exception as exc:  # reported below
            failures.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not failures, failures
    s = samples(scrape(api))
    n = per_thread * threads
    assert value(s, "insights_created_total") == n
    assert value(s, "api_requests_total", method="POST", endpoint="/insights", status="201") == n
    assert value(s, "request_duration_seconds_count", method="POST", endpoint="/insights") == n
    assert value(s, "insights_db_rows", table="insights") == n


def test_process_and_database_gauges(fresh_api):
    fresh_api.create_tag()
    s = samples(scrape(fresh_api))
    assert value(s, "process_resident_memory_bytes") > 1e6
    assert value(s, "process_virtual_memory_bytes") >= value(s, "process_resident_memory_bytes")
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 3600
    assert 3 <= value(s, "process_open_fds") <= value(s, "process_max_fds")
    assert value(s, "insights_db_rows", table="tags") == 1
    assert value(s, "insights_db_up") == 1
    assert value(s, "insights_db_pool_connections", state="idle") >= 1


def test_process_cpu_seconds_grow_with_work(fresh_api):
    """The counter moves in the kernel's ticks (10 ms): requests until it does."""
    api = fresh_api
    before = value(samples(scrape(api)), "process_cpu_seconds_total")
    assert before >= 0
    key = word()
    api.create_insight(title=f"{key} cpu", content=" ".join(word() for _ in range(2000)))
    now, deadline = before, time.monotonic() + 10
    while now <= before and time.monotonic() < deadline:
        for _ in range(20):
            api.search(query=key)
            api.call("GET", "/statistics")
        now = value(samples(scrape(api)), "process_cpu_seconds_total")
    assert now > before, f"process_cpu_seconds_total stayed at {before} through 10 s of requests"


def log_lines(server):
    out = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def wait_for(pred, timeout=5):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        found = pred()
        if found:
            return found
        time.sleep(0.05)
    return pred()


def test_request_log_lines_are_json_with_the_request_id(servers):
    srv = servers.start(args=["--log-format", "json"])
    rid = f"trace-{uid()}"
    resp = srv.api.get("/insights/424242", headers={"X-Request-ID": rid})
    assert resp.status_code == 404 and resp.headers["X-Request-ID"] == rid

    line = wait_for(lambda: next((l for l in log_lines(srv) if l.get("request_id") == rid), None))
    assert line, srv.log_tail()
    assert RFC3339_MS.match(line["time"]), line
    assert line["level"] == "info" and line["msg"] == "request"
    assert line["method"] == "GET" and line["route"] == "/insights/{insight_id}"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], (int, float)) and 0 <= line["duration_ms"] < 10000
    assert line["bytes"] == len(resp.content)

    # Without a client id, one is generated, returned and logged.
    resp = srv.api.get("/health")
    gen = resp.headers["X-Request-ID"]
    assert re.match(r"^[0-9a-f]{32}$", gen)
    assert wait_for(lambda: any(l.get("request_id") == gen and l["route"] == "/health"
                                for l in log_lines(srv)))
    assert srv.api.get("/health").headers["X-Request-ID"] != gen


def test_request_id_is_sanitised_and_bounded(api):
    resp = api.get("/health", headers={"X-Request-ID": "ab c<script>\"'{}" + "x" * 200})
    rid = resp.headers["X-Request-ID"]
    assert re.match(r"^[A-Za-z0-9._:/+=-]+$", rid) and len(rid) <= 64
    assert rid.startswith("abcscript")


def with_password(url, password):
    """A postgresql:// URL with `password` in its userinfo."""
    parts = urllib.parse.urlsplit(url)
    user, host = parts.netloc.rsplit("@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user.split(':')[0]}:{password}@{host}"))


def test_startup_and_shutdown_lines_hide_the_password(servers):
    """The start-up line names the database URL with its password masked. On
    PostgreSQL the server gets a password (the test cluster trusts local
    connections and ignores it); an SQLite URL holds none and shows as is."""
    db = servers.database()
    secret = f"Secret-{uid()}"
    if BACKEND == "postgresql":
        url, shown = with_password(db.url, secret), with_password(db.url, "***")
    else:
        url = shown = db.url
    srv = servers.start(types.SimpleNamespace(url=url), args=["--log-format", "json"])
    start = wait_for(lambda: next((l for l in log_lines(srv) if l.get("msg") == "insights started"), None))
    assert start and start["version"] and start["port"] == str(srv.port)
    assert start["database"] == BACKEND
    assert start["database_url"] == shown
    srv.stop_and_check()
    assert any(l.get("msg") == "insights stopped" for l in log_lines(srv))
    assert secret not in srv.log()


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_startup_failure_hides_the_password(form):
    """A PostgreSQL server that cannot be reached: the error names the URL,
    masked, on every backend's run (nothing listens on the port)."""
    secret, port = f"Secret-{uid()}", free_port()
    if form == "userinfo":
        url = f"postgresql://someone:{secret}@127.0.0.1:{port}/db"
        shown = f"postgresql://someone:***@127.0.0.1:{port}/db"
    else:
        url = f"postgresql://someone@127.0.0.1:{port}/db?password={secret}&connect_timeout=5"
        shown = f"postgresql://someone@127.0.0.1:{port}/db?password=***&connect_timeout=5"
    # Retried for two seconds (nothing listens: it may yet start), then given up.
    proc = run_cli("serve", "--port", "0", "--database", url, "--log-format", "json",
                   "--startup-timeout", "2", timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert "not reachable yet" in proc.stderr
    assert any(shown in l.get("msg", "") for l in map(json.loads, proc.stderr.splitlines())), proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_log_level_hides_request_lines(servers):
    """At warn, neither request lines nor any other info line; at info, the
    same request is logged (so that a server logging nothing cannot pass)."""
    quiet = servers.start(args=["--log-format", "json", "--log-level", "warn"])
    loud = servers.start(args=["--log-format", "json", "--log-level", "info"])
    rids = {srv: f"level-{uid()}" for srv in (quiet, loud)}
    for srv, rid in rids.items():
        assert srv.api.get("/health", headers={"X-Request-ID": rid}).status_code == 200
    line = wait_for(lambda: next((l for l in log_lines(loud) if l.get("request_id") == rids[loud]), None))
    assert line and line["level"] == "info" and line["msg"] == "request", loud.log_tail()
    assert any(l.get("msg") == "insights started" for l in log_lines(loud))
    time.sleep(0.2)  # the quiet server had as long as the loud one, and more
    assert not any(l.get("request_id") == rids[quiet] for l in log_lines(quiet)), quiet.log_tail()
    assert not any(l.get("level") == "info" for l in log_lines(quiet)), quiet.log_tail()


def test_response_cache_hits_and_never_serves_stale_data(fresh_api):
    api = fresh_api
    author = f"cache-{uid()}"
    api.create_insight(author=author)
    # An answer is stored the second time it is asked for, served the third
    # (a shared store, PostgreSQL, runs without the cache: no hits at all).
    cached = BACKEND == "sqlite"
    hits = lambda: value(samples(scrape(api)), "insights_cache_hits_total") if cached else 0
    seen = [hits()]
    pages = []
    for _ in range(3):
        pages.append(api.list_insights(author=author))
        seen.append(hits())
    assert pages[0] == pages[1] == pages[2] and pages[0]["total"] == 1
    if cached:
        assert [h - seen[0] for h in seen[1:]] == [0, 0, 1], seen

    # Every acknowledged write is visible to the very next read, while other
    # clients keep the same URLs hot in the cache.
    stop = threading.Event()
    failures = []

    def reader():
        while not stop.is_set():
            api.get("/insights", params={"author": author})
            api.get("/statistics")

    def writer(n):
        try:
            mine = f"{author}-{n}"
            for i in range(15):
                api.create_insight(author=mine)
                page = api.list_insights(author=mine)
                if page["total"] != i + 1:
                    failures.append(f"list saw {page['total']} after {i + 1} writes")
                total = api.call("GET", "/statistics")["total_insights"]
                if total < i + 2:
                    failures.append(f"statistics saw {total} after {i + 2} writes")
        except Exception as exc:
            failures.append(repr(exc))

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not failures, failures[:5]


def test_response_cache_can_be_turned_off(servers):
    srv = servers.start(args=["--response-cache", "0"])
    srv.api.list_insights()
    srv.api.list_insights()
    s = samples(scrape(srv.api))
    assert ("insights_cache_hits_total", frozenset()) not in s
