"""Instances that start together on an empty database apply each migration
once: an advisory lock makes the others wait, then find it recorded."""
import os

import requests

from conftest import REPO, run_cli

# The versions the binary carries: the numbers of the migration files (gaps allowed).
VERSIONS = sorted(int(f.split("_", 1)[0])
                  for f in os.listdir(os.path.join(REPO, "src", "store", "pg", "migrations"))
                  if f.endswith(".sql"))


def test_instances_starting_at_once_migrate_once(servers, database):
    group = [servers.new(database.url) for _ in range(3)]
    for srv in group:
        srv.launch()
    for srv in group:
        srv.wait_healthy()
    rows = database.query("SELECT version, name, count(*) OVER () FROM schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == [str(v) for v in VERSIONS]
    assert rows[0][1] == "initial schema" and len(rows) >= 2
    for version, _, _ in rows:
        applied = sum(srv.log().count(f"applied migration {version} ") for srv in group)
        assert applied == 1, [srv.log() for srv in group]
    # Every instance serves the same data.
    tag = requests.post(group[0].url + "/tags", json={"name": "shared", "slug": "shared"}).json()
    for srv in group:
        assert requests.get(f"{srv.url}/tags/{tag['id']}").json() == tag


def test_migrate_command_is_idempotent(database):
    first = run_cli("migrate", "--database", database.url, "--log-format", "text")
    assert first.returncode == 0, first.stderr
    again = run_cli("migrate", "--database", database.url, "--log-format", "text")
    assert again.returncode == 0, again.stderr
    assert "applied migration" in first.stderr and "applied migration" not in again.stderr
    versions = database.query("SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(str(v),) for v in VERSIONS] and len(versions) >= 2
