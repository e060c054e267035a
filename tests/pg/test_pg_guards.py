"""Guards of PostgreSQL-only promises (see tests/api/test_guards.py for the
others): each test was checked against a deliberate bug planted in the C
code, named in its docstring.

"While it cannot listen (for other instances' writes), nothing is cached"
(docs/ARCHITECTURE.md): two instances on one database, the reader kept from
LISTENing with the test build's fault point pg.listen (src/lib/fault.h).
"""
import os
import re
import time

import pytest
import requests

from conftest import BIN, psql, uid

HTTP_TIMEOUT = 30


def _has_faults():
    with open(BIN, "rb") as f:
        return b"INSIGHTS_FAULTS_FILE" in f.read()


pytestmark = pytest.mark.skipif(not _has_faults(),
                                reason="the binary was built without FAULTS=1 (lib/fault.h)")


class Faults:
    """A server's fault file; arm() replaces its whole content atomically."""

    def __init__(self, directory, *points):
        self.path = os.path.join(str(directory), f"faults-{uid()}")
        self.arm(*points)

    @property
    def env(self):
        return {"INSIGHTS_FAULTS_FILE": self.path}

    def arm(self, *points):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(p + "\n" for p in points))
        os.replace(tmp, self.path)


def get(srv, path):
    resp = requests.get(srv.url + path, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:500])
    return resp.json()


def total(srv):
    return get(srv, "/statistics")["total_insights"]


def create(srv):
    resp = requests.post(srv.url + "/insights", json={
        "title": f"guard {uid()}", "description": "d", "author": "guard"}, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 201, resp.text[:500]
    return resp.json()


def cache_hits(srv):
    text = requests.get(srv.url + "/metrics", timeout=HTTP_TIMEOUT).text
    return float(re.search(r"^insights_cache_hits_total (\S+)$", text, re.M).group(1))


def served_from_cache(srv):
    """Reads the statistics once; true when the answer came from the cache."""
    before = cache_hits(srv)
    total(srv)
    return cache_hits(srv) > before


def wait_until(what, predicate, limit):
    """Polls `predicate` until it holds; returns the seconds it took, or fails."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < limit, f"{what}: not within {limit} s"
        time.sleep(0.02)
    return time.monotonic() - start


def assert_sees_every_write_at_once(writer, reader, rounds=3):
    """The reader reads twice (the second read would come from its cache), the
    writer writes, and the reader's very next read counts the write."""
    for _ in range(rounds):
        seen = total(reader)
        assert total(reader) == seen
        create(writer)
        assert total(reader) == seen + 1, \
            "an instance that cannot hear other instances' writes served a stale answer"


def test_no_caching_while_the_instance_cannot_listen(servers, database, tmp_path):
    """Mutation: core/service.c's service_init marks the data version complete
    (cacheable) whatever the store, so an instance that never managed to
    LISTEN caches answers that other instances' writes make stale."""
    writer = servers.start(database.url)
    deaf = Faults(tmp_path, "pg.listen")
    reader = servers.start(database.url, env=deaf.env)
    assert_sees_every_write_at_once(writer, reader)
    assert cache_hits(reader) == 0, "an instance that cannot listen answered from its cache"
    # The writer itself listens and caches (an answer asked for twice).
    total(writer)
    total(writer)
    assert served_from_cache(writer)


def listener_pids(database):
    # A listening connection's last statement: LISTEN, then the read of the
    # data version it starts from (store/pg/listen.c).
    return [int(r[0]) for r in psql(database.url,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND (query ILIKE 'LISTEN%' OR query LIKE 'SELECT CASE WHEN is_called%')")]


def test_no_caching_once_the_listening_connection_is_lost(servers, database, tmp_path):
    """Mutation: core/service.c's remote_change ignores the store's report that
    it stopped listening (heard == false), so the instance keeps caching after
    its LISTEN connection died. The connection is killed and kept from coming
    back with pg.listen; once it is allowed back, caching resumes."""
    writer = servers.start(database.url)
    faults = Faults(tmp_path)
    reader = servers.start(database.url, env=faults.env)
    # Listening: a repeated read comes from the cache.
    total(reader)
    wait_until("the reader caching", lambda: served_from_cache(reader), 10)

    faults.arm("pg.listen")
    pids = listener_pids(database)
    assert len(pids) == 2, f"expected the two instances' LISTEN connections, found {pids}"
    for pid in pids:
        psql(database.url, f"SELECT pg_terminate_backend({pid})")
    wait_until("the reader noticing", lambda: "lost the connection that listens" in reader.log(), 10)
    assert_sees_every_write_at_once(writer, reader)
    assert not served_from_cache(reader) and not served_from_cache(reader), \
        "answered from the cache while not listening"

    # Allowed to listen again: it reconnects (within a second) and caches again.
    faults.arm()
    wait_until("the reader caching again",
               lambda: served_from_cache(reader), 10)
    # And hears the writer: its next write shows within the notification's delay.
    seen = total(reader)
    create(writer)
    took = wait_until("the write seen by the reader", lambda: total(reader) == seen + 1, 2)
    assert took < 1.9  # before the cached answer could have expired (2 s): notified


def test_an_instance_that_listens_sees_other_instances_writes(servers, database):
    """Positive control of the tests above: without the fault, the reader
    caches, and another instance's write still reaches it within 2 s."""
    writer = servers.start(database.url)
    reader = servers.start(database.url)
    total(reader)
    wait_until("the reader caching", lambda: served_from_cache(reader), 10)
    for _ in range(2):
        seen = total(reader)
        create(writer)
        wait_until("the write seen by the reader", lambda: total(reader) == seen + 1, 2)
