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


def lua_for(scenario, n, words, tag):
    """The wrk script that issues a scenario's requests against the service."""
    body_create = json.dumps({
        "title": "Benchmark insight about connection pool sizing under load",
        "description": "Pool exhaustion caused latency spikes during deploys.",
        "content": "## Context\nDeploys exhausted the connection pool.\n\n## Insight\n" +
                   "Size the pool for the burst, not the average. " * 20,
        "author": "bench-team", "priority": "high", "status": "published",
        "tag_ids": [1, 2, 3]})
    search_one = json.dumps({"query": words["rare"]})
    search_common = json.dumps({"query": words["common"]})
    search_filtered = json.dumps({"query": words["mid"], "status": "published",
                                  "priority": "high", "tag_ids": [tag]})
    bodies = {
        "create": body_create, "search_rare": search_one, "search_common": search_common,
        "search_filtered": search_filtered, "gql_spec_list": json.dumps({"query": GQL_SPEC_LIST}),
        "gql_spec_substring": json.dumps({"query": GQL_SPEC_SUBSTRING}),
        "gql_introspection": json.dumps({"query": GQL_INTROSPECTION}),
    }
    pre = "math.randomseed(os.time())\nlocal N = %d\n" % n
    pre += "".join(f"local B_{k} = {json.dumps(v)}\n" for k, v in bodies.items())
    pre += 'local H = {["Content-Type"] = "application/json"}\n'
    req = {
        "get_one": 'return wrk.format("GET", "/insights/" .. math.random(N))',
        "list_status": 'return wrk.format("GET", "/insights?status=published&page_size=20&page=" .. math.random(50))',
        "search_rare": 'return wrk.format("POST", "/insights/search", H, B_search_rare)',
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


def run_wrk(url, script, connections, duration):
    path = os.path.join(OUT, "script.lua")
    with open(path, "w") as f:
        f.write(script)
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
           "--timeout", "10s", "-s", path, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    secs = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {"rps": r["requests"] / secs, "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "errors": errors, "non_2xx": r["status"], "requests": r["requests"]}


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
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def pick_words(url):
    """Search candidates; pick a rare (<=10%), a mid (10-30%) and a common (>50%) word."""
    total = json.loads(http("GET", url + "/statistics")[1])["total_insights"]
    df = {}
    for w in CANDIDATES:
        df[w] = json.loads(http("POST", url + "/insights/search", {"query": w, "page_size": 1})[1])["total"] / max(total, 1)
    def closest(target, lo, hi):
        pool = [w for w in df if lo <= df[w] <= hi] or list(df)
        return min(pool, key=lambda w: abs(df[w] - target))
    words = {"rare": closest(0.05, 0.005, 0.10), "mid": closest(0.2, 0.10, 0.40),
             "common": closest(0.9, 0.5, 1.0)}
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
    ("search_rare", 64, "search, one word in <= 10% of insights"),
    ("search_common", 64, "search, one word in most insights"),
    ("search_filtered", 64, "search, a word + status + priority + tag"),
    ("statistics", 64, "GET /statistics"),
    ("categories", 64, "GET /categories"),
    ("create", 16, "POST /insights with 3 tags"),
    ("mixed", 64, "60% get, 20% list, 10% statistics, 10% create"),
    ("rest_spec_list", 64, "GET /insights: the 20 insights GraphQL's spec query reads"),
    ("gql_spec_list", 64, "GraphQL: the spec's first query (20 insights, category, tags)"),
    # Latency targets (p50): one connection, so that p50 is the service time, not a queue.
    ("gql_spec_substring", 1, "GraphQL: the spec's third query (_ilike over 3 columns)"),
    ("gql_introspection", 1, "GraphQL: the full introspection query"),
]


def sample_request(scenario, url, n, words, tag):
    """One request of the scenario, to capture the bytes nginx will serve."""
    mid = max(n // 2, 1)
    if scenario in ("get_one", "mixed"):
        return http("GET", f"{url}/insights/{mid}")[1]
    if scenario == "list_status":
        return http("GET", f"{url}/insights?status=published&page_size=20&page=25")[1]
    if scenario.startswith("search"):
        body = {"search_rare": {"query": words["rare"]}, "search_common": {"query": words["common"]},
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
    try:
        words, df = pick_words(url)
        tag = 1
        technical = [c["id"] for c in json.loads(http("GET", url + "/categories?limit=100")[1])
                     if c["name"] == "Technical"]
        for name, conns, what in SCENARIOS:
            if chosen and name not in chosen:
                continue
            settle(proc.pid)
            arg = technical[0] if name == "rest_spec_list" and technical else tag
            body = sample_request(name, url, n, words, arg)
            nginx.serve(body)
            ref = run_wrk(nginx.url, LUA_REPORT, conns, duration)
            got = run_wrk(url, lua_for(name, n, words, arg), conns, duration)
            got.update({"scenario": name, "what": what, "connections": conns, "bytes": len(body),
                        "nginx_rps": ref["rps"], "ratio": got["rps"] / ref["rps"] if ref["rps"] else 0})
            results.append(got)
            log(f"{name:16} {got['rps']:10.0f} req/s  p50 {got['p50_ms']:7.2f} ms  p99 {got['p99_ms']:7.2f} ms"
                f"  nginx {ref['rps']:8.0f}  ratio {got['ratio']:.2f}  errors {got['errors']}+{got['non_2xx']}")
        rss = peak_rss_mb(proc.pid)
    finally:
        nginx.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {"n": n, "seed": seed, "database": "postgresql" if pg else "sqlite",
            "response_cache": not os.environ.get("BENCH_NO_CACHE"), "words": words,
            "document_frequency": df, "peak_rss_mb": rss, "dataset": meta, "scenarios": results}


def table(run):
    cache = "response cache on" if run["response_cache"] else "response cache off"
    lines = [f"### {run['n']} insights on {run['database']}, {cache} "
             f"(search words: {run['words']}, document frequency {run['document_frequency']})", "",
             "| scenario | conns | bytes | req/s | p50 ms | p99 ms | errors | non-2xx | nginx req/s | ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in run["scenarios"]:
        lines.append(f"| {s['scenario']} | {s['connections']} | {s['bytes']} | {s['rps']:.0f} | "
                     f"{s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['errors']} | {s['non_2xx']} | "
                     f"{s['nginx_rps']:.0f} | {s['ratio']:.2f} |")
    lines.append("")
    lines.append(f"Peak RSS of the service: {run['peak_rss_mb']:.1f} MB")
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
