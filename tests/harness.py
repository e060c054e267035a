"""The process machinery every black-box suite shares (tests/api, tests/pg,
tests/docs): the binary under test, `insights serve` processes, one-shot
commands, psql, and the scan of their output for sanitizer reports.

  INSIGHTS_BIN  the binary under test (default build/insights)
  PG_BIN        the PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin,
                the directory scripts/pg-cluster.sh uses too)

Each suite's conftest.py keeps its fixtures and puts tests/ on sys.path to
import this module.
"""
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("INSIGHTS_BIN") or os.path.join(REPO, "build", "insights")
# Debian's psql on PATH is a wrapper that picks a version itself: name the binary.
PG_BIN = os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin"
PSQL = os.path.join(PG_BIN, "psql")

START_TIMEOUT = 20  # seconds until GET /health answers 200 (sanitizer builds are slow)
START_ATTEMPTS = 3  # launches when the server loses the race for its port
STOP_TIMEOUT = 20  # seconds until the process has exited after SIGTERM
CLI_TIMEOUT = 60  # seconds for a one-shot command (migrate, recount-tags, psql)
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def require_binary():
    """Stops the run, before any test, when there is no binary to test."""
    if not os.access(BIN, os.X_OK):
        raise pytest.UsageError(f"no executable at {BIN}: build it (make) or set INSIGHTS_BIN")


def uid():
    """A short unique suffix for names that must not collide across tests."""
    return uuid.uuid4().hex[:12]


def free_port():
    """A TCP port free now; another process may take it before it is bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sanitizer_reports(text):
    """The sanitizer markers (ASan, LSan, UBSan) found in a process's output."""
    return [m for m in SANITIZER_MARKERS if m in text]


def run_cli(*args, env=None, timeout=CLI_TIMEOUT):
    """Runs the binary once; returns the CompletedProcess (text) after checking
    that stderr holds no sanitizer report."""
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
    found = sanitizer_reports(proc.stderr)
    assert not found, f"sanitizer report ({', '.join(found)}) from {args}:\n{proc.stderr}"
    return proc


# ---------------------------------------------------------------------------
# PostgreSQL

def psql(url, sql, env=None, check=True):
    """Runs SQL with psql. Returns the unaligned output lines split on '|'; with
    check=False, the CompletedProcess, whatever its status."""
    proc = subprocess.run([PSQL, url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          env=dict(os.environ, **(env or {})))
    if not check:
        return proc
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}) on {sql!r}: {proc.stderr}")
    return [tuple(line.split("|")) for line in proc.stdout.splitlines() if line]


def with_database(url, name):
    """`url` naming database `name` instead."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class PgDatabase:
    """A fresh database created through the admin URL `admin`, dropped by drop()."""

    def __init__(self, admin, prefix, owner=None):
        self.admin = admin
        self.name = f"{prefix}{uid()}"
        psql(admin, f'CREATE DATABASE "{self.name}"' + (f' OWNER "{owner}"' if owner else ""))
        self.url = with_database(admin, self.name)

    def execute(self, sql):
        psql(self.url, sql)

    def query(self, sql):
        return psql(self.url, sql)

    def drop(self):
        psql(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# ---------------------------------------------------------------------------
# Servers

class Server:
    """One `insights serve` process; its stdout and stderr go to a file.

    via_env passes host, port and database in the environment instead of flags."""

    def __init__(self, database_url, log_path, args=(), env=None, via_env=False, binary=None):
        self.database_url = database_url
        self.log_path = str(log_path)
        self.args = list(args)
        self.binary = binary or BIN
        self.env = env
        self.via_env = via_env
        self.proc = None
        self.port = None
        self.returncode = None
        self.command = None
        self.killed = False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=8000):
        text = self.log()
        return text if len(text) <= n else "...\n" + text[-n:]

    def launch(self):
        """Starts the process on a new free port, without waiting for it."""
        self.port = free_port()
        env = dict(os.environ, **(self.env or {}))
        if self.via_env:
            env.update(INSIGHTS_HOST="127.0.0.1", INSIGHTS_PORT=str(self.port),
                       DATABASE_URL=self.database_url)
            cmd = [self.binary, "serve", "--log-format", "text", *self.args]
        else:
            cmd = [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--database", self.database_url, "--log-format", "text", *self.args]
        self.command = cmd
        with open(self.log_path, "ab") as log:
            # Not the command: it may hold a password that tests look for in the log.
            log.write(f"=== harness: serve on port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=env)
        self.returncode = None
        return self

    def wait_healthy(self, timeout=START_TIMEOUT):
        """Waits for GET /health to answer 200; launches again on a new port when
        the process exited with status 1 (maybe a lost race for the port).
        Stops the process and raises RuntimeError, with the log, on failure."""
        for attempt in range(START_ATTEMPTS):
            why = self._poll_health(timeout)
            if why is None:
                return self
            if self.proc.poll() != 1 or attempt == START_ATTEMPTS - 1:
                break
            self.launch()
        self.stop()
        raise RuntimeError(f"server did not become healthy ({why}); command: {self.command}; "
                           f"log:\n{self.log_tail()}")

    def _poll_health(self, timeout):
        deadline = time.monotonic() + timeout
        why = "timeout"
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                return f"exited with {rc} while starting"
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return None
                why = f"GET /health answered {r.status_code}"
            except requests.RequestException as exc:
                why = f"GET /health failed: {exc}"
            time.sleep(0.05)
        return why

    def start(self):
        return self.launch().wait_healthy()

    def stop(self, sig=signal.SIGTERM):
        """Signals, waits; returns the exit status (also on later calls), or a
        text when the process had to be killed after STOP_TIMEOUT."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                self.returncode = f"did not exit within {STOP_TIMEOUT} s of {signal.Signals(sig).name}"
                return self.returncode
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def kill(self):
        """SIGKILL: no shutdown at all. The exit status is then not checked."""
        self.killed = True
        return self.stop(signal.SIGKILL)

    def check_log(self):
        found = sanitizer_reports(self.log())
        assert not found, f"sanitizer report ({', '.join(found)}) in server log:\n{self.log_tail(30000)}"

    def stop_and_check(self, sig=signal.SIGTERM):
        """Stops the server and asserts a clean exit: status 0, no sanitizer report."""
        rc = self.stop(sig)
        if not self.killed:
            assert rc == 0, f"server exit status {rc!r}; log:\n{self.log_tail()}"
        self.check_log()


class ServerGroup:
    """The servers of one test (or module), stopped and checked together by close()."""

    def __init__(self, directory):
        self.directory = directory
        self.servers = []

    def log_path(self):
        return os.path.join(str(self.directory), f"server-{len(self.servers)}-{uid()}.log")

    def add(self, srv):
        self.servers.append(srv)
        return srv

    def close(self):
        """Stops every server; raises one AssertionError listing every unclean exit."""
        failures = []
        for srv in self.servers:
            try:
                srv.stop_and_check()
            except AssertionError as exc:
                failures.append(str(exc))
        assert not failures, "\n\n".join(failures)
