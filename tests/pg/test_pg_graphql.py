"""GraphQL on PostgreSQL: what depends on the database's own settings."""
import requests

from conftest import ADMIN_URL, psql, uid


def gql(srv, query):
    r = requests.post(srv.url + "/v1/graphql", json={"query": query}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_ilike_folds_unicode_in_a_utf8_database_and_says_so_in_a_c_one(servers, database):
    """_ilike folds case with the database's LC_CTYPE: all of Unicode in the
    test cluster's C.UTF-8 databases; ASCII only in a database created with
    LC_CTYPE C, which the service names at start-up."""
    srv = servers.start(database.url)
    requests.post(srv.url + "/insights", json={"title": "École d'été", "description": "d",
                                               "author": "a"}, timeout=30)
    got = gql(srv, '{ insights(where: {title: {_ilike: "%ÉTÉ"}}) { title } }')
    assert got == {"data": {"insights": [{"title": "École d'été"}]}}
    assert "folds case for ASCII only" not in srv.log()

    name = f"pg_c_{uid()}"
    psql(ADMIN_URL, f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                    f"LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        c_srv = servers.start(url)
        assert "folds case for ASCII only" in c_srv.log() and "LC_CTYPE (C)" in c_srv.log()
        requests.post(c_srv.url + "/insights", json={"title": "École d'été", "description": "d",
                                                     "author": "a"}, timeout=30)
        got = gql(c_srv, '{ insights(where: {title: {_ilike: "%ÉTÉ"}}) { title } }')
        assert got == {"data": {"insights": []}}
        c_srv.stop()
    finally:
        psql(ADMIN_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
