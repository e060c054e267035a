"""--read-database: a streaming replica (pg_basebackup -R) serves the reads,
the primary takes the writes and the read-back that answers them.

The proof: with replay paused on the replica, a write answers with its row
(read back on the primary), while reads do not see it until replay resumes."""
import time

import pytest
import requests

from conftest import psql, uid, with_database


def wait_for(what, check, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def replica(cluster):
    url = cluster.replica()
    yield url


def test_reads_come_from_the_replica_and_writes_go_to_the_primary(servers, database, replica):
    replica_db = with_database(replica, database.name)
    wait_for("the database on the replica",
             lambda: psql(replica, f"SELECT 1 FROM pg_database WHERE datname = '{database.name}'"))
    srv = servers.start(database.url, "--read-database", replica_db)
    base = srv.url
    wait_for("the schema on the replica",
             lambda: psql(replica_db, "SELECT count(*) FROM pg_tables WHERE tablename = 'insights'")
             == [("1",)])

    old = requests.post(base + "/insights", json={"title": "before", "description": "d", "author": "a"})
    assert old.status_code == 201
    old = old.json()
    wait_for("the first insight on the replica", lambda: requests.get(f"{base}/insights/{old['id']}").status_code == 200)
    total = requests.get(base + "/insights").json()["total"]

    psql(replica, "SELECT pg_wal_replay_pause()")
    try:
        wait_for("replay to pause",
                 lambda: psql(replica, "SELECT pg_get_wal_replay_pause_state()") == [("paused",)])
        # Writes succeed (a replica would refuse them) and answer with the row.
        title = f"written while paused {uid()}"
        new = requests.post(base + "/insights", json={"title": title, "description": "d", "author": "a"})
        assert new.status_code == 201 and new.json()["title"] == title
        new = new.json()
        changed = requests.put(f"{base}/insights/{old['id']}", json={"title": "after"})
        assert changed.status_code == 200 and changed.json()["title"] == "after"
        tag = requests.post(base + "/tags", json={"name": f"p-{uid()}", "slug": f"p-{uid()}"})
        assert tag.status_code == 201 and tag.json()["usage_count"] == 0
        tag = tag.json()
        # They are on the primary ...
        assert database.query(f"SELECT title FROM insights WHERE id = {new['id']}") == [(title,)]
        # ... and every read still shows the replica's past.
        assert requests.get(f"{base}/insights/{new['id']}").status_code == 404
        assert requests.get(f"{base}/insights/{old['id']}").json()["title"] == "before"
        assert requests.get(f"{base}/tags/{tag['id']}").status_code == 404
        listed = requests.get(base + "/insights").json()
        assert listed["total"] == total and new["id"] not in [i["id"] for i in listed["insights"]]
        assert requests.post(base + "/insights/search", json={"query": title}).json()["total"] == 0
        assert requests.get(base + "/statistics").json()["total_insights"] == total
        assert all(t["id"] != tag["id"] for t in requests.get(base + "/tags").json())
        # /health checks the primary.
        assert requests.get(base + "/health").status_code == 200
    finally:
        psql(replica, "SELECT pg_wal_replay_resume()")

    lsn = database.query("SELECT pg_current_wal_insert_lsn()")[0][0]
    wait_for("the replica to catch up",
             lambda: psql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'") == [("t",)])
    assert requests.get(f"{base}/insights/{new['id']}").json() == new
    assert requests.get(f"{base}/insights/{old['id']}").json()["title"] == "after"
    assert requests.get(f"{base}/tags/{tag['id']}").json() == tag
    assert requests.get(base + "/insights").json()["total"] == total + 1


def test_a_replica_behind_the_schema_answers_503_until_it_catches_up(servers, database, replica):
    replica_db = with_database(replica, database.name)
    wait_for("the database on the replica",
             lambda: psql(replica, f"SELECT 1 FROM pg_database WHERE datname = '{database.name}'"))
    psql(replica, "SELECT pg_wal_replay_pause()")
    try:
        wait_for("replay to pause",
                 lambda: psql(replica, "SELECT pg_get_wal_replay_pause_state()") == [("paused",)])
        srv = servers.start(database.url, "--read-database", replica_db)  # migrates the primary
        for path in ("/insights", "/tags", "/statistics"):
            r = requests.get(srv.url + path)
            assert r.status_code == 503 and r.json() == {"detail": "The database is unavailable"}
        assert requests.post(srv.url + "/tags", json={"name": "w", "slug": "w"}).status_code == 201
    finally:
        psql(replica, "SELECT pg_wal_replay_resume()")
    wait_for("the replica to replay the schema", lambda: requests.get(srv.url + "/tags").status_code == 200)
    wait_for("the replica to replay the tag", lambda: len(requests.get(srv.url + "/tags").json()) == 1)
