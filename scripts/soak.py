#!/usr/bin/python3
"""The insights soak: `make soak` (not part of `make test`).

Phases (SOAK_PHASES, comma-separated, default all four, in this order):

  sqlite       one instance on a seeded SQLite file
  kill-sqlite  SIGKILL under 16 writers, restart, integrity check: 20 rounds
  pg           two instances on one PostgreSQL database (a throwaway cluster,
               scripts/pg-cluster.sh), PostgreSQL restarted at 1/3 and 2/3
  kill-pg      the kill loop on PostgreSQL

A load phase seeds the database (`insights seed`), measures for a few seconds
the maximum throughput of its mix (closed loop), then paces the same mix at
SOAK_LOAD (80%) of it for SOAK_MINUTES: 80% reads of distinct requests
(random ids, list pages 1-500 with random filters, tags, categories,
statistics, trends, authors), 15% writes (create, update, delete insights
with tags and a category), 5% ranked searches for words of the dataset.
Every writer owns the insights it writes (the ones it created, and a share
of the seeded ones), so the state each acknowledged write leaves is known
exactly; a write that got no answer or a 5xx may or may not have happened,
and either outcome is accepted (and counted).

Pass criteria (each printed as a figure; any failure exits 1):
  - no 5xx and no connection error outside the PostgreSQL restart windows
    (a window runs from `pg-cluster.sh down` until every instance's /health
    answers 200 again, plus SOAK_GRACE seconds); 503s inside are counted;
    no unexpected 4xx anywhere
  - no lost acknowledged write: every insight a writer created, updated or
    deleted is, at the end, in the state of its last acknowledged write
    (fields and tags; deleted ones absent), read from the database and,
    for a sample, through the API of every instance
  - counters exact: every tag's usage_count equals the insights carrying
    it (database and API), insight_counts equals a GROUP BY, /statistics
    equals a direct count on every instance, `insights recount-tags`
    reports no drift
  - RSS (/proc/PID/status RssAnon + RssShmem: not the SQLite file the
    service maps) and open descriptors (/proc/PID/fd) of
    every instance within 10% (max <= 1.1 x min) over the last half of the
    run, samples inside restart windows left out
  - the database's own integrity check passes (SQLite: PRAGMA
    integrity_check, foreign_key_check, FTS5 'integrity-check';
    PostgreSQL: amcheck's bt_index_check with heapallindexed on every
    B-tree index, verify_heapam on every table, GIN searches equal to
    sequential ones); every instance exits 0 on SIGTERM

Environment (all optional):
  SOAK_MINUTES        minutes of paced load per load phase (default 10)
  SOAK_PHASES         subset of sqlite,kill-sqlite,pg,kill-pg
  SOAK_N              insights seeded for a load phase (default 30000)
  SOAK_LOAD           fraction of the measured maximum to pace at (0.8)
  SOAK_PROBE_SECONDS  length of the maximum-throughput measurement (8)
  SOAK_CONNECTIONS    client connections (threads; default 32)
  SOAK_PROCS          client processes the threads are spread over (2)
  SOAK_SAMPLE_SECONDS interval of the RSS and descriptor samples (3)
  SOAK_GRACE          seconds added to a restart window after recovery (2)
  SOAK_PG_DOWN        seconds PostgreSQL stays down at each restart (2)
  SOAK_KILL_ROUNDS    rounds of the kill loop (20)
  SOAK_KILL_WRITERS   concurrent writers in the kill loop (16)
  SOAK_DIR            logs, databases and results.json (build/soak)
  INSIGHTS_BIN        the binary (default build/insights)
  PG_BIN              PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin)
"""
import array
import collections
import http.client
import json
import multiprocessing
import os
import pickle
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("INSIGHTS_BIN") or os.path.join(REPO, "build", "insights")
OUT = os.environ.get("SOAK_DIR") or os.path.join(REPO, "build", "soak")
PG_BIN = os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin"
PG_CLUSTER = os.path.join(REPO, "scripts", "pg-cluster.sh")

MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
PHASES = [p for p in os.environ.get("SOAK_PHASES", "sqlite,kill-sqlite,pg,kill-pg").split(",") if p]
N_SEED = int(os.environ.get("SOAK_N", "30000"))
LOAD = float(os.environ.get("SOAK_LOAD", "0.8"))
PROBE_SECONDS = float(os.environ.get("SOAK_PROBE_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "32"))
PROCS = int(os.environ.get("SOAK_PROCS", "2"))
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "3"))
GRACE = float(os.environ.get("SOAK_GRACE", "2"))
PG_DOWN = float(os.environ.get("SOAK_PG_DOWN", "2"))
KILL_ROUNDS = int(os.environ.get("SOAK_KILL_ROUNDS", "20"))
KILL_WRITERS = int(os.environ.get("SOAK_KILL_WRITERS", "16"))
FLAT = 0.10  # RSS and descriptors: max <= (1 + FLAT) x min over the last half

STATUSES = ("draft", "published", "archived")
PRIORITIES = ("low", "medium", "high", "critical")
HTTP_TIMEOUT = 30
# The read mix (weights within the 80% of reads).
READS = (("get_one", 30), ("list", 30), ("tag_one", 4), ("tags", 4), ("category_one", 3),
         ("categories", 4), ("statistics", 10), ("trends", 8), ("authors", 7))
FILLER = ("latency", "index", "replica", "checkpoint", "vacuum", "quorum", "pool", "deploy",
          "cache", "rollback", "timeout", "incident", "review", "metrics", "shard")


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# figures

class Report:
    """Every figure of the run, printed as it is found and as a table at the end."""

    def __init__(self):
        self.rows = []
        self.failures = []

    def add(self, phase, name, value, criterion="", ok=None):
        self.rows.append((phase, name, str(value), criterion, ok))
        mark = "" if ok is None else ("  ok" if ok else "  FAIL")
        log(f"[{phase}] {name}: {value}" + (f"  ({criterion})" if criterion else "") + mark)
        if ok is False:
            self.failures.append(f"{phase}: {name} = {value} (expected {criterion})")

    def table(self):
        lines = ["| phase | figure | value | criterion | result |", "| --- | --- | ---: | --- | --- |"]
        for phase, name, value, criterion, ok in self.rows:
            res = "" if ok is None else ("pass" if ok else "**FAIL**")
            lines.append(f"| {phase} | {name} | {value} | {criterion} | {res} |")
        return "\n".join(lines)


REPORT = Report()


# ---------------------------------------------------------------------------
# HTTP

def connect(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def call(port, method, path, body=None, timeout=HTTP_TIMEOUT):
    """One request on a connection of its own: (status, parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data is not None else {})
        r = conn.getresponse()
        raw = r.read()
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, raw
    finally:
        conn.close()


def health(port):
    try:
        return call(port, "GET", "/health", timeout=2)[0]
    except (OSError, http.client.HTTPException):
        return None


# ---------------------------------------------------------------------------
# databases

class SqliteDB:
    kind = "sqlite"

    def __init__(self, path):
        self.path = path
        self.url = "sqlite:///" + path  # path is absolute: sqlite:////abs/path

    def query(self, sql):
        con = sqlite3.connect(self.path, timeout=60)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def remove(self):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)


class PgDB:
    kind = "postgresql"

    def __init__(self, url):
        self.url = url

    def psql(self, sql, check=True):
        proc = subprocess.run([os.path.join(PG_BIN, "psql"), self.url, "-X", "-q", "-A", "-t",
                               "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            raise RuntimeError(f"psql failed on {sql[:200]!r}: {proc.stderr.strip()}")
        return proc

    def query(self, sql):
        out = self.psql(sql).stdout
        return [tuple(line.split("\x1f")) for line in out.split("\n") if line]


def snapshot(db):
    """Every insight (id -> title, priority, status, category or 0) and its tags."""
    rows = {}
    for r in db.query("SELECT id, title, priority, status, coalesce(category_id, 0) FROM insights"):
        rows[int(r[0])] = {"title": r[1], "priority": r[2], "status": r[3], "category_id": int(r[4])}
    tags = collections.defaultdict(set)
    for i, t in db.query("SELECT insight_id, tag_id FROM insight_tags"):
        tags[int(i)].add(int(t))
    for i, row in rows.items():
        row["tags"] = frozenset(tags.get(i, ()))
    return rows


# ---------------------------------------------------------------------------
# servers

class Server:
    def __init__(self, name, db_url, extra=()):
        self.name = name
        self.db_url = db_url
        self.extra = list(extra)
        self.log_path = os.path.join(OUT, f"{name}.log")
        self.proc = None
        self.port = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=90):
        """Starts and waits for /health 200; returns the seconds it took."""
        for _ in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as f:
                f.write(f"=== soak: serve on port {self.port} at {time.ctime()}\n".encode())
                f.flush()
                self.proc = subprocess.Popen(
                    [BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--database",
                     self.db_url, "--log-format", "text", "--log-level", "warn", *self.extra],
                    stdin=subprocess.DEVNULL, stdout=f, stderr=f)
            t0 = time.monotonic()
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    break
                if health(self.port) == 200:
                    return time.monotonic() - t0
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"{self.name} did not become healthy in {timeout} s (log {self.log_path})")
        raise RuntimeError(f"{self.name} exited with {self.proc.returncode} while starting (log {self.log_path})")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit status (or a text when it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "did not exit within 60 s of SIGTERM"


def run_cli(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=1800,
                          stdin=subprocess.DEVNULL)


def seed(db, n):
    t0 = time.monotonic()
    proc = run_cli("seed", "--count", str(n), "--random-seed", "7", "--database", db.url,
                   "--log-level", "warn")
    if proc.returncode != 0:
        raise RuntimeError(f"seed failed: {proc.stderr}")
    return time.monotonic() - t0


# ---------------------------------------------------------------------------
# the load: one thread per client connection, in SOAK_PROCS processes

class Facts:
    """What the clients draw their requests from."""

    def __init__(self, port, db):
        _, tags = call(port, "GET", "/tags?limit=100")
        _, cats = call(port, "GET", "/categories?limit=100")
        _, authors = call(port, "GET", "/statistics/authors?limit=50")
        self.tag_ids = sorted(t["id"] for t in tags)
        self.category_ids = sorted(c["id"] for c in cats)
        names = [a["author"] for a in authors["authors"]] or ["team"]
        # Whole names and fragments of them (the filter matches substrings).
        self.authors = names + sorted({n[:3] for n in names} | {n[-4:] for n in names})
        ids = [int(r[0]) for r in db.query("SELECT id FROM insights ORDER BY id")]
        self.seed_ids = ids
        self.max_id = ids[-1] if ids else 1
        words = set()
        for (title,) in db.query("SELECT title FROM insights ORDER BY id LIMIT 3000"):
            for w in title.lower().split():
                if w.isalpha() and len(w) > 2:
                    words.add(w)
        self.words = sorted(words)


class Client:
    """One connection per instance and the writes it owns."""

    def __init__(self, gidx, total, ports, facts, run_tag, t_zero):
        self.gidx = gidx
        self.rng = random.Random(f"{run_tag}-{gidx}")
        self.ports = ports
        self.conns = {p: None for p in ports}
        self.f = facts
        self.run_tag = run_tag
        self.t_zero = t_zero
        self.max_id = facts.max_id
        self.owned = [i for i in facts.seed_ids if i % total == gidx]
        self.state = {}  # insight id -> candidate final states (dict of known fields, None: absent)
        self.pending = []  # (title, candidate) of creates that got no definite answer
        self.seq = 0
        self.counts = collections.Counter()  # (class, status) -> requests
        self.lat = collections.defaultdict(lambda: array.array("f"))  # (class, kind) -> seconds
        self.per_sec = collections.Counter()
        self.bad = []  # (t0, t1, class, method, path, status or None, error)
        self.unexpected = []  # (t0, method, path, status, body)
        self.tag_mismatch = []
        self.acked = collections.Counter()
        self.ambiguous = collections.Counter()
        self.probe_done = 0
        self.late = 0
        read_names, read_w = zip(*READS)
        self.read_names = read_names
        self.read_cum = [sum(read_w[:i + 1]) for i in range(len(read_w))]

    # -- transport

    def request(self, cls, method, path, body, ok, kind=None):
        port = self.rng.choice(self.ports)
        data = json.dumps(body).encode() if body is not None else None
        t0 = time.monotonic()
        status, raw, err = None, b"", None
        try:
            conn = self.conns[port]
            if conn is None:
                conn = self.conns[port] = connect(port)
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data is not None else {})
            r = conn.getresponse()
            raw = r.read()
            status = r.status
            if r.will_close:
                conn.close()
                self.conns[port] = None
        except (OSError, http.client.HTTPException) as exc:
            err = f"{type(exc).__name__}: {exc}"
            if self.conns[port] is not None:
                self.conns[port].close()
            self.conns[port] = None
        t1 = time.monotonic()
        self.counts[(cls, status if status is not None else "error")] += 1
        self.lat[(cls, kind or cls)].append(t1 - t0)
        self.per_sec[int(t1 - self.t_zero)] += 1
        if status is None or status >= 500:
            what = path[:80] + (" " + data[:160].decode() if method == "POST" and data else "")
            self.bad.append((t0, t1, cls, method, what, status, err))
        elif status not in ok:
            self.unexpected.append((t0, method, path[:120], status, raw[:300]))
        return status, raw

    # -- the mix

    def one(self):
        r = self.rng.random()
        if r < 0.80:
            self.read()
        elif r < 0.95:
            self.write()
        else:
            self.search()

    def read(self):
        rng = self.rng
        x = rng.random() * self.read_cum[-1]
        kind = next(n for n, c in zip(self.read_names, self.read_cum) if x < c)
        ok = (200,)
        if kind == "get_one":
            path, ok = f"/insights/{rng.randint(1, self.max_id)}", (200, 404)
        elif kind == "list":
            q = [f"page={rng.randint(1, 500)}", f"page_size={rng.choice((5, 10, 20, 50))}"]
            if rng.random() < 0.4:
                q.append("status=" + rng.choice(STATUSES))
            if rng.random() < 0.3:
                q.append("priority=" + rng.choice(PRIORITIES))
            if rng.random() < 0.3:
                q.append(f"category_id={rng.choice(self.f.category_ids)}")
            if rng.random() < 0.2:
                q.append("author=" + urllib.parse.quote(rng.choice(self.f.authors)))
                kind = "list_author"
            rng.shuffle(q)
            path = "/insights?" + "&".join(q)
        elif kind == "tag_one":
            path, ok = f"/tags/{rng.choice(self.f.tag_ids)}", (200, 404)
        elif kind == "tags":
            path = f"/tags?skip={rng.randint(0, 40)}&limit={rng.randint(1, 100)}"
        elif kind == "category_one":
            path, ok = f"/categories/{rng.choice(self.f.category_ids)}", (200, 404)
        elif kind == "categories":
            path = f"/categories?skip={rng.randint(0, 15)}&limit={rng.randint(1, 100)}"
        elif kind == "statistics":
            path = "/statistics"
        elif kind == "trends":
            path = f"/statistics/trends?days={rng.randint(1, 366)}"
        else:
            path = f"/statistics/authors?limit={rng.randint(1, 100)}"
        self.request("read", "GET", path, None, ok, kind)

    def search(self):
        rng = self.rng
        body = {"query": " ".join(rng.sample(self.f.words, rng.choice((1, 1, 2)))),
                "page": rng.randint(1, 3), "page_size": rng.choice((10, 20))}
        if rng.random() < 0.3:
            body["status"] = rng.choice(STATUSES)
        if rng.random() < 0.2:
            body["priority"] = rng.choice(PRIORITIES)
        if rng.random() < 0.2:
            body["tag_ids"] = [rng.choice(self.f.tag_ids)]
        if rng.random() < 0.1:
            body["category_id"] = rng.choice(self.f.category_ids)
        filtered = len(body) > 3
        self.request("search", "POST", "/insights/search", body, (200,),
                     "search_filtered" if filtered else "search")

    def text(self, n):
        return " ".join(self.rng.choice(self.f.words) if self.rng.random() < 0.6 else self.rng.choice(FILLER)
                        for _ in range(n))

    def pick_tags(self):
        return sorted(self.rng.sample(self.f.tag_ids, self.rng.randint(0, min(5, len(self.f.tag_ids)))))

    def check_tags(self, raw, iid, tags):
        try:
            got = sorted(t["id"] for t in json.loads(raw)["tags"])
        except (ValueError, KeyError, TypeError):
            got = None
        if got != sorted(tags):
            self.tag_mismatch.append((iid, sorted(tags), got))

    def write(self):
        r = self.rng.random()
        if r < 0.40 or not self.owned:
            self.create()
        elif r < 0.75:
            self.update()
        else:
            self.delete()

    def create(self):
        rng = self.rng
        self.seq += 1
        title = f"soak {self.run_tag} c{self.gidx}-{self.seq} {self.text(3)}"
        tags = self.pick_tags()
        cat = rng.choice(self.f.category_ids + [None])
        pri, st = rng.choice(PRIORITIES), rng.choice(STATUSES)
        body = {"title": title, "description": self.text(12).capitalize() + ".",
                "content": "## Context\n\n" + self.text(60) + ".\n", "source": f"Soak #{self.seq}",
                "author": rng.choice(self.f.authors), "category_id": cat, "priority": pri,
                "status": st, "tag_ids": tags}
        cand = {"title": title, "priority": pri, "status": st, "category_id": cat or 0,
                "tags": frozenset(tags)}
        status, raw = self.request("write", "POST", "/insights", body, (201,), "create")
        if status == 201:
            iid = json.loads(raw)["id"]
            self.check_tags(raw, iid, tags)
            self.state[iid] = [cand]
            self.owned.append(iid)
            self.max_id = max(self.max_id, iid)
            self.acked["create"] += 1
        elif status is None or status >= 500:
            self.pending.append((title, cand))
            self.ambiguous["create"] += 1

    def take(self, remove):
        i = self.rng.randrange(len(self.owned))
        iid = self.owned[i]
        if remove:
            self.owned[i] = self.owned[-1]
            self.owned.pop()
        return iid

    def drop(self, iid):
        try:
            self.owned.remove(iid)
        except ValueError:
            pass

    def update(self):
        rng = self.rng
        iid = self.take(False)
        tags = self.pick_tags()
        body = {"tag_ids": tags}
        fields = {"tags": frozenset(tags)}
        if rng.random() < 0.5:
            body["priority"] = fields["priority"] = rng.choice(PRIORITIES)
        if rng.random() < 0.5:
            body["status"] = fields["status"] = rng.choice(STATUSES)
        if rng.random() < 0.3:
            cat = rng.choice(self.f.category_ids + [None])
            body["category_id"] = cat
            fields["category_id"] = cat or 0
        if rng.random() < 0.3:
            self.seq += 1
            body["title"] = fields["title"] = f"soak {self.run_tag} u{self.gidx}-{self.seq} {self.text(3)}"
        old = self.state.get(iid, [{}])
        status, raw = self.request("write", "PUT", f"/insights/{iid}", body, (200,), "update")
        if status == 200:
            self.check_tags(raw, iid, tags)
            self.state[iid] = [dict(old[-1], **fields)]
            self.acked["update"] += 1
        elif status is None or status >= 500:
            self.state[iid] = old + [dict(old[-1], **fields)]
            self.drop(iid)  # its state is now one of two: never touched again
            self.ambiguous["update"] += 1
        else:
            self.drop(iid)

    def delete(self):
        iid = self.take(True)
        old = self.state.get(iid, [{}])
        status, _ = self.request("write", "DELETE", f"/insights/{iid}", None, (204,), "delete")
        if status == 204:
            self.state[iid] = [None]
            self.acked["delete"] += 1
        elif status is None or status >= 500:
            self.state[iid] = old + [None]
            self.ambiguous["delete"] += 1

    def result(self):
        self.lat = dict(self.lat)  # a defaultdict of a lambda does not pickle
        return {k: getattr(self, k) for k in ("state", "pending", "counts", "lat", "per_sec", "bad",
                                              "unexpected", "tag_mismatch", "acked", "ambiguous",
                                              "late")}


def client_thread(cl, ctl, probe_from, probe_end):
    while time.monotonic() < probe_end:
        cl.one()
        if probe_from <= time.monotonic() < probe_end:
            cl.probe_done += 1
    with ctl["lock"]:
        ctl["probe_total"].value += cl.probe_done
        ctl["reported"].value += 1
    ctl["go"].wait()
    interval = ctl["threads"] / ctl["rate"].value
    end = ctl["end"].value
    next_t = ctl["start"].value + cl.rng.random() * interval
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if next_t > now:
            time.sleep(next_t - now)
            if time.monotonic() >= end:
                break
        cl.one()
        next_t += interval
        if time.monotonic() - next_t > 1.0:  # far behind: do not burst to catch up
            cl.late += 1
            next_t = time.monotonic()


def client_process(pidx, gidxs, total, ports, facts, run_tag, t_zero, ctl, probe_from, probe_end, out):
    clients = [Client(g, total, ports, facts, run_tag, t_zero) for g in gidxs]
    threads = [threading.Thread(target=client_thread, args=(c, ctl, probe_from, probe_end)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "wb") as f:
        pickle.dump([c.result() for c in clients], f)
    os._exit(0)


# ---------------------------------------------------------------------------
# samples of RSS and descriptors

class Sampler(threading.Thread):
    def __init__(self, servers):
        super().__init__(daemon=True)
        self.servers = servers
        self.samples = {s.name: [] for s in servers}  # (t, rss kB, fds)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            now = time.monotonic()
            for s in self.servers:
                try:
                    with open(f"/proc/{s.pid}/status") as f:
                        # Its own memory: not the SQLite file it maps (page cache).
                        rss = sum(int(l.split()[1]) for l in f
                                  if l.startswith(("RssAnon:", "RssShmem:")))
                    fds = len(os.listdir(f"/proc/{s.pid}/fd"))
                    self.samples[s.name].append((now, rss, fds))
                except (OSError, StopIteration):
                    pass
            self.halt.wait(SAMPLE_SECONDS)


# ---------------------------------------------------------------------------
# checks shared by the phases

def cpu_seconds(pid):
    """utime + stime of a process, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def cpu_of(pids):
    return sum(cpu_seconds(p) for p in pids)


def machine_busy():
    """(busy, total) jiffies of every CPU since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def postgres_pids(pg_dir):
    """The postmaster of the cluster's primary and its children."""
    try:
        with open(os.path.join(pg_dir, "primary", "data", "postmaster.pid")) as f:
            pm = int(f.readline())
    except (OSError, ValueError):
        return []
    pids = [pm]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pm:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def metric(port, name):
    """A counter of /metrics (0 when absent)."""
    try:
        status, text = call(port, "GET", "/metrics")
    except (OSError, http.client.HTTPException):
        return 0
    if status != 200:
        return 0
    if isinstance(text, (bytes, bytearray)):
        text = text.decode()
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0


def error_lines(server, windows_wall):
    """Lines logged at level error, outside and inside the given wall-clock windows."""
    import datetime
    outside, inside, examples = 0, 0, []
    with open(server.log_path, "rb") as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 2 or parts[1] != b"error":
                continue
            try:
                t = datetime.datetime.strptime(parts[0].decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
            except ValueError:
                t = None
            if t is not None and any(w0 - 1 <= t <= w1 + 1 for w0, w1 in windows_wall):
                inside += 1
            else:
                outside += 1
                if len(examples) < 5:
                    examples.append(line.decode("utf-8", "replace").strip()[:300])
    return outside, inside, examples


def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def matches(cand, actual):
    if cand is None:
        return actual is None
    if actual is None:
        return False
    return all(actual[k] == v for k, v in cand.items())


def check_integrity(phase, db, words=()):
    """The database's own checks; returns True when all passed."""
    ok = True
    if db.kind == "sqlite":
        con = sqlite3.connect(db.path, timeout=60)
        try:
            res = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
            good = res == ["ok"]
            ok &= good
            if not good:
                REPORT.add(phase, "PRAGMA integrity_check", "; ".join(res)[:300], "ok", False)
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                ok = False
                REPORT.add(phase, "PRAGMA foreign_key_check rows", len(fk), "0", False)
            try:
                con.execute("INSERT INTO insights_fts(insights_fts) VALUES('integrity-check')")
                con.commit()
            except sqlite3.DatabaseError as exc:
                ok = False
                REPORT.add(phase, "FTS5 integrity-check", str(exc), "no error", False)
        finally:
            con.close()
        return ok
    db.psql("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = db.query("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE am.amname = 'btree' AND n.nspname = 'public' ORDER BY 1")
    for (name,) in indexes:
        proc = db.psql(f"SELECT bt_index_check('public.\"{name}\"'::regclass, true)", check=False)
        if proc.returncode != 0:
            ok = False
            REPORT.add(phase, f"bt_index_check({name})", proc.stderr.strip()[:300], "no error", False)
    tables = db.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1")
    for (name,) in tables:
        proc = db.psql(f"SELECT count(*) FROM verify_heapam('public.\"{name}\"'::regclass)", check=False)
        bad = proc.stdout.strip()
        if proc.returncode != 0 or bad != "0":
            ok = False
            REPORT.add(phase, f"verify_heapam({name})", (proc.stderr.strip() or bad)[:300], "0 rows", False)
    for w in words:
        q = w.replace("'", "''")
        cond = f"FROM insights WHERE search @@ insights_fts_query('{q}')"
        via_index = db.query(f"SET enable_seqscan = off; SELECT count(*) {cond}")
        via_heap = db.query("SET enable_indexscan = off; SET enable_bitmapscan = off; "
                            f"SELECT count(*) {cond}")
        if via_index != via_heap:
            ok = False
            REPORT.add(phase, f"GIN vs sequential count for {w!r}", f"{via_index} vs {via_heap}", "equal", False)
    return ok


def check_counters(phase, db, servers, quiet=False):
    """Counters against direct counts, in the database and through every
    instance's API; `recount-tags` must find no drift. Returns the problems."""
    problems = []
    real = collections.Counter()
    for (t,) in db.query("SELECT tag_id FROM insight_tags"):
        real[int(t)] += 1
    tags = {int(r[0]): (r[1], int(r[2])) for r in db.query("SELECT id, name, usage_count FROM tags")}
    drift_db = [(i, n, real[i]) for i, (_, n) in tags.items() if n != real[i]]
    if drift_db:
        problems.append(f"database usage_count drift (tag, stored, real): {drift_db[:10]}")
    groups = collections.Counter()
    for st, pr, cat, n in db.query("SELECT status, priority, coalesce(category_id, 0), count(*) "
                                   "FROM insights GROUP BY 1, 2, 3"):
        groups[(st, pr, int(cat))] = int(n)
    stored = collections.Counter()
    for st, pr, cat, n in db.query("SELECT status, priority, category_id, n FROM insight_counts"):
        if int(n):
            stored[(st, pr, int(cat))] = int(n)
    if groups != stored:
        diff = {k: (stored[k], groups[k]) for k in set(groups) | set(stored) if stored[k] != groups[k]}
        problems.append(f"insight_counts differ from a GROUP BY (stored, real): {dict(list(diff.items())[:10])}")
    cats = {int(r[0]): r[1] for r in db.query("SELECT id, name FROM categories")}
    want = {"total_insights": sum(groups.values()), "total_tags": len(tags), "total_categories": len(cats)}
    by_status, by_pri, by_cat = collections.Counter(), collections.Counter(), collections.Counter()
    for (st, pr, cat), n in groups.items():
        by_status[st] += n
        by_pri[pr] += n
        by_cat[cats.get(cat, "Uncategorized")] += n
    api_drift = 0
    stat_bad = 0
    for s in servers:
        skip, seen = 0, {}
        while True:
            status, page = call(s.port, "GET", f"/tags?skip={skip}&limit=100")
            if status != 200 or not page:
                break
            for t in page:
                seen[t["id"]] = t["usage_count"]
            skip += len(page)
        bad = [(i, seen.get(i), real[i]) for i in tags if seen.get(i) != real[i]]
        api_drift += len(bad)
        if bad:
            problems.append(f"{s.name}: GET /tags usage_count differs from the real count (tag, api, real): {bad[:10]}")
        status, st = call(s.port, "GET", "/statistics")
        got = {k: st.get(k) for k in want} if status == 200 else {}
        wrong = [k for k in want if got.get(k) != want[k]]
        for key, exp in (("insights_by_status", by_status), ("insights_by_priority", by_pri),
                         ("insights_by_category", by_cat)):
            have = {k: v for k, v in (st.get(key) or {}).items() if v} if status == 200 else None
            if have != {k: v for k, v in exp.items() if v}:
                wrong.append(key)
        stat_bad += len(wrong)
        if wrong:
            problems.append(f"{s.name}: /statistics fields differ from a direct count: {wrong} "
                            f"(api {got}, direct {want})")
    proc = run_cli("recount-tags", "--database", db.url, "--log-level", "warn")
    fixes = [l for l in proc.stdout.splitlines() if l.startswith("tag ")]
    clean = proc.returncode == 0 and "every tag's usage_count matches its insights" in proc.stdout
    if not clean:
        problems.append(f"recount-tags (exit {proc.returncode}): {proc.stdout.strip()[:500]} {proc.stderr.strip()[:300]}")
    if not quiet:
        REPORT.add(phase, "tags whose usage_count != insights carrying them (database)", len(drift_db), "0", not drift_db)
        REPORT.add(phase, "insight_counts cells != GROUP BY count", 0 if groups == stored else
                   sum(1 for k in set(groups) | set(stored) if stored[k] != groups[k]), "0", groups == stored)
        REPORT.add(phase, "tags whose API usage_count != real count (all instances)", api_drift, "0", api_drift == 0)
        REPORT.add(phase, "/statistics fields != direct count (all instances)", stat_bad, "0", stat_bad == 0)
        REPORT.add(phase, "recount-tags fixes", len(fixes) if proc.returncode == 0 else f"exit {proc.returncode}",
                   "0 (\"every tag's usage_count matches\")", clean)
        REPORT.add(phase, "insights / tags / categories at the end",
                   f"{want['total_insights']} / {want['total_tags']} / {want['total_categories']}")
    for p in problems:
        log(f"[{phase}] problem: {p}")
    return problems


# ---------------------------------------------------------------------------
# a load phase

def load_phase(phase, db, servers, pg_dir=None):
    port0 = servers[0].port
    facts = Facts(port0, db)
    REPORT.add(phase, "seeded insights / tags / categories / search words",
               f"{len(facts.seed_ids)} / {len(facts.tag_ids)} / {len(facts.category_ids)} / {len(facts.words)}")
    ports = [s.port for s in servers]
    run_tag = f"{phase}{int(time.time()) % 100000}"
    ctx = multiprocessing.get_context("fork")
    ctl = {"lock": ctx.Lock(), "probe_total": ctx.Value("q", 0, lock=False),
           "reported": ctx.Value("i", 0, lock=False), "go": ctx.Event(),
           "rate": ctx.Value("d", 1.0, lock=False), "start": ctx.Value("d", 0.0, lock=False),
           "end": ctx.Value("d", 0.0, lock=False), "threads": CONNECTIONS}
    t_zero = time.monotonic() + 1.0
    probe_from, probe_end = t_zero + 2.0, t_zero + 2.0 + PROBE_SECONDS
    procs, outs = [], []
    for p in range(PROCS):
        gidxs = list(range(p, CONNECTIONS, PROCS))
        out = os.path.join(OUT, f"{phase}-clients-{p}.pickle")
        outs.append(out)
        pr = ctx.Process(target=client_process, args=(p, gidxs, CONNECTIONS, ports, facts, run_tag, t_zero,
                                                     ctl, probe_from, probe_end, out))
        pr.start()
        procs.append(pr)
    log(f"[{phase}] measuring the maximum throughput of the mix ({PROBE_SECONDS:.0f} s, "
        f"{CONNECTIONS} connections, closed loop)")
    server_pids = [s.pid for s in servers]
    client_pids = [pr.pid for pr in procs]
    hits0 = sum(metric(s.port, "insights_cache_hits_total") for s in servers)
    miss0 = sum(metric(s.port, "insights_cache_misses_total") for s in servers)
    while time.monotonic() < probe_from:
        time.sleep(0.01)
    # PostgreSQL's backends come and go: each one's CPU at the start (0 for
    # those that start later) is subtracted from its CPU at the end.
    pg0 = {p: cpu_seconds(p) for p in postgres_pids(pg_dir)} if pg_dir else {}
    cpu0 = (cpu_of(server_pids), cpu_of(client_pids), 0.0, machine_busy())
    while time.monotonic() < probe_end:
        time.sleep(0.01)
    pg1 = sum(cpu_seconds(p) - pg0.get(p, 0.0) for p in postgres_pids(pg_dir)) if pg_dir else 0.0
    cpu1 = (cpu_of(server_pids), cpu_of(client_pids), pg1, machine_busy())
    deadline = probe_end + 120
    while ctl["reported"].value < CONNECTIONS and time.monotonic() < deadline:
        time.sleep(0.1)
    max_rps = ctl["probe_total"].value / PROBE_SECONDS
    rate = max(LOAD * max_rps, 1.0)
    duration = MINUTES * 60
    ctl["rate"].value = rate
    start = time.monotonic() + 0.5
    end = start + duration
    ctl["start"].value, ctl["end"].value = start, end
    REPORT.add(phase, "maximum throughput of the mix (closed loop, req/s)", f"{max_rps:.0f}")
    ncpu = os.cpu_count() or 1
    busy = (cpu1[3][0] - cpu0[3][0]) / max(cpu1[3][1] - cpu0[3][1], 1)
    REPORT.add(phase, f"CPU while measuring it: service / load clients{' / PostgreSQL' if pg_dir else ''} / "
               f"whole machine, other jobs included (% of {ncpu} CPUs)",
               f"{(cpu1[0] - cpu0[0]) / PROBE_SECONDS / ncpu:.0%} / {(cpu1[1] - cpu0[1]) / PROBE_SECONDS / ncpu:.0%}"
               + (f" / {(cpu1[2] - cpu0[2]) / PROBE_SECONDS / ncpu:.0%}" if pg_dir else "") + f" / {busy:.0%}")
    REPORT.add(phase, f"target rate ({LOAD:.0%} of it, req/s) for {duration / 60:g} min", f"{rate:.0f}")
    sampler = Sampler(servers)
    ctl["go"].set()
    sampler.start()
    while time.monotonic() < start:
        time.sleep(0.01)
    cpu_start = (cpu_of(server_pids), cpu_of(client_pids), machine_busy())
    windows = []
    if pg_dir:
        for k in (1, 2):
            at = start + duration * k / 3
            while time.monotonic() < at:
                time.sleep(min(1.0, at - time.monotonic()))
            w0 = time.monotonic()
            log(f"[{phase}] restarting PostgreSQL ({k}/2)")
            subprocess.run([PG_CLUSTER, "down", pg_dir], check=True, stdout=subprocess.DEVNULL)
            time.sleep(PG_DOWN)
            subprocess.run([PG_CLUSTER, "up", pg_dir], check=True, stdout=subprocess.DEVNULL)
            up = time.monotonic()
            while time.monotonic() - up < 120 and any(health(s.port) != 200 for s in servers):
                time.sleep(0.1)
            healthy = time.monotonic()
            windows.append((w0, healthy + GRACE))
            REPORT.add(phase, f"restart {k}: down at, healthy again after (s)",
                       f"{w0 - start:.0f} s, {healthy - w0:.1f} s (PostgreSQL down {up - w0:.1f} s)")
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.01, end - time.monotonic())))
    cpu_end = (cpu_of(server_pids), cpu_of(client_pids), machine_busy())
    busy = (cpu_end[2][0] - cpu_start[2][0]) / max(cpu_end[2][1] - cpu_start[2][1], 1)
    REPORT.add(phase, f"CPU during the soak: service / load clients / whole machine (% of {ncpu} CPUs)",
               f"{(cpu_end[0] - cpu_start[0]) / duration / ncpu:.0%} / "
               f"{(cpu_end[1] - cpu_start[1]) / duration / ncpu:.0%} / {busy:.0%}")
    for pr in procs:
        pr.join(timeout=max(1.0, end - time.monotonic()) + 180)
        if pr.exitcode is None:
            pr.kill()
            raise RuntimeError(f"[{phase}] a client process did not finish")
    sampler.halt.set()
    sampler.join()
    results = []
    for out in outs:
        with open(out, "rb") as f:
            results.extend(pickle.load(f))
    analyse_load(phase, results, servers, sampler, windows, start, end, rate, t_zero)
    hits = sum(metric(s.port, "insights_cache_hits_total") for s in servers) - hits0
    miss = sum(metric(s.port, "insights_cache_misses_total") for s in servers) - miss0
    REPORT.add(phase, "response cache hits / misses (distinct reads: mostly misses)",
               f"{hits:.0f} / {miss:.0f} ({hits / max(hits + miss, 1):.0%} hits)")
    wall = time.time() - time.monotonic()
    for s in servers:
        outside, inside, examples = error_lines(s, [(w0 + wall, w1 + wall) for w0, w1 in windows])
        REPORT.add(phase, f"{s.name}: error lines in the log outside restart windows"
                   + (f" (inside: {inside})" if windows else ""), outside, "0", outside == 0)
        for e in examples:
            log(f"[{phase}]   {e}")
    time.sleep(3)  # response caches expire after 2 s
    verify_writes(phase, db, servers, results)
    check_counters(phase, db, servers)
    ok = check_integrity(phase, db, words=facts.words[:5])
    REPORT.add(phase, "database integrity check", "passed" if ok else "FAILED", "passed", ok)


def analyse_load(phase, results, servers, sampler, windows, start, end, rate, t_zero):
    counts = collections.Counter()
    lat = {c: [] for c in ("read", "write", "search")}
    by_kind = collections.defaultdict(list)
    per_sec = collections.Counter()
    bad, unexpected, mismatch = [], [], []
    acked, ambiguous = collections.Counter(), collections.Counter()
    late = 0
    for r in results:
        counts.update(r["counts"])
        for (c, kind), v in r["lat"].items():
            lat[c].extend(v)
            by_kind[kind].extend(v)
        per_sec.update(r["per_sec"])
        bad.extend(r["bad"])
        unexpected.extend(r["unexpected"])
        mismatch.extend(r["tag_mismatch"])
        acked.update(r["acked"])
        ambiguous.update(r["ambiguous"])
        late += r["late"]
    total = sum(counts.values())
    by_class = collections.Counter()
    for (cls, _), n in counts.items():
        by_class[cls] += n
    REPORT.add(phase, "requests (measurement + soak): reads / writes / searches",
               f"{total}: {by_class['read'] / max(total, 1):.1%} / {by_class['write'] / max(total, 1):.1%} / "
               f"{by_class['search'] / max(total, 1):.1%}")
    statuses = collections.Counter()
    for (_, st), n in counts.items():
        statuses[st] += n
    REPORT.add(phase, "responses by status", ", ".join(f"{k}: {v}" for k, v in
                                                       sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    for c in ("read", "write", "search"):
        v = lat[c]
        REPORT.add(phase, f"{c} latency p50 / p99 / max (ms)",
                   f"{percentile(v, 50) * 1000:.1f} / {percentile(v, 99) * 1000:.1f} / {max(v or [0]) * 1000:.0f}")
    REPORT.add(phase, "latency by request kind: count p50/p99 ms", "; ".join(
        f"{k} {len(v)} {percentile(v, 50) * 1000:.1f}/{percentile(v, 99) * 1000:.0f}"
        for k, v in sorted(by_kind.items())))
    REPORT.add(phase, "writes acknowledged: create / update / delete",
               f"{acked['create']} / {acked['update']} / {acked['delete']}")
    REPORT.add(phase, "writes without a definite answer (5xx, no answer): create / update / delete",
               f"{ambiguous['create']} / {ambiguous['update']} / {ambiguous['delete']}")
    REPORT.add(phase, "times a client fell > 1 s behind its pace", late)

    def in_window(t0, t1):
        return any(t0 <= w1 and t1 >= w0 for w0, w1 in windows)

    outside_5xx = [b for b in bad if b[5] is not None and not in_window(b[0], b[1])]
    outside_err = [b for b in bad if b[5] is None and not in_window(b[0], b[1])]
    inside = [b for b in bad if in_window(b[0], b[1])]
    inside_503 = sum(1 for b in inside if b[5] == 503)
    inside_other = [b for b in inside if b[5] is not None and b[5] != 503]
    inside_err = [b for b in inside if b[5] is None]
    REPORT.add(phase, "5xx outside restart windows", len(outside_5xx), "0", not outside_5xx)
    REPORT.add(phase, "connection errors / timeouts outside restart windows", len(outside_err), "0", not outside_err)
    for b in (outside_5xx + outside_err)[:10]:
        log(f"[{phase}]   e.g. at +{b[0] - start:.1f} s, {(b[1] - b[0]) * 1000:.0f} ms: {b[3]} {b[4]} -> "
            f"{b[5]} {b[6] or ''}")
    if windows:
        REPORT.add(phase, "503 inside restart windows", inside_503)
        REPORT.add(phase, "other 5xx inside restart windows", len(inside_other), "0", not inside_other)
        REPORT.add(phase, "connection errors / timeouts inside restart windows", len(inside_err), "0", not inside_err)
        for b in (inside_other + inside_err)[:10]:
            log(f"[{phase}]   e.g. at +{b[0] - start:.1f} s: {b[3]} {b[4]} -> {b[5]} {b[6] or ''}")
        REPORT.add(phase, "restart windows (s from start)",
                   ", ".join(f"{w0 - start:.1f}-{w1 - start:.1f}" for w0, w1 in windows))
    REPORT.add(phase, "unexpected statuses (4xx other than 404 on reads by id)", len(unexpected), "0", not unexpected)
    for u in unexpected[:10]:
        log(f"[{phase}]   e.g. {u[1]} {u[2]} -> {u[3]}: {u[4][:200]!r}")
    REPORT.add(phase, "write answers whose tags differ from the request", len(mismatch), "0", not mismatch)
    # Throughput over the soak proper, from the clients' completions per second.
    secs = collections.Counter()
    for r in results:
        secs.update(r["per_sec"])
    first, last = int(start - t_zero) + 1, int(end - t_zero) - 1
    per = [secs.get(s, 0) for s in range(first, last)]
    if per:
        mean = sum(per) / len(per)
        REPORT.add(phase, "achieved req/s over the soak: mean / slowest second / fastest second",
                   f"{mean:.0f} / {min(per)} / {max(per)}" + (
                       f" (only {mean / rate:.0%} of the target: the service, or the machine, could "
                       f"not sustain the pace)" if mean < 0.9 * rate else ""), f"target {rate:.0f}")
        stalls = [i for i, n in enumerate(per) if n < 0.1 * rate
                  and not any(w0 - 1 <= start + i + 1 <= w1 + 1 for w0, w1 in windows)]
        REPORT.add(phase, "seconds outside restart windows with under 10% of the target completed",
                   f"{len(stalls)}" + (f" (at +{', +'.join(str(i + 1) for i in stalls[:10])} s)" if stalls else ""))
    flat(phase, sampler, servers, windows, start, end)


def flat(phase, sampler, servers, windows, start, end):
    half = start + (end - start) / 2
    for s in servers:
        # Up to the end of the paced load: afterwards the clients close their connections.
        alls = [x for x in sampler.samples[s.name] if x[0] <= end]
        samples = [x for x in alls if x[0] >= half and not any(w0 <= x[0] <= w1 for w0, w1 in windows)]
        if len(samples) < 2:
            REPORT.add(phase, f"{s.name}: samples in the last half", len(samples), ">= 2", False)
            continue
        for label, idx, scale, unit in (("RSS", 1, 1 / 1024, " MB"), ("open fds", 2, 1, "")):
            v = [x[idx] for x in samples]
            lo, hi = min(v), max(v)
            spread = (hi - lo) / lo if lo else float("inf")
            REPORT.add(phase, f"{s.name} {label} over the last half: first / last / min / max",
                       f"{v[0] * scale:.1f} / {v[-1] * scale:.1f} / {lo * scale:.1f} / {hi * scale:.1f}{unit} "
                       f"(spread {spread:.1%}, {len(v)} samples; whole run {alls[0][idx] * scale:.1f} -> "
                       f"{alls[-1][idx] * scale:.1f}, peak {max(x[idx] for x in alls) * scale:.1f})",
                       f"max <= {1 + FLAT:.2f} x min", spread <= FLAT)


def verify_writes(phase, db, servers, results):
    actual = snapshot(db)
    state, pending = {}, []
    for r in results:
        state.update(r["state"])
        pending.extend(r["pending"])
    lost, wrong_ambiguous, settled_ambiguous = [], [], 0
    for iid, cands in state.items():
        got = actual.get(iid)
        if not any(matches(c, got) for c in cands):
            (lost if len(cands) == 1 else wrong_ambiguous).append((iid, cands, got))
        elif len(cands) > 1:
            settled_ambiguous += 1
    REPORT.add(phase, "insights written and tracked (live / deleted at the end)",
               f"{len(state)} ({sum(1 for c in state.values() if c == [None])} deleted)")
    REPORT.add(phase, "lost acknowledged writes (database)", len(lost), "0", not lost)
    for iid, cands, got in lost[:10]:
        log(f"[{phase}]   insight {iid}: expected {cands}, found {got}")
    REPORT.add(phase, "unanswered writes whose insight is in neither state", len(wrong_ambiguous), "0",
               not wrong_ambiguous)
    titles = collections.Counter(row["title"] for row in actual.values())
    applied = sum(1 for t, _ in pending if titles[t] == 1)
    dup = [t for t, _ in pending if titles[t] > 1]
    if pending:
        REPORT.add(phase, "creates without a definite answer that were applied", f"{applied} of {len(pending)}")
    REPORT.add(phase, "duplicated creates", len(dup), "0", not dup)
    # The same through the API of every instance, for a sample.
    rng = random.Random(1)
    sample = rng.sample(sorted(state), min(400, len(state)))
    api_bad = 0
    for s in servers:
        for iid in sample:
            status, body = call(s.port, "GET", f"/insights/{iid}")
            got = None
            if status == 200:
                got = {"title": body["title"], "priority": body["priority"], "status": body["status"],
                       "category_id": body["category_id"] or 0,
                       "tags": frozenset(t["id"] for t in body["tags"])}
            elif status != 404:
                got = f"status {status}"
            if isinstance(got, str) or not any(matches(c, got) for c in state[iid]):
                api_bad += 1
                if api_bad <= 5:
                    log(f"[{phase}]   {s.name}: GET /insights/{iid} gave {got}, expected {state[iid]}")
    REPORT.add(phase, f"API answers != expected state ({len(sample)} insights x {len(servers)} instances)",
               api_bad, "0", api_bad == 0)


# ---------------------------------------------------------------------------
# the kill -9 loop

def kill_writer(port, facts, run_tag, rnd, idx, acked, inflight, lock, problems):
    rng = random.Random(f"{run_tag}-{rnd}-{idx}")
    try:
        conn = connect(port)
    except OSError:
        return
    seq = 0
    while True:
        seq += 1
        title = f"kill {run_tag} r{rnd} w{idx} n{seq}"
        tags = sorted(rng.sample(facts.tag_ids, rng.randint(1, min(4, len(facts.tag_ids)))))
        body = json.dumps({"title": title, "description": "Written while the server may be killed.",
                           "content": "## Context\n\n" + " ".join(rng.choice(FILLER) for _ in range(40)),
                           "author": "kill-loop", "priority": rng.choice(PRIORITIES),
                           "status": rng.choice(STATUSES), "category_id": rng.choice(facts.category_ids),
                           "tag_ids": tags}).encode()
        with lock:
            inflight[title] = tags
        try:
            conn.request("POST", "/insights", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException):
            return  # the server is gone: this write stays in flight
        with lock:
            del inflight[title]
        if r.status != 201:
            with lock:
                problems.append(f"POST /insights -> {r.status}: {raw[:200]!r}")
            return
        d = json.loads(raw)
        with lock:
            acked[d["id"]] = (title, frozenset(tags))
            if sorted(t["id"] for t in d["tags"]) != tags:
                problems.append(f"insight {d['id']}: answer's tags {d['tags']} != {tags}")


def kill_loop(phase, db):
    seed_s = seed(db, 2000)
    server = Server(phase, db.url)
    server.start()
    facts = Facts(server.port, db)
    REPORT.add(phase, "seeded insights (s)", f"{len(facts.seed_ids)} ({seed_s:.1f} s)")
    run_tag = f"k{int(time.time()) % 100000}"
    acked, inflight_all, problems = {}, {}, []
    lock = threading.Lock()
    killed_inflight, restart_times, integrity_bad, lost_rounds, counter_rounds = 0, [], 0, 0, 0
    lost_total, dup_total, applied_total = 0, 0, 0
    rng = random.Random(run_tag)
    for rnd in range(1, KILL_ROUNDS + 1):
        inflight = {}
        before = len(acked)
        threads = [threading.Thread(target=kill_writer,
                                    args=(server.port, facts, run_tag, rnd, i, acked, inflight, lock, problems))
                   for i in range(KILL_WRITERS)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        while len(acked) - before < KILL_WRITERS and time.monotonic() - t0 < 20:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.1, 0.8))
        with lock:
            in_flight_now = len(inflight)
        server.kill9()
        killed_inflight += in_flight_now
        for t in threads:
            t.join(timeout=60)
        inflight_all.update(inflight)
        restart_times.append(server.start())
        ok = check_integrity(phase, db, words=["vacuum", "quorum"] if db.kind == "postgresql" else ())
        integrity_bad += not ok
        actual = snapshot(db)
        lost = [(i, v, actual.get(i)) for i, v in acked.items()
                if i not in actual or (actual[i]["title"], actual[i]["tags"]) != v]
        if lost:
            lost_rounds += 1
            lost_total = len(lost)
            log(f"[{phase}] round {rnd}: {len(lost)} acknowledged creates lost, e.g. {lost[:3]}")
        titles = collections.Counter(row["title"] for row in actual.values())
        applied = sum(1 for t in inflight if titles[t] == 1)
        dups = sum(1 for t in inflight if titles[t] > 1)
        applied_total += applied
        dup_total += dups
        probs = check_counters(phase, db, [server], quiet=True)
        counter_rounds += bool(probs)
        log(f"[{phase}] round {rnd}/{KILL_ROUNDS}: {len(acked) - before} acknowledged, {in_flight_now} in flight "
            f"at the kill ({applied} applied), restart {restart_times[-1]:.2f} s, integrity "
            f"{'ok' if ok else 'FAILED'}, counters {'exact' if not probs else 'WRONG'}")
    REPORT.add(phase, "rounds (SIGKILL under concurrent writers)", f"{KILL_ROUNDS} x {KILL_WRITERS} writers")
    REPORT.add(phase, "acknowledged creates in all rounds", len(acked))
    REPORT.add(phase, "writes in flight at the kills (of them applied)", f"{killed_inflight} ({applied_total})",
               "> 0: killed mid-write", killed_inflight > 0)
    REPORT.add(phase, "lost acknowledged creates (fields and tags)", lost_total, "0", lost_rounds == 0)
    REPORT.add(phase, "duplicated in-flight creates", dup_total, "0", dup_total == 0)
    REPORT.add(phase, "rounds whose integrity check failed", integrity_bad, "0", integrity_bad == 0)
    REPORT.add(phase, "rounds with a counter wrong (DB, API, /statistics or recount-tags)", counter_rounds, "0",
               counter_rounds == 0)
    REPORT.add(phase, "restart to healthy: median / max (s)",
               f"{sorted(restart_times)[len(restart_times) // 2]:.2f} / {max(restart_times):.2f}")
    REPORT.add(phase, "writer errors other than the kill", len(problems), "0", not problems)
    for p in problems[:10]:
        log(f"[{phase}]   {p}")
    check_counters(phase, db, [server])
    rc = server.stop()
    REPORT.add(phase, "exit status on SIGTERM", rc, "0", rc == 0)


# ---------------------------------------------------------------------------
# the phases

def phase_sqlite():
    phase = "sqlite"
    db = SqliteDB(os.path.join(OUT, "soak.db"))
    db.remove()
    secs = seed(db, N_SEED)
    log(f"[{phase}] seeded {N_SEED} insights in {secs:.1f} s")
    server = Server(phase, db.url)
    server.start()
    try:
        load_phase(phase, db, [server])
    finally:
        rc = server.stop()
    REPORT.add(phase, "exit status on SIGTERM", rc, "0", rc == 0)


def phase_kill_sqlite():
    db = SqliteDB(os.path.join(OUT, "kill.db"))
    db.remove()
    kill_loop("kill-sqlite", db)


class PgCluster:
    def __init__(self):
        self.dir = None
        self.admin = None

    def ensure(self):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="insights-soak-pg.")
            proc = subprocess.run([PG_CLUSTER, "start", self.dir], capture_output=True, text=True,
                                  env=dict(os.environ, PG_BIN=PG_BIN))
            if proc.returncode != 0:
                raise RuntimeError(f"pg-cluster.sh start failed: {proc.stderr}")
            self.admin = proc.stdout.strip()
            log(f"PostgreSQL 15 at {self.admin}")
        return self

    def database(self, name):
        PgDB(self.admin).psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        PgDB(self.admin).psql(f'CREATE DATABASE "{name}"')
        return PgDB(self.admin.rsplit("/", 1)[0] + "/" + name)

    def stop(self):
        if self.dir:
            subprocess.run([PG_CLUSTER, "stop", self.dir], env=dict(os.environ, PG_BIN=PG_BIN))
            self.dir = None


CLUSTER = PgCluster()


def phase_pg():
    phase = "pg"
    db = CLUSTER.ensure().database("soak")
    secs = seed(db, N_SEED)
    log(f"[{phase}] seeded {N_SEED} insights in {secs:.1f} s")
    servers = [Server("pg-a", db.url), Server("pg-b", db.url)]
    for s in servers:
        s.start()
    try:
        load_phase(phase, db, servers, pg_dir=CLUSTER.dir)
    finally:
        rcs = [s.stop() for s in servers]
    for s, rc in zip(servers, rcs):
        REPORT.add(phase, f"{s.name} exit status on SIGTERM", rc, "0", rc == 0)


def phase_kill_pg():
    db = CLUSTER.ensure().database("soak_kill")
    kill_loop("kill-pg", db)


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"soak: no executable {BIN} (make all)")
    unknown = [p for p in PHASES if p not in ("sqlite", "kill-sqlite", "pg", "kill-pg")]
    if unknown:
        sys.exit(f"soak: unknown phases {unknown}")
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".log"):
            os.remove(os.path.join(OUT, name))
    log(f"soak: phases {', '.join(PHASES)}; {MINUTES:g} min per load phase at {LOAD:.0%} of the maximum; "
        f"{N_SEED} insights; {CONNECTIONS} connections in {PROCS} processes; logs in {OUT}")
    t0 = time.monotonic()
    crashed = None
    try:
        for p in PHASES:
            log(f"==== phase {p}")
            {"sqlite": phase_sqlite, "kill-sqlite": phase_kill_sqlite, "pg": phase_pg,
             "kill-pg": phase_kill_pg}[p]()
    except Exception as exc:  # report what was measured, then fail
        crashed = f"{type(exc).__name__}: {exc}"
        import traceback
        traceback.print_exc()
    finally:
        CLUSTER.stop()
    print(f"\n## Soak summary ({time.strftime('%Y-%m-%d %H:%M')}, {(time.monotonic() - t0) / 60:.1f} min)\n")
    print(REPORT.table())
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M:%S"), "minutes": MINUTES, "phases": PHASES,
                   "rows": REPORT.rows, "failures": REPORT.failures, "crashed": crashed}, f, indent=1)
    if crashed:
        print(f"\nsoak: FAILED: the run stopped: {crashed}")
        sys.exit(1)
    if REPORT.failures:
        print(f"\nsoak: FAILED ({len(REPORT.failures)}):")
        for f in REPORT.failures:
            print(f"  - {f}")
        sys.exit(1)
    print("\nsoak: passed")


if __name__ == "__main__":
    main()
