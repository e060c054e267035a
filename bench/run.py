#!/usr/bin/python3
"""The insights benchmark: `make bench` (and `make bench-scale`).

For each scenario it runs wrk against the service and, in the same run,
against nginx serving a static file that holds the very bytes the scenario
returns; the service and nginx are pinned to one core, wrk to the other. It
prints a markdown table (req/s, p50, p99, errors, ratio to nginx) and writes
build/bench/results.json.

Environment (all optional):
  BENCH_N         insights in the dataset (default 100000)
  BENCH_SEED      seed of the dataset generator (default 42)
  BENCH_DURATION  seconds per wrk run (default 10)
  BENCH_DATABASE  postgresql://... to run on PostgreSQL (seeded when short)
  BENCH_SCENARIOS comma-separated subset of the scenario names
  BENCH_SCALE     "10000,100000,1000000": run every size, print p50 growth
  BENCH_CACHE     both (default), on or off: with and/or without the
                  service's response cache (--response-cache 0)
  BENCH_VARIANTS  both (default), repeat or distinct: every read scenario
                  runs as "repeat" (one request over and over, which the
                  response cache answers after the first) and "distinct"
                  (every request differs: random ids, pages 1-500 of a random
                  status, a random word of the scenario's document-frequency
                  band, random filter combinations)

Beside req/s the tables give the service's CPU per request (its user+sys
time over the run / requests): on a shared machine the steadier figure.
Searches' distinct variants also run at one connection: their p50 there is
the service time, not a queue.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "build", "insights")
OUT = os.path.join(REPO, "build", "bench")
SERVER_CPU, CLIENT_CPU = "0", "1"

# Candidate words for the searches, from the seed's vocabulary; the harness
# measures their document frequency and picks one per target.
# Real words, then made-up words of the seed's long tail (kalomi...).
SYLLABLES = ["ka", "lo", "mi", "ra", "te", "su", "vo", "ne", "pa", "di", "zu", "fe", "gi", "ho", "ju", "be"]
CANDIDATES = ["the", "team", "latency", "index", "replica", "checkpoint", "vacuum", "quorum",
              "kudos", "whiteboard", "cron"] + [
    SYLLABLES[i % 16] + SYLLABLES[(i // 16) % 16] + SYLLABLES[(i // 256) % 16]
    for i in (0, 40, 100, 200, 400, 800, 1600, 3200)]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


def wait_up(url, proc, timeout=60):
    until = time.time() + timeout
    while time.time() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if http("GET", url + "/health")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not come up")


# ---------------------------------------------------------------------------
# wrk

LUA_REPORT = r"""
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d,' ..
    ' "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def lua_list(xs):
    return "{" + ",".join(json.dumps(x) for x in xs) + "}"


# The distinct variants' requests (Lua), by scenario. Words come from the
# tables W_rare (<= 1% of insights), W_mid (1-10%) and W_common (> 10%).
LUA_DISTINCT_HELPERS = r"""
local STATUS = {"draft", "published", "archived"}
local PRIORITY = {"low", "medium", "high", "critical"}
local function pick(t) return t[math.random(#t)] end
local function search(words, filters)
  local b = '{"query": "' .. pick(words) .. '"'
  if filters then
    if math.random(2) == 1 then b = b .. ', "status": "' .. pick(STATUS) .. '"' end
    if math.random(2) == 1 then b = b .. ', "priority": "' .. pick(PRIORITY) .. '"' end
    if math.random(3) == 1 then b = b .. ', "category_id": ' .. math.random(NCAT) end
    if math.random(2) == 1 then b = b .. ', "tag_ids": [' .. math.random(NTAG) .. ']' end
  end
  return wrk.format("POST", "/insights/search", H, b .. "}")
end
local function list_filtered()
  local q = "/insights?page_size=20&page=" .. math.random(20)
  if math.random(2) == 1 then q = q .. "&status=" .. pick(STATUS) end
  if math.random(2) == 1 then q = q .. "&priority=" .. pick(PRIORITY) end
  if math.random(2) == 1 then q = q .. "&category_id=" .. math.random(NCAT) end
  return wrk.format("GET", q)
end
"""

DISTINCT = {
    "get_one": 'return wrk.format("GET", "/insights/" .. math.random(N))',
    "list_status": 'return wrk.format("GET", "/insights?page_size=20&status=" .. pick(STATUS) .. "&page=" .. math.random(500))',
    "search_rare": "return search(W_rare, false)",
    "search_mid": "return search(W_mid, false)",
    "search_common": "return search(W_common, false)",
    "search_filtered": "return search(W_mid, true)",
    "rest_spec_list": "return list_filtered()",
}


def lua_for(scenario, n, words, tag, distinct=False, vocab=None):
    """The wrk script that issues a scenario's requests against the service:
    the repeated request, or with `distinct` every request a different one."""
    body_create = json.dumps({
        "title": "Benchmark insight about connection pool sizing under load",
        "description": "Pool exhaustion caused latency spikes during deploys.",
        "content": "## Context\nDeploys exhausted the connection pool.\n\n## Insight\n" +
                   "Size the pool for the burst, not the average. " * 20,
        "author": "bench-team", "priority": "high", "status": "published",
        "tag_ids": [1, 2, 3]})
    search_one = json.dumps({"query": words["rare"]})
    search_mid = json.dumps({"query": words["mid"]})
    search_common = json.dumps({"query": words["common"]})
    search_filtered = json.dumps({"query": words["mid"], "status": "published",
                                  "priority": "high", "tag_ids": [tag]})
    bodies = {
        "create": body_create, "search_rare": search_one, "search_mid": search_mid,
        "search_common": search_common,
        "search_filtered": search_filtered, "gql_spec_list": json.dumps({"query": GQL_SPEC_LIST}),
        "gql_spec_substring": json.dumps({"query": GQL_SPEC_SUBSTRING}),
        "gql_introspection": json.dumps({"query": GQL_INTROSPECTION}),
    }
    pre = "math.randomseed(os.time())\nlocal N = %d\n" % n
    pre += "".join(f"local B_{k} = {json.dumps(v)}\n" for k, v in bodies.items())
    pre += 'local H = {["Content-Type"] = "application/json"}\n'
    if distinct:
        pre += "local NCAT, NTAG = 12, 30\n"
        pre += "".join(f"local W_{k} = {lua_list(vocab[k])}\n" for k in ("rare", "mid", "common"))
        pre += LUA_DISTINCT_HELPERS
        return pre + "request = function()\n  " + DISTINCT[scenario] + "\nend\n" + LUA_REPORT
    req = {
        "get_one": 'return wrk.format("GET", "/insights/" .. math.random(N))',
        "list_status": 'return wrk.format("GET", "/insights?status=published&page_size=20&page=" .. math.random(50))',
        "search_rare": 'return wrk.format("POST", "/insights/search", H, B_search_rare)',
        "search_mid": 'return wrk.format("POST", "/insights/search", H, B_search_mid)',
        "search_common": 'return wrk.format("POST", "/insights/search", H, B_search_common)',
        "search_filtered": 'return wrk.format("POST", "/insights/search", H, B_search_filtered)',
        "statistics": 'return wrk.format("GET", "/statistics")',
        "categories": 'return wrk.format("GET", "/categories")',
        "create": 'return wrk.format("POST", "/insights", H, B_create)',
        "rest_spec_list": f'return wrk.format("GET", "{rest_spec_list_path(tag)}")',
        "gql_spec_list": 'return wrk.format("POST", "/v1/graphql", H, B_gql_spec_list)',
        "gql_spec_substring": 'return wrk.format("POST", "/v1/graphql", H, B_gql_spec_substring)',
        "gql_introspection": 'return wrk.format("POST", "/v1/graphql", H, B_gql_introspection)',
        "mixed": """local r = math.random(100)
  if r <= 60 then return wrk.format("GET", "/insights/" .. math.random(N)) end
  if r <= 80 then return wrk.format("GET", "/insights?status=published&page_size=20&page=" .. math.random(50)) end
  if r <= 90 then return wrk.format("GET", "/statistics") end
  return wrk.format("POST", "/insights", H, B_create)""",
    }[scenario]
    return pre + "request = function()\n  " + req + "\nend\n" + LUA_REPORT


def run_wrk(url, script, connections, duration, pid=None):
    """Runs wrk; with `pid`, also the CPU that process spent per request."""
    path = os.path.join(OUT, "script.lua")
    with open(path, "w") as f:
        f.write(script)
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
           "--timeout", "10s", "-s", path, url]
    cpu0 = cpu_seconds(pid) if pid else 0
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu0 if pid else 0
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    secs = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {"rps": r["requests"] / secs, "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "errors": errors, "non_2xx": r["status"], "requests": r["requests"],
            "cpu_us": cpu * 1e6 / r["requests"] if pid and r["requests"] else 0}


# ---------------------------------------------------------------------------
# nginx serving the same bytes

class Nginx:
    def __init__(self):
        self.dir = os.path.join(OUT, "nginx")
        os.makedirs(os.path.join(self.dir, "www"), exist_ok=True)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/tmp;
  proxy_temp_path {self.dir}/tmp;
  fastcgi_temp_path {self.dir}/tmp;
  uwsgi_temp_path {self.dir}/tmp;
  scgi_temp_path {self.dir}/tmp;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.dir}/www;
    location / {{ default_type application/json; try_files /body =404; }}
  }}
}}
""")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-p", self.dir, "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/"

    def serve(self, body):
        with open(os.path.join(self.dir, "www", "body"), "wb") as f:
            f.write(body)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=10)


# ---------------------------------------------------------------------------
# the dataset and the service

def dataset(n, seed):
    """A seeded SQLite file for (n, seed), built once and copied per run."""
    base = os.path.join(OUT, f"data-{n}-{seed}.db")
    meta = base + ".json"
    if not os.path.exists(meta):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(base + suffix):
                os.remove(base + suffix)
        log(f"building the dataset: {n} insights (seed {seed})")
        t0 = time.time()
        out = subprocess.run([BIN, "seed", "--count", str(n), "--random-seed", str(seed),
                              "--database", "sqlite:///" + base, "--log-level", "warn"],
                             capture_output=True, text=True, check=True).stdout
        secs = time.time() - t0
        with open(meta, "w") as f:
            json.dump({"insights": n, "seconds": secs, "rate": n / secs, "output": out.strip()}, f)
    with open(meta) as f:
        return base, json.load(f)


def start_service(url_db, extra=()):
    extra = list(extra) + (["--response-cache", "0"] if os.environ.get("BENCH_NO_CACHE") else [])
    port = free_port()
    # One event loop on its core for SQLite; PostgreSQL keeps its default of
    # four loops per CPU, since a loop waits for every round trip.
    threads = [] if url_db.startswith("postgresql") else ["--threads", "1"]
    cmd = ["taskset", "-c", SERVER_CPU, BIN, "serve", "--port", str(port), "--database", url_db,
           *threads, "--log-level", "warn", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "server.log"), "a"))
    url = f"http://127.0.0.1:{port}"
    wait_up(url, proc)
    return proc, url


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid, timeout=120):
    """Waits until the service is idle: requests that wrk abandoned at the end
    of a scenario (slow searches queued on the workers) must not run into the
    next scenario's measurement."""
    until = time.time() + timeout
    last = cpu_seconds(pid)
    while time.time() < until:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.05:
            return
        last = now
    log("warning: the service did not settle")


def peak_rss_mb(pid):
    """The service's peak RSS (VmHWM) and its own memory now (RssAnon +
    RssShmem): the rest of its RSS is the SQLite file's mapping, the
    kernel's page cache counted once per connection that maps it."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])
    return kb("VmHWM") / 1024, (kb("RssAnon") + kb("RssShmem")) / 1024


def vocabulary(db_file, total):
    """The dataset's words by document-frequency band, from its FTS5 index
    (sqlite3's fts5vocab over the dataset file, in a temporary table):
    "rare" the words in 10 insights to 1% of them (below are the seed's
    one-off words), "mid" 1-10%,
    "common" more than 10%. Only plain [a-z0-9] words (JSON-safe as they are)."""
    sql = ("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, insights_fts, 'row');"
           "SELECT term, doc FROM temp.v;")
    out = subprocess.run(["sqlite3", "-readonly", db_file, sql], capture_output=True, text=True,
                         check=True).stdout
    bands = {"rare": [], "mid": [], "common": []}
    for line in out.splitlines():
        term, doc = line.rsplit("|", 1)
        if not term.isascii() or not term.isalnum():
            continue
        df = int(doc) / max(total, 1)
        if int(doc) >= 10 and df <= 0.01:
            bands["rare"].append((term, df))
        elif 0.01 < df <= 0.10:
            bands["mid"].append((term, df))
        elif df > 0.10:
            bands["common"].append((term, df))
    return bands


def pick_words(url):
    """The repeated searches' words, from candidates: a rare (0.1-1% of
    insights), a mid (1-10%) and a common (> 10%) word."""
    total = json.loads(http("GET", url + "/statistics")[1])["total_insights"]
    df = {}
    for w in CANDIDATES:
        df[w] = json.loads(http("POST", url + "/insights/search", {"query": w, "page_size": 1})[1])["total"] / max(total, 1)
    def closest(target, lo, hi):
        pool = [w for w in df if lo <= df[w] <= hi] or list(df)
        return min(pool, key=lambda w: abs(df[w] - target))
    words = {"rare": closest(0.005, 0.001, 0.01), "mid": closest(0.05, 0.01, 0.10),
             "common": closest(0.5, 0.10, 1.0)}
    return words, {k: round(df[w], 4) for k, w in words.items()}


# The specification's first and third GraphQL queries ("GraphQL
# Integration"), and the introspection query GraphiQL and graphql-js send.
GQL_SPEC_LIST = """query {
  insights(
    where: { status: { _eq: "published" }, priority: { _eq: "high" }, category: { name: { _eq: "Technical" } } }
    order_by: { created_at: desc }
    limit: 20
  ) {
    id title description priority status created_at author
    category { name color icon }
    tags { name color }
  }
}"""
GQL_SPEC_SUBSTRING = """query {
  insights(
    where: {
      _or: [
        { title: { _ilike: "%performance%" } }
        { description: { _ilike: "%performance%" } }
        { content: { _ilike: "%performance%" } }
      ]
    }
  ) {
    id title description
  }
}"""


def introspection_query():
    """graphql-js's getIntrospectionQuery() (npm graphql, from the lockfile), as GraphiQL sends it."""
    script = ('process.stdout.write(require("graphql").getIntrospectionQuery({descriptions: true, '
              'specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, '
              'inputValueDeprecation: true}))')
    return subprocess.run(["node", "-e", script], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


GQL_INTROSPECTION = introspection_query()


def rest_spec_list_path(category_id):
    """The REST list page of the insights GQL_SPEC_LIST reads (newest first, as it orders them)."""
    return f"/insights?status=published&priority=high&category_id={category_id}&page_size=20"


SCENARIOS = [
    # name, connections, what it measures
    ("get_one", 64, "GET /insights/{id}, random ids"),
    ("list_status", 64, "GET /insights?status=published, page of 20"),
    ("search_rare", 64, "search, one word in <= 1% of insights (at least 10)"),
    ("search_mid", 64, "search, one word in 1-10% of insights"),
    ("search_common", 64, "search, one word in more than 10% of insights"),
    ("search_filtered", 64, "search, a 1-10% word + status + priority + tag (distinct: random filters)"),
    ("statistics", 64, "GET /statistics"),
    ("categories", 64, "GET /categories"),
    ("rest_spec_list", 64, "GET /insights: the 20 insights GraphQL's spec query reads"),
    ("gql_spec_list", 64, "GraphQL: the spec's first query (20 insights, category, tags)"),
    # Latency targets (p50): one connection, so that p50 is the service time, not a queue.
    ("gql_spec_substring", 1, "GraphQL: the spec's third query (_ilike over 3 columns)"),
    ("gql_introspection", 1, "GraphQL: the full introspection query"),
    # Writes last: the insights they add (published, high, no category) are the
    # newest, and reads measured after them walked past thousands of them.
    ("create", 16, "POST /insights with 3 tags"),
    ("mixed", 64, "60% get, 20% list, 10% statistics, 10% create"),
]


def sample_request(scenario, url, n, words, tag):
    """One request of the scenario, to capture the bytes nginx will serve."""
    mid = max(n // 2, 1)
    if scenario in ("get_one", "mixed"):
        return http("GET", f"{url}/insights/{mid}")[1]
    if scenario == "list_status":
        return http("GET", f"{url}/insights?status=published&page_size=20&page=25")[1]
    if scenario.startswith("search"):
        body = {"search_rare": {"query": words["rare"]}, "search_mid": {"query": words["mid"]},
                "search_common": {"query": words["common"]},
                "search_filtered": {"query": words["mid"], "status": "published", "priority": "high",
                                    "tag_ids": [tag]}}[scenario]
        return http("POST", f"{url}/insights/search", body)[1]
    if scenario == "statistics":
        return http("GET", f"{url}/statistics")[1]
    if scenario == "categories":
        return http("GET", f"{url}/categories")[1]
    if scenario == "create":
        return http("GET", f"{url}/insights/1")[1]
    if scenario == "rest_spec_list":
        return http("GET", url + rest_spec_list_path(tag))[1]
    if scenario.startswith("gql_"):
        query = {"gql_spec_list": GQL_SPEC_LIST, "gql_spec_substring": GQL_SPEC_SUBSTRING,
                 "gql_introspection": GQL_INTROSPECTION}[scenario]
        body = http("POST", f"{url}/v1/graphql", {"query": query})[1]
        if b'"errors"' in body[:20]:
            raise RuntimeError(f"{scenario}: {body[:300]!r}")
        return body
    raise ValueError(scenario)


def run_size(n, seed, duration, chosen):
    pg = os.environ.get("BENCH_DATABASE")
    if pg:
        db_url, meta = pg, None
        proc, url = start_service(db_url)
        have = json.loads(http("GET", url + "/statistics")[1])["total_insights"]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if have < n:
            log(f"seeding PostgreSQL with {n - have} more insights")
            t0 = time.time()
            subprocess.run([BIN, "seed", "--count", str(n - have), "--random-seed", str(seed),
                            "--database", db_url, "--log-level", "warn"], check=True,
                           stdout=subprocess.DEVNULL)
            meta = {"insights": n - have, "seconds": time.time() - t0}
            meta["rate"] = meta["insights"] / meta["seconds"]
    else:
        base, meta = dataset(n, seed)
        run_db = os.path.join(OUT, "run.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(run_db + suffix):
                os.remove(run_db + suffix)
        shutil.copyfile(base, run_db)
        db_url = "sqlite:///" + run_db

    proc, url = start_service(db_url)
    nginx = Nginx()
    results = []
    variants = {"both": ["repeat", "distinct"], "repeat": ["repeat"],
                "distinct": ["distinct"]}[os.environ.get("BENCH_VARIANTS", "both")]
    try:
        words, df = pick_words(url)
        total = json.loads(http("GET", url + "/statistics")[1])["total_insights"]
        # The same count and seed give the same insights on either
        # backend, so PostgreSQL's words come from the SQLite dataset of
        # (n, seed), built when missing; without it every distinct search
        # would ask for one word per band, which the cache answers.
        bands = vocabulary(dataset(n, seed)[0] if pg else run_db, total)
        vocab = {k: [w for w, _ in v] for k, v in bands.items()}
        # The repeated searches take the median word of the mid and
        # common bands, and the costliest (most frequent) rare word.
        for k, v in bands.items():
            if v:
                v = sorted(v, key=lambda x: x[1])
                w, f = v[-1] if k == "rare" else v[len(v) // 2]
                words[k], df[k] = w, round(f, 4)
        for k in vocab:
            vocab[k] = vocab[k] or [words[k]]
        log("vocabulary: " + ", ".join(f"{k} {len(v)} words" for k, v in vocab.items()))
        tag = 1
        technical = [c["id"] for c in json.loads(http("GET", url + "/categories?limit=100")[1])
                     if c["name"] == "Technical"]
        for name, conns, what in SCENARIOS:
            if chosen and name not in chosen:
                continue
            arg = technical[0] if name == "rest_spec_list" and technical else tag
            body = sample_request(name, url, n, words, arg)
            nginx.serve(body)
            settle(proc.pid)
            ref = run_wrk(nginx.url, LUA_REPORT, conns, duration)
            got = {"scenario": name, "what": what, "connections": conns, "bytes": len(body),
                   "nginx_rps": ref["rps"]}
            # A scenario without a distinct form (statistics, creates: the
            # same request, or different anyway) runs its repeated one.
            mine = [v for v in variants if v != "distinct" or name in DISTINCT] or ["repeat"]
            for variant in mine:
                runs = [(conns, variant)]
                if variant == "distinct" and name.startswith("search") and conns > 1:
                    runs.append((1, "distinct_c1"))
                for c, key in runs:
                    settle(proc.pid)
                    r = run_wrk(url, lua_for(name, n, words, arg, variant == "distinct", vocab),
                                c, duration, proc.pid)
                    r["ratio"] = r["rps"] / ref["rps"] if ref["rps"] else 0
                    got[key] = r
                    log(f"{name:16} {key:11} c{c:<3} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:7.2f} ms"
                        f"  p99 {r['p99_ms']:7.2f} ms  cpu {r['cpu_us']:7.0f} us/req"
                        f"  nginx {ref['rps']:8.0f}  ratio {r['ratio']:.3f}"
                        f"  errors {r['errors']}+{r['non_2xx']}")
            # The repeated variant's figures stay at the top level, as before.
            main = got.get("repeat") or got.get("distinct")
            got.update({k: main[k] for k in ("rps", "p50_ms", "p99_ms", "errors", "non_2xx",
                                             "requests", "cpu_us", "ratio")})
            results.append(got)
        rss, own = peak_rss_mb(proc.pid)
    finally:
        nginx.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {"n": n, "seed": seed, "database": "postgresql" if pg else "sqlite",
            "response_cache": not os.environ.get("BENCH_NO_CACHE"), "words": words,
            "vocabulary": {k: len(v) for k, v in vocab.items()},
            "document_frequency": df, "peak_rss_mb": rss, "own_rss_mb": own, "dataset": meta, "scenarios": results}


def table(run):
    cache = "response cache on" if run["response_cache"] else "response cache off"
    lines = [f"### {run['n']} insights on {run['database']}, {cache} "
             f"(repeated search words: {run['words']}, document frequency {run['document_frequency']}; "
             f"distinct words drawn from {run['vocabulary']})", "",
             "ratio: to nginx serving the scenario's sample bytes in the same run; "
             "cpu: the service's user+sys µs per request; c1: one connection.", "",
             "| scenario | conns | bytes | nginx req/s | repeat req/s | p50 ms | p99 ms | cpu µs | ratio "
             "| distinct req/s | p50 ms | p99 ms | cpu µs | ratio | c1 p50 ms | c1 req/s | errors |",
             "| --- |" + " ---: |" * 16]

    def cols(r, keys):
        if not r:
            return ["–"] * len(keys)
        fmt = {"rps": "{:.0f}", "p50_ms": "{:.2f}", "p99_ms": "{:.2f}", "cpu_us": "{:.0f}",
               "ratio": "{:.3f}"}
        return [fmt[k].format(r[k]) for k in keys]
    for s in run["scenarios"]:
        k5 = ["rps", "p50_ms", "p99_ms", "cpu_us", "ratio"]
        errs = sum(s[v]["errors"] + s[v]["non_2xx"] for v in ("repeat", "distinct", "distinct_c1")
                   if v in s)
        row = ([s["scenario"], str(s["connections"]), str(s["bytes"]), f"{s['nginx_rps']:.0f}"] +
               cols(s.get("repeat"), k5) + cols(s.get("distinct"), k5) +
               cols(s.get("distinct_c1"), ["p50_ms", "rps"]) + [str(errs)])
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(f"Peak RSS of the service: {run['peak_rss_mb']:.1f} MB (its own memory at the end: "
                 f"{run.get('own_rss_mb', 0):.1f} MB; the rest maps the database file)")
    if run["dataset"]:
        d = run["dataset"]
        lines.append(f"Dataset build: {d['insights']} insights in {d['seconds']:.1f} s "
                     f"({d['rate']:.0f} insights/s)")
    writes = [s for s in run["scenarios"] if s["scenario"] == "create"]
    if writes:
        lines.append(f"Write throughput: {writes[0]['rps']:.0f} insights created/s (16 connections)")
    return "\n".join(lines)


def main():
    os.makedirs(OUT, exist_ok=True)
    seed = int(os.environ.get("BENCH_SEED", "42"))
    duration = int(os.environ.get("BENCH_DURATION", "10"))
    chosen = [s for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s]
    scale = [int(x) for x in os.environ.get("BENCH_SCALE", "").split(",") if x]
    sizes = scale or [int(os.environ.get("BENCH_N", "100000"))]
    runs = []
    machine = f"{os.uname().nodename}, {os.cpu_count()} CPUs, {os.uname().release}"
    # Each size runs twice: with the response cache (the default
    # configuration: repeated reads are answered from it until a write) and
    # without it (every request computed: what the engine itself costs).
    both = os.environ.get("BENCH_CACHE", "both")
    modes = {"both": [False, True], "on": [False], "off": [True]}[both]
    for n in sizes:
        for no_cache in modes:
            if no_cache:
                os.environ["BENCH_NO_CACHE"] = "1"
            else:
                os.environ.pop("BENCH_NO_CACHE", None)
            runs.append(run_size(n, seed, duration, chosen))
            print(table(runs[-1]) + "\n", flush=True)
    os.environ.pop("BENCH_NO_CACHE", None)
    for cached in (True, False):
        series = [r for r in runs if r["response_cache"] == cached]
        if len(series) < 2:
            continue
        print(f"### p50 growth with N, response cache {'on' if cached else 'off'} "
              f"({', '.join(str(r['n']) for r in series)})\n")
        print("| scenario | " + " | ".join(f"p50 ms at {r['n']}" for r in series) + " | last / first |")
        print("| --- |" + " ---: |" * (len(series) + 1))
        for i, s in enumerate(series[0]["scenarios"]):
            p50 = [r["scenarios"][i]["p50_ms"] for r in series]
            print(f"| {s['scenario']} | " + " | ".join(f"{p:.2f}" for p in p50) +
                  f" | {p50[-1] / p50[0] if p50[0] else 0:.2f} |")
        print()
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": machine,
                   "duration_s": duration, "runs": runs}, f, indent=2)
    log(f"results written to {os.path.join(OUT, 'results.json')}")


if __name__ == "__main__":
    main()
