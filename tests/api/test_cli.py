"""The command line: --version, --help, usage errors, migrate, recount-tags."""
import re
import signal

import pytest

from conftest import run_cli, uid


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert re.search(r"\d+\.\d+\.\d+", proc.stdout), proc.stdout


def test_version_matches_health(fresh_server):
    version = fresh_server.api.call("GET", "/health")["version"]
    assert version in run_cli("--version").stdout


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["migrate", "--help"],
                                  ["recount-tags", "--help"]])
def test_help(args):
    proc = run_cli(*args)
    assert proc.returncode == 0
    assert "usage" in proc.stdout.lower()


def test_serve_help_lists_options():
    out = run_cli("serve", "--help").stdout
    for option in ("--host", "--port", "--database", "--max-body", "--cors-origins", "--log-format"):
        assert option in out


@pytest.mark.parametrize("args", [["serve", "--bogus"], ["migrate", "--bogus"], ["bogus-command"],
                                  ["serve", "--port", "not-a-port"]])
def test_usage_errors_exit_2(args):
    proc = run_cli(*args, timeout=20)
    assert proc.returncode == 2, proc
    assert "usage" in proc.stderr.lower(), proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("url", ["mysql://x", "mysql://user:pw@localhost/db", "nonsense"])
def test_unsupported_database_url_exits_2(url):
    proc = run_cli("serve", "--database", url, "--port", "0", timeout=20)
    assert proc.returncode == 2
    assert proc.stderr.strip()


def test_migrate_creates_schema_and_is_idempotent(servers):
    db = servers.database()
    for _ in range(2):
        proc = run_cli("migrate", "--database", db.url)
        assert proc.returncode == 0, proc.stderr
    for table in ("insights", "tags", "categories"):
        assert db.query(f"SELECT count(*) FROM {table}") == [("0",)]
    # A server starts on the migrated database and finds it empty.
    assert servers.start(db).api.call("GET", "/statistics")["total_insights"] == 0


def test_migrate_with_database_url_env(servers):
    db = servers.database()
    proc = run_cli("migrate", env={"DATABASE_URL": db.url})
    assert proc.returncode == 0, proc.stderr
    assert db.query("SELECT count(*) FROM tags") == [("0",)]


CONSISTENT = "every tag's usage_count matches its insights\n"


def recount(db):
    proc = run_cli("recount-tags", "--database", db.url)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_recount_tags(servers):
    """recount-tags lists exactly the tags it repairs (id, name, old -> new
    count, in id order) and leaves every count exact."""
    db = servers.database()
    srv = servers.start(db)
    api = srv.api
    t1, t2, t3 = (api.create_tag(name=f"recount {n} {uid()}") for n in ("one", "two", "three"))
    api.create_insight(tag_ids=[t1["id"], t2["id"]])
    api.create_insight(tag_ids=[t1["id"]])
    srv.stop_and_check()

    db.execute(f"UPDATE tags SET usage_count = 42 WHERE id IN ({t1['id']}, {t3['id']})")
    assert recount(db) == (f"tag {t1['id']} ({t1['name']}): usage_count 42 -> 2\n"
                           f"tag {t3['id']} ({t3['name']}): usage_count 42 -> 0\n"
                           "repaired 2 tags\n")
    db.execute(f"UPDATE tags SET usage_count = 0 WHERE id = {t2['id']}")
    assert recount(db) == f"tag {t2['id']} ({t2['name']}): usage_count 0 -> 1\nrepaired 1 tag\n"
    assert recount(db) == CONSISTENT

    api = servers.start(db).api
    assert {t["id"]: t["usage_count"] for t in api.all_tags()} == {t1["id"]: 2, t2["id"]: 1, t3["id"]: 0}


def test_recount_tags_on_empty_database(servers):
    assert recount(servers.database()) == CONSISTENT


def test_serve_sigint_exits_0(servers):
    """SIGINT stops the server like SIGTERM does."""
    srv = servers.start()
    srv.api.create_insight()
    srv.stop_and_check(signal.SIGINT)


def test_port_in_use_fails(servers):
    srv = servers.start()
    proc = run_cli("serve", "--host", "127.0.0.1", "--port", str(srv.port), "--database", srv.db.url,
                   "--log-format", "text", timeout=20)
    assert proc.returncode != 0
    assert proc.stderr.strip()
    assert srv.api.call("GET", "/health")["status"] == "healthy"
