"""The password of a database URL never reaches the log, whether it is right,
wrong, in the userinfo or a query parameter, on the primary or the replica
URL."""
import urllib.parse

import pytest
import requests

from conftest import ADMIN_URL, Database, psql, run_cli, uid


@pytest.fixture(scope="module")
def secret_role(cluster):
    """A role that must give its password (scram) over TCP; the cluster trusts everyone else."""
    role = f"secret_{uid()}"
    password = f"pw:{uid()}@/?#%"  # characters that must be percent-encoded in a URL
    quoted = password.replace("'", "''")
    psql(ADMIN_URL, f"CREATE ROLE {role} LOGIN PASSWORD '{quoted}'")
    hba = psql(ADMIN_URL, "SHOW hba_file")[0][0]
    with open(hba) as f:
        rules = f.read()
    with open(hba, "w") as f:
        f.write(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + rules)
    psql(ADMIN_URL, "SELECT pg_reload_conf()")
    db = Database(owner=role)
    yield role, password, db
    db.close()
    psql(ADMIN_URL, f"DROP ROLE IF EXISTS {role}")


def url_for(role, password, db, cluster, query=False):
    port = cluster.port()
    if query:
        return f"postgresql://{role}@127.0.0.1:{port}/{db.name}?password={urllib.parse.quote(password, safe='')}"
    return f"postgresql://{role}:{urllib.parse.quote(password, safe='')}@127.0.0.1:{port}/{db.name}"


def secrets_of(password):
    """Every spelling of the password that could leak."""
    return {password, urllib.parse.quote(password, safe=""), urllib.parse.quote(password)}


def test_authentication_is_enforced(secret_role, cluster):
    role, password, db = secret_role
    proc = psql(url_for(role, "wrong", db, cluster), "SELECT 1", check=False)
    assert proc.returncode != 0 and "password authentication failed" in proc.stderr


@pytest.mark.parametrize("query", [False, True], ids=["userinfo", "query-parameter"])
def test_password_stays_out_of_the_log(servers, secret_role, cluster, query):
    role, password, db = secret_role
    url = url_for(role, password, db, cluster, query)
    srv = servers.start(url, "--read-database", url, env={"INSIGHTS_LOG_LEVEL": "debug"})
    base = srv.url
    name = f"s-{uid()}"
    assert requests.post(base + "/tags", json={"name": name, "slug": name}).status_code == 201
    assert requests.post(base + "/tags", json={"name": name, "slug": name}).status_code == 409
    assert requests.get(base + "/tags").status_code == 200
    assert requests.get(base + "/health").json()["database_connected"] is True
    srv.stop_and_check()
    log = srv.log()
    assert "***" in log  # the URL is named, redacted
    for secret in secrets_of(password):
        assert secret not in log


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2"])
def test_wrong_password_fails_without_echoing_it(secret_role, cluster, scheme):
    role, _, db = secret_role
    wrong = f"Wrong-{uid()}"
    url = url_for(role, wrong, db, cluster).replace("postgresql://", f"{scheme}://", 1)
    for cmd in (["migrate", "--database", url], ["serve", "--port", "0", "--database", url]):
        proc = run_cli(*cmd, env={"INSIGHTS_LOG_FORMAT": "text"})
        assert proc.returncode == 1, proc.stderr
        assert "password authentication failed" in proc.stderr
        assert wrong not in proc.stderr and wrong not in proc.stdout


def test_password_in_environment_url_stays_out_of_the_log(secret_role, cluster):
    role, password, db = secret_role
    env = {"DATABASE_URL": url_for(role, password, db, cluster), "INSIGHTS_LOG_LEVEL": "debug",
           "INSIGHTS_LOG_FORMAT": "json"}
    proc = run_cli("migrate", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stderr + proc.stdout
    assert all(secret not in out for secret in secrets_of(password))
