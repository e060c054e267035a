"""Machinery of the PostgreSQL-only black-box tests of insights.

These tests need a throwaway cluster made by scripts/pg-cluster.sh, because
they stop and start it, pause it, and stream a replica from it:

  TEST_PG_URL          its admin URL (superuser, database postgres)
  TEST_PG_CLUSTER_DIR  the directory given to `pg-cluster.sh start`
  INSIGHTS_BIN         the binary under test (default build/insights)

`make test-postgresql` sets all three. The processes themselves (launch,
stop, psql, the command runner) are tests/harness.py's, shared with tests/api.
"""
import contextlib
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402  (tests/harness.py)
# Re-exported: the test files import them from here.
from harness import (BIN, PSQL, REPO, Server, free_port, psql, run_cli,  # noqa: E402,F401
                     sanitizer_reports, uid, with_database)

ADMIN_URL = os.environ.get("TEST_PG_URL", "")
CLUSTER_DIR = os.environ.get("TEST_PG_CLUSTER_DIR", "")
CLUSTER = os.path.join(REPO, "scripts", "pg-cluster.sh")

if not ADMIN_URL or not CLUSTER_DIR:
    raise pytest.UsageError("tests/pg need TEST_PG_URL and TEST_PG_CLUSTER_DIR "
                            "(run them with `make test-postgresql`)")
harness.require_binary()


class Database(harness.PgDatabase):
    """A fresh database on the cluster (or on `admin`), dropped by close()."""

    def __init__(self, admin=ADMIN_URL, owner=None):
        super().__init__(admin, "pg_", owner)

    def close(self):
        self.drop()


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


class Servers(harness.ServerGroup):
    """Starts servers for one test and stops (and checks) them all at the end."""

    def new(self, database_url, *args, env=None):
        """A server not yet launched: srv.launch(), then srv.wait_healthy()."""
        return self.add(Server(database_url, self.log_path(), args, env))

    def start(self, database_url, *args, env=None):
        return self.new(database_url, *args, env=env).start()


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


@contextlib.contextmanager
def timed(limit):
    """Asserts that the block takes less than `limit` seconds."""
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    assert took < limit, f"took {took:.2f} s (limit {limit} s)"
