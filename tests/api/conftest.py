"""Shared machinery of the black-box HTTP tests of insights.

The binary under test is $INSIGHTS_BIN (default: build/insights of this
repository). The database backend is chosen by $TEST_BACKEND:

  sqlite      (default) a fresh file in a temporary directory per server
  postgresql  a fresh database per server, created and dropped through the
              admin URL in $TEST_PG_URL with psql

Every server started here is stopped with SIGTERM at teardown; it must exit 0
and its stderr must hold no sanitizer report. The processes themselves (launch,
stop, psql, the command runner) are tests/harness.py's, shared with tests/pg.
"""
import contextlib
import datetime
import json
import os
import random
import re
import sqlite3
import string
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402  (tests/harness.py)
# Re-exported: the test files import them from here.
from harness import BIN, free_port, psql, run_cli, sanitizer_reports, uid  # noqa: E402,F401
from openapi_check import validate_response  # noqa: E402  (tests/openapi_check.py)

BACKEND = os.environ.get("TEST_BACKEND", "sqlite")

HTTP_TIMEOUT = 30  # seconds for one request (sanitizer builds are slow)

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

INSIGHT_KEYS = {"id", "title", "description", "content", "source", "author", "category_id",
                "priority", "status", "created_at", "updated_at", "published_at", "revision",
                "review_by", "owner", "reviewed_at", "tags", "category"}
TAG_KEYS = {"id", "name", "slug", "description", "color", "created_at", "usage_count"}
CATEGORY_KEYS = {"id", "name", "slug", "description", "parent_id", "color", "icon",
                 "created_at", "updated_at", "insight_count"}
PAGE_KEYS = {"total", "page", "page_size", "insights"}
STATUSES = ("draft", "published", "archived")
PRIORITIES = ("low", "medium", "high", "critical")

if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"TEST_BACKEND must be sqlite or postgresql, not {BACKEND!r}")
harness.require_binary()


# ---------------------------------------------------------------------------
# Small value helpers

def word(n=12):
    """A random lowercase word, unique in practice, for full-text searches."""
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def ids(page):
    """The insight ids of a page answer, in order."""
    return [i["id"] for i in page["insights"]]


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


# ---------------------------------------------------------------------------
# Databases: one class per backend, same interface (url, execute, query, drop)

class SqliteDatabase:
    def __init__(self, directory):
        self.path = os.path.join(str(directory), f"insights-{uid()}.db")
        self.url = "sqlite:///" + self.path  # absolute path: sqlite:////abs/path.db

    def execute(self, sql):
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.execute(sql)
            conn.commit()

    def query(self, sql):
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            return [tuple(str(v) for v in row) for row in conn.execute(sql).fetchall()]

    def drop(self):
        pass  # the temporary directory goes away with pytest's tmp_path


class PostgresDatabase(harness.PgDatabase):
    def __init__(self, directory):
        admin = os.environ.get("TEST_PG_URL")
        if not admin:
            raise pytest.UsageError("TEST_BACKEND=postgresql needs TEST_PG_URL (an admin URL)")
        super().__init__(admin, "t_")
        self.admin_url = admin


def new_database(directory):
    return (PostgresDatabase if BACKEND == "postgresql" else SqliteDatabase)(directory)


# ---------------------------------------------------------------------------
# HTTP client

class Client:
    """requests.Session bound to a base URL.

    Every response is checked against the envelope of the contract: JSON with
    an application/json content type, except 204 which has an empty body.
    Pass check=False for the responses outside it (CORS preflights)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method, path, check=True, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        resp = self.session.request(method, self.base_url + path, **kw)
        if check:
            check_envelope(resp)
        check_against_openapi(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def call(self, method, path, expect=200, **kw):
        """Sends a request that must succeed with status `expect`; returns the JSON."""
        resp = self.request(method, path, **kw)
        assert resp.status_code == expect, \
            f"{method} {path}: expected {expect}, got {resp.status_code}: {resp.text[:2000]}"
        return None if expect == 204 else resp.json()

    # Creation helpers: unique names by default, every field overridable.

    def create_tag(self, **fields):
        name = fields.pop("name", None) or f"tag-{uid()}"
        body = {"name": name, "slug": fields.pop("slug", None) or f"slug-{uid()}", **fields}
        tag = self.call("POST", "/tags", 201, json=body)
        assert_tag(tag)
        return tag

    def create_category(self, **fields):
        name = fields.pop("name", None) or f"cat-{uid()}"
        body = {"name": name, "slug": fields.pop("slug", None) or f"slug-{uid()}", **fields}
        cat = self.call("POST", "/categories", 201, json=body)
        assert_category(cat)
        return cat

    def create_insight(self, **fields):
        body = {"title": f"insight {uid()}", "description": "a description",
                "author": f"author-{uid()}", **fields}
        ins = self.call("POST", "/insights", 201, json=body)
        assert_insight(ins)
        return ins

    def insight(self, insight_id):
        ins = self.call("GET", f"/insights/{insight_id}")
        assert_insight(ins)
        return ins

    def tag(self, tag_id):
        return self.call("GET", f"/tags/{tag_id}")

    def category(self, category_id):
        return self.call("GET", f"/categories/{category_id}")

    def list_insights(self, **params):
        page = self.call("GET", "/insights", params=params)
        assert_page(page)
        return page

    def search(self, **body):
        page = self.call("POST", "/insights/search", json=body)
        assert_page(page)
        return page

    def all_insights(self, **params):
        """Every insight matching the filters, walking the pages."""
        out, page = [], 1
        while True:
            body = self.list_insights(page=page, page_size=100, **params)
            out.extend(body["insights"])
            if len(body["insights"]) < 100:
                assert len(out) == body["total"]
                return out
            page += 1

    def _all_by_skip(self, path):
        """Every row of a skip/limit list (/tags, /categories), walking the chunks."""
        out, skip = [], 0
        while True:
            chunk = self.call("GET", path, params={"skip": skip, "limit": 100})
            out.extend(chunk)
            if len(chunk) < 100:
                return out
            skip += 100

    def all_tags(self):
        return self._all_by_skip("/tags")

    def all_categories(self):
        return self._all_by_skip("/categories")


# ---------------------------------------------------------------------------
# Assertions on shapes and errors

def check_envelope(resp):
    where = f"{resp.request.method} {resp.request.path_url} -> {resp.status_code}"
    if resp.status_code in (204, 304):
        assert resp.content == b"", f"{where}: a {resp.status_code} must have an empty body, got {resp.content[:200]!r}"
        return
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", f"{where}: Content-Type {ctype!r}"
    try:
        json.loads(resp.content.decode("utf-8"))
    except ValueError as exc:
        raise AssertionError(f"{where}: body is not UTF-8 JSON ({exc}): {resp.content[:300]!r}")


def check_against_openapi(resp):
    """Every response must be what src/api/openapi.json documents for it."""
    ctype = resp.headers.get("Content-Type", "")
    if not resp.content:
        body = None
    elif ctype.startswith("application/json"):
        body = resp.json()
    else:
        body = resp.content
    validate_response(resp.request.method, resp.request.path_url, resp.status_code, body,
                      content_type=ctype or None, headers=resp.headers)


def assert_timestamp(value, nullable=False):
    if nullable and value is None:
        return
    assert isinstance(value, str) and TIMESTAMP_RE.match(value), f"bad timestamp {value!r}"


def assert_tag(tag):
    assert set(tag) == TAG_KEYS, tag
    assert isinstance(tag["id"], int) and tag["id"] > 0
    assert isinstance(tag["name"], str) and isinstance(tag["slug"], str)
    assert tag["description"] is None or isinstance(tag["description"], str)
    assert tag["color"] is None or re.match(r"^#[0-9A-Fa-f]{6}$", tag["color"])
    assert isinstance(tag["usage_count"], int) and tag["usage_count"] >= 0
    assert_timestamp(tag["created_at"])


def assert_category(cat, embedded=False):
    assert set(cat) == (CATEGORY_KEYS - {"insight_count"} if embedded else CATEGORY_KEYS), cat
    assert isinstance(cat["id"], int) and cat["id"] > 0
    assert cat["parent_id"] is None or isinstance(cat["parent_id"], int)
    assert_timestamp(cat["created_at"])
    assert_timestamp(cat["updated_at"])
    if not embedded:
        assert isinstance(cat["insight_count"], int) and cat["insight_count"] >= 0


def assert_insight(ins):
    assert set(ins) == INSIGHT_KEYS, ins
    assert isinstance(ins["id"], int) and ins["id"] > 0
    assert ins["priority"] in PRIORITIES and ins["status"] in STATUSES
    assert_timestamp(ins["created_at"])
    assert_timestamp(ins["updated_at"])
    assert_timestamp(ins["published_at"], nullable=True)
    assert isinstance(ins["revision"], int) and ins["revision"] >= 1
    assert ins["review_by"] is None or DATE_RE.match(ins["review_by"])
    assert ins["owner"] is None or isinstance(ins["owner"], str)
    assert_timestamp(ins["reviewed_at"], nullable=True)
    assert ins["updated_at"] >= ins["created_at"]
    assert isinstance(ins["tags"], list)
    for tag in ins["tags"]:
        assert_tag(tag)
    ids = [t["id"] for t in ins["tags"]]
    assert ids == sorted(set(ids)), f"tags must be distinct and ordered by id: {ids}"
    if ins["category"] is None:
        assert ins["category_id"] is None
    else:
        assert_category(ins["category"], embedded=True)
        assert ins["category"]["id"] == ins["category_id"]


def assert_page(body, page=None, page_size=None, total=None):
    # A list's full page also carries its keyset cursor (GET /insights).
    assert set(body) - {"cursor"} == PAGE_KEYS, body
    if "cursor" in body:
        assert isinstance(body["cursor"], str) and len(body["insights"]) == body["page_size"]
    for key in ("total", "page", "page_size"):
        assert isinstance(body[key], int)
    assert len(body["insights"]) <= body["page_size"]
    for ins in body["insights"]:
        assert_insight(ins)
    if page is not None:
        assert body["page"] == page
    if page_size is not None:
        assert body["page_size"] == page_size
    if total is not None:
        assert body["total"] == total


def assert_detail(resp, status, detail=None):
    """An error answer {"detail": "..."} with the given status (and text)."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:1000]}"
    body = resp.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    if detail is not None:
        assert body["detail"] == detail
    return body["detail"]


def validation_errors(resp):
    """The items of a 422 answer, each checked for the {"type","loc","msg"} shape."""
    assert resp.status_code == 422, f"expected 422, got {resp.status_code}: {resp.text[:1000]}"
    body = resp.json()
    assert set(body) == {"detail"}, body
    items = body["detail"]
    assert isinstance(items, list) and items, body
    for item in items:
        assert {"type", "loc", "msg"} <= set(item), item
        assert isinstance(item["type"], str) and isinstance(item["msg"], str) and item["msg"]
        assert isinstance(item["loc"], list) and item["loc"], item
        assert item["loc"][0] in ("body", "query", "path"), item
    return items


def assert_422(resp, *expected, exact=True):
    """A 422 answer listing the (type, loc) pairs expected (exactly those when exact)."""
    items = validation_errors(resp)
    got = {(i["type"], tuple(i["loc"])) for i in items}
    want = {(t, tuple(loc)) for t, loc in expected}
    if exact:
        assert got == want, f"validation errors {sorted(got)} != expected {sorted(want)}"
    else:
        assert want <= got, f"validation errors {sorted(got)} lack {sorted(want - got)}"
    return items


def assert_422_at(resp, loc_prefix, error_type=None):
    """A 422 whose every item has a loc starting with loc_prefix (and the type)."""
    items = validation_errors(resp)
    for item in items:
        assert item["loc"][:len(loc_prefix)] == list(loc_prefix), items
        assert error_type is None or item["type"] == error_type, items
    return items


# ---------------------------------------------------------------------------
# Server processes

class Server(harness.Server):
    """harness.Server on a database object (`db`), with a Client (`api`) once started."""

    def __init__(self, db, log_path, args=(), env=None, via_env=False, binary=None):
        super().__init__(db.url, log_path, args, env, via_env, binary)
        self.db = db
        self.api = None

    def wait_healthy(self, timeout=harness.START_TIMEOUT):
        super().wait_healthy(timeout)
        self.api = Client(self.url)
        return self


class Servers(harness.ServerGroup):
    """Starts servers and databases, and cleans them all up, checking each server."""

    def __init__(self, directory):
        super().__init__(directory)
        self.databases = []

    def database(self):
        db = new_database(self.directory)
        self.databases.append(db)
        return db

    def start(self, db=None, args=(), env=None, via_env=False, binary=None):
        """binary: another build of the service than $INSIGHTS_BIN (default)."""
        db = db or self.database()
        srv = Server(db, self.log_path(), args, env, via_env, binary).start()  # raises, with the log, on failure
        return self.add(srv)

    def close(self):
        try:
            super().close()
        finally:
            for db in self.databases:
                db.drop()


@contextlib.contextmanager
def servers_in(directory):
    servers = Servers(directory)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server per test module, on its own database; tests use unique names."""
    with servers_in(tmp_path_factory.mktemp("server")) as servers:
        yield servers.start()


@pytest.fixture(scope="module")
def api(server):
    return server.api


@pytest.fixture
def servers(tmp_path):
    """Starts extra servers and databases for one test: servers.start(db, args, env)."""
    with servers_in(tmp_path) as s:
        yield s


@pytest.fixture
def fresh_server(servers):
    """A server on an empty database of its own, for one test."""
    return servers.start()


@pytest.fixture
def fresh_api(fresh_server):
    return fresh_server.api
