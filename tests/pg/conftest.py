"""Machinery of the PostgreSQL-only black-box tests of insights.

These tests need a throwaway cluster made by scripts/pg-cluster.sh, because
they stop and start it, pause it, and stream a replica from it:

  TEST_PG_URL          its admin URL (superuser, database postgres)
  TEST_PG_CLUSTER_DIR  the directory given to `pg-cluster.sh start`
  INSIGHTS_BIN         the binary under test (default build/insights)

`make test-postgresql` sets all three. Nothing is imported from tests/api:
the few helpers needed are here.
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("INSIGHTS_BIN") or os.path.join(REPO, "build", "insights")
ADMIN_URL = os.environ.get("TEST_PG_URL", "")
CLUSTER_DIR = os.environ.get("TEST_PG_CLUSTER_DIR", "")
PSQL = "/usr/lib/postgresql/15/bin/psql"
CLUSTER = os.path.join(REPO, "scripts", "pg-cluster.sh")

START_TIMEOUT = 20  # seconds until GET /health answers 200 (sanitizer builds are slow)
STOP_TIMEOUT = 20
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

if not ADMIN_URL or not CLUSTER_DIR:
    raise pytest.UsageError("tests/pg need TEST_PG_URL and TEST_PG_CLUSTER_DIR "
                            "(run them with `make test-postgresql`)")
if not os.access(BIN, os.X_OK):
    raise pytest.UsageError(f"no executable at {BIN}: build it or set INSIGHTS_BIN")


def uid():
    return uuid.uuid4().hex[:10]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql, env=None, check=True):
    """Runs SQL with psql; returns its unaligned output lines split on '|'."""
    proc = subprocess.run([PSQL, url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))
    if check and proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}) on {sql!r}: {proc.stderr}")
    if not check:
        return proc
    return [tuple(line.split("|")) for line in proc.stdout.splitlines() if line]


def with_database(url, name):
    """`url` naming database `name` instead."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def sanitizer_reports(text):
    return [m for m in SANITIZER_MARKERS if m in text]


class Database:
    """A fresh database on the cluster (or on `admin`), dropped by close()."""

    def __init__(self, admin=ADMIN_URL, owner=None):
        self.admin = admin
        self.name = f"pg_{uid()}"
        psql(admin, f'CREATE DATABASE "{self.name}"' + (f' OWNER "{owner}"' if owner else ""))
        self.url = with_database(admin, self.name)

    def query(self, sql):
        return psql(self.url, sql)

    def close(self):
        psql(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Cluster:
    """The throwaway cluster of scripts/pg-cluster.sh."""

    def __init__(self, directory):
        self.dir = directory

    def run(self, *args):
        proc = subprocess.run([CLUSTER, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"pg-cluster.sh {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def down(self, node="primary"):
        self.run("down", self.dir, node)

    def up(self, node="primary"):
        self.run("up", self.dir, node)

    def replica(self):
        """Makes (once) a streaming replica of the primary; returns its admin URL."""
        if os.path.exists(os.path.join(self.dir, "replica", "port")):
            port = open(os.path.join(self.dir, "replica", "port")).read().strip()
            return f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.run("replica", self.dir)

    def port(self, node="primary"):
        with open(os.path.join(self.dir, node, "port")) as f:
            return int(f.read().strip())

    def pids(self, node="primary"):
        """The postmaster of `node` and every process it started."""
        with open(os.path.join(self.dir, node, "data", "postmaster.pid")) as f:
            master = int(f.readline())
        pids = [master]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry))
        return pids


class Server:
    """One `insights serve` process; its stdout and stderr go to a file."""

    def __init__(self, database_url, log_path, args=(), env=None):
        self.database_url = database_url
        self.log_path = str(log_path)
        self.args = list(args)
        self.env = env
        self.proc = None
        self.port = None
        self.returncode = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def launch(self):
        """Starts the process without waiting for it."""
        self.port = free_port()
        cmd = [BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--database", self.database_url, "--log-format", "text", *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=dict(os.environ, **(self.env or {})))
        return self

    def wait_healthy(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        why = "timeout"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                why = f"exited with {self.proc.returncode}"
                break
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException as exc:
                why = str(exc)
            time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy ({why}); log:\n{self.log()[-6000:]}")

    def stop(self):
        """Signals, waits; returns the exit status (also on later calls)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                self.returncode = "hung after SIGTERM"
                return self.returncode
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def stop_and_check(self):
        rc = self.stop()
        assert rc == 0, f"server exit status {rc!r}; log:\n{self.log()[-6000:]}"
        found = sanitizer_reports(self.log())
        assert not found, f"sanitizer report ({found}) in server log:\n{self.log()[-30000:]}"


class Servers:
    """Starts servers for one test and stops (and checks) them all at the end."""

    def __init__(self, directory):
        self.directory = directory
        self.all = []

    def new(self, database_url, *args, env=None):
        log = os.path.join(str(self.directory), f"server-{len(self.all)}.log")
        srv = Server(database_url, log, args, env)
        self.all.append(srv)
        return srv

    def start(self, database_url, *args, env=None):
        return self.new(database_url, *args, env=env).launch().wait_healthy()

    def close(self):
        failures = []
        for srv in self.all:
            try:
                srv.stop_and_check()
            except AssertionError as exc:
                failures.append(str(exc))
        assert not failures, "\n\n".join(failures)


@pytest.fixture
def servers(tmp_path):
    s = Servers(tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def database():
    db = Database()
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(scope="session")
def cluster():
    return Cluster(CLUSTER_DIR)


def run_cli(*args, env=None, timeout=60):
    """Runs the binary once (a command such as migrate); checks for sanitizer reports."""
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
    found = sanitizer_reports(proc.stderr)
    assert not found, f"sanitizer report ({found}) from {args}:\n{proc.stderr}"
    return proc


@contextlib.contextmanager
def timed(limit):
    """Asserts that the block takes less than `limit` seconds."""
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    assert took < limit, f"took {took:.2f} s (limit {limit} s)"
